import { Effect } from "effect"
import type { Server } from "node:net"

/**
 * Listens on a free loopback port for the scope; on release destroys the connections still open
 * (`sockets`, kept by the caller) and closes the server. Yields the port.
 */
export const listenOnLoopback = (server: Server, sockets: ReadonlySet<{ destroy: () => void }>) =>
  Effect.gen(function*() {
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () =>
        Effect.sync(() => {
          for (const socket of sockets) socket.destroy()
          server.close()
        })
    )
    const address = server.address()
    return typeof address === "object" && address !== null ? address.port : 0
  })

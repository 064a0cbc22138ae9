/**
 * The services as operators start them: real processes, real Postgres. Bad settings end in exit 1
 * with one line naming the variable; the listen address is loopback unless HOST says otherwise.
 */
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createServer, type Server } from "node:net"
import { networkInterfaces } from "node:os"
import { inject } from "vitest"
import { entries, freePort, spawnService } from "./processes.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

/** A process start transpiles with tsx: seconds normally, far more on a loaded machine. */
const slow = { timeout: 600_000 }

const quiet = { CHAOS_FAIL_BEFORE_RATE: "0", STARTUP_TIMEOUT_MS: "10000" }

/** Starts `entry`, expects it to exit 1 having printed one line that names `variable`. */
const failsNaming = (entry: string, env: Record<string, string>, variable: string) =>
  Effect.promise(async () => {
    const service = spawnService(entry, { ...quiet, ...env })
    const code = await service.exited
    return { code, lines: service.lines(), variable }
  }).pipe(Effect.tap(({ code, lines }) => {
    expect(code, lines.join("\n")).toBe(1)
    expect(lines, lines.join("\n")).toHaveLength(1)
    expect(lines[0]).toContain(variable)
  }))

/** A TCP connection attempt; resolves with whether it connected. */
const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    import("node:net").then(({ connect }) => {
      const socket = connect({ host, port, timeout: 2_000 })
      socket.once("connect", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
      socket.once("timeout", () => {
        socket.destroy()
        resolve(false)
      })
    })
  })

const nonLoopbackAddress = () =>
  Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === "IPv4")?.address

layer(TestDatabaseLive(adminUrl, template), { excludeTestServices: true })("service processes", (it) => {
  it.effect("SERVICE_TOKEN=\"\" exits 1 with one line naming it", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* failsNaming(entries.orders, { DATABASE_URL: db.url, SERVICE_TOKEN: "" }, "SERVICE_TOKEN")
    }), slow)

  it.effect(
    "an unparseable DATABASE_URL exits 1 at once, naming it (no connection attempts)",
    () =>
      Effect.gen(function*() {
        const result = yield* failsNaming(entries.inventory, { DATABASE_URL: "not a url" }, "DATABASE_URL")
        expect(result.lines[0]).not.toMatch(/unreachable/)
      }),
    slow
  )

  it.effect(
    "a service URL that is not a URL exits 1 naming it (edge-api and the orchestrator)",
    () =>
      Effect.gen(function*() {
        const db = yield* TestDatabase
        yield* Effect.all([
          failsNaming(
            entries.edge,
            { DATABASE_URL: db.url, PAYMENTS_SERVICE_URL: "not a url" },
            "PAYMENTS_SERVICE_URL"
          ),
          ...["ORDERS_SERVICE_URL", "INVENTORY_SERVICE_URL", "PAYMENTS_SERVICE_URL"].map((variable) =>
            failsNaming(entries.orchestrator, { DATABASE_URL: db.url, [variable]: "not a url" }, variable)
          )
        ], { concurrency: "unbounded" })
      }),
    slow
  )

  it.effect("a port in use exits 1 with one line naming the *_PORT variable", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const port = yield* Effect.promise(freePort)
      const squatter = yield* Effect.acquireRelease(
        Effect.async<Server>((resume) => {
          const server = createServer()
          server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
      )
      const result = yield* failsNaming(
        entries.inventory,
        { DATABASE_URL: db.url, INVENTORY_PORT: String(port) },
        "INVENTORY_PORT"
      )
      expect(result.lines[0]).toContain("in use")
      void squatter
    }).pipe(Effect.scoped), slow)

  it.effect(
    "binds 127.0.0.1 by default: not reachable on this machine's non-loopback address; HOST=0.0.0.0 is",
    () =>
      Effect.gen(function*() {
        const db = yield* TestDatabase
        const external = nonLoopbackAddress()
        if (external === undefined) {
          // Without a second address the test cannot tell loopback from all interfaces: fail, do not pass.
          return expect.fail("this machine has no non-loopback IPv4 address to probe (os.networkInterfaces())")
        }
        const start = (env: Record<string, string>) =>
          Effect.acquireRelease(
            Effect.promise(async () => {
              const port = await freePort()
              const service = spawnService(entries.orders, {
                ...quiet,
                DATABASE_URL: db.url,
                ORDERS_PORT: String(port),
                ...env
              })
              const [, host] = await service.waitFor(/Listening on http:\/\/([^:\s]+):\d+/, 300_000)
              return { port, host, service }
            }),
            ({ service }) => Effect.promise(service.stop)
          )
        const loopback = yield* start({})
        expect(loopback.host).toBe("127.0.0.1")
        expect(yield* Effect.promise(() => connects("127.0.0.1", loopback.port))).toBe(true)
        expect(yield* Effect.promise(() => connects(external, loopback.port))).toBe(false)
        const everywhere = yield* start({ HOST: "0.0.0.0" })
        expect(everywhere.host).toBe("0.0.0.0")
        expect(yield* Effect.promise(() => connects(external, everywhere.port))).toBe(true)
      }).pipe(Effect.scoped),
    slow
  )

  it.effect("logs one line per request: method, route, status, duration, trace id", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const port = yield* Effect.promise(freePort)
      const service = yield* Effect.acquireRelease(
        Effect.sync(() => spawnService(entries.orders, { ...quiet, DATABASE_URL: db.url, ORDERS_PORT: String(port) })),
        (service) => Effect.promise(service.stop)
      )
      yield* Effect.promise(() => service.waitFor(/Listening on/, 300_000))
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      const response = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/orders/8f0b3c52-58cb-4c4b-9bd6-1c1f4e0d8a11`, {
          headers: { authorization: "Bearer dev-service-token", traceparent: `00-${traceId}-00f067aa0ba902b7-01` }
        })
      )
      expect(response.status).toBe(404)
      yield* Effect.promise(() => service.waitFor(/GET \/orders\/:order_id 404/))
      const after = service.lines().slice(service.lines().findIndex((line) => line.includes("Listening on")) + 1)
      expect(after, after.join("\n")).toHaveLength(1)
      expect(after[0]).toMatch(new RegExp(`GET /orders/:order_id 404 \\d+\\.\\dms trace=${traceId}`))
    }).pipe(Effect.scoped), slow)
})

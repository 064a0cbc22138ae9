/**
 * A fault-injecting HTTP proxy in front of one downstream service. Each request other than
 * `/health` draws once:
 * - `before`: answer 503 without forwarding (nothing happened);
 * - `after`: forward, let the service apply the effect, then answer 503 (the answer is lost);
 * - `delay`: forward only after the caller's step timeout has passed (the caller gives up while
 *   the effect still happens);
 * - `reset`: destroy the connection, half the time before forwarding, half after.
 * What it injected is counted per kind.
 */
import { Effect } from "effect"
import { createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface FaultRates {
  readonly failBefore: number
  readonly failAfter: number
  readonly delay: number
  readonly reset: number
  readonly delayMs: number
}

export type FaultKind = "before" | "after" | "delay" | "resetBefore" | "resetAfter"

export interface Proxy {
  readonly url: string
  readonly faults: Record<FaultKind, number>
}

const draw = (rates: FaultRates): FaultKind | undefined => {
  let r = Math.random()
  if ((r -= rates.failBefore) < 0) return "before"
  if ((r -= rates.failAfter) < 0) return "after"
  if ((r -= rates.delay) < 0) return "delay"
  if ((r -= rates.reset) < 0) return Math.random() < 0.5 ? "resetBefore" : "resetAfter"
  return undefined
}

const unavailable = (res: ServerResponse, when: string) => {
  res.writeHead(503, { "content-type": "application/json" })
  res.end(JSON.stringify({ _tag: "ServiceUnavailable", message: `chaos proxy: injected 503 ${when} forwarding` }))
}

const forward = (target: URL, req: IncomingMessage, body: Buffer) =>
  new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host }
      },
      (response) => {
        const chunks: Array<Buffer> = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on(
          "end",
          () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) })
        )
        response.on("error", reject)
      }
    )
    upstream.on("error", reject)
    upstream.end(body)
  })

export const startProxy = (target: string, rates: FaultRates) =>
  Effect.acquireRelease(
    Effect.async<Proxy & { readonly close: () => void }>((resume) => {
      const to = new URL(target)
      const faults: Record<FaultKind, number> = { before: 0, after: 0, delay: 0, resetBefore: 0, resetAfter: 0 }
      const server = createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", async () => {
          const fault = req.url?.startsWith("/health") ? undefined : draw(rates)
          if (fault) faults[fault]++
          if (fault === "before") return unavailable(res, "before")
          if (fault === "resetBefore") return req.socket.destroy()
          if (fault === "delay") await new Promise((resolve) => setTimeout(resolve, rates.delayMs))
          try {
            const answer = await forward(to, req, Buffer.concat(chunks))
            if (fault === "after") return unavailable(res, "after")
            if (fault === "resetAfter") return req.socket.destroy()
            res.writeHead(answer.status, answer.headers)
            res.end(answer.body)
          } catch (error) {
            // The service itself is unreachable (restarting): what a real proxy answers.
            if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" })
            res.end(`chaos proxy: upstream failed: ${String(error)}`)
          }
        })
      })
      server.keepAliveTimeout = 1000
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          url: `http://127.0.0.1:${port}`,
          faults,
          close: () => {
            server.closeAllConnections()
            server.close()
          }
        }))
      })
    }),
    (proxy) => Effect.sync(proxy.close)
  )

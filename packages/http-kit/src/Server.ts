import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, Layer } from "effect"
import { createServer } from "node:http"
import { chaosMiddleware } from "./Chaos.ts"
import { malformedBodyMiddleware } from "./MalformedBody.ts"

/** A service's listen port setting, e.g. `servicePort("INVENTORY_PORT", 3001)`. */
export const servicePort = (name: string, fallback: number) => Config.port(name).pipe(Config.withDefault(fallback))

/**
 * Serves the `HttpApi.Api` in context on Node's HTTP server: chaos and malformed-body handling
 * inside, the access log (method, url, status — never headers) outside. Also outputs the
 * `HttpServer`, so a test listening on port 0 can read the bound address. On shutdown the server
 * stops accepting, and `server.close` waits for requests in flight.
 */
export const serveApi = (port: number) =>
  HttpApiBuilder.serve((app) => app.pipe(malformedBodyMiddleware, chaosMiddleware, HttpMiddleware.logger)).pipe(
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port }))
  )

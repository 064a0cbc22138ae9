import type { ServiceRole } from "@ecommerce/db"
import type { HttpApi, HttpApp } from "@effect/platform"
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { BearerAuthLive } from "./BearerAuth.ts"
import { Chaos, chaosMiddleware } from "./Chaos.ts"
import { ServiceDatabase } from "./ServiceDatabase.ts"
import { malformedBodyMiddleware } from "./MalformedBody.ts"

/** A service's listen port setting, e.g. `servicePort("INVENTORY_PORT", 3001)`. */
export const servicePort = (name: string, fallback: number) => Config.port(name).pipe(Config.withDefault(fallback))

/** Chaos and malformed-body handling, inside the API where responses are not yet sent. */
const ServiceMiddlewareLive = HttpApiBuilder.middleware(
  Effect.map(Chaos, (settings) => (app: HttpApp.Default) => chaosMiddleware(settings)(malformedBodyMiddleware(app)))
)

/**
 * Serves the `HttpApi.Api` in context on Node's HTTP server, with the access log (method, url,
 * status — never headers). Also outputs the `HttpServer`, so a test listening on port 0 can read
 * the bound address. On shutdown the server stops accepting, and `server.close` waits for requests
 * in flight.
 */
export const serveApi = (port: number) =>
  HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
    Layer.provide(ServiceMiddlewareLive),
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port }))
  )

/**
 * A whole service process: its HttpApi served on the configured port, with bearer auth from
 * `SERVICE_TOKEN`, chaos from `CHAOS_*` and a pool logged in as the service's role. Entrypoints
 * `Layer.launch` it.
 */
export const ServiceLive = <E, R>(options: {
  readonly api: Layer.Layer<HttpApi.Api, E, R>
  readonly role: ServiceRole
  readonly port: Config.Config<number>
}) =>
  Layer.unwrapEffect(Effect.map(options.port, serveApi)).pipe(
    Layer.provide(options.api),
    Layer.provide([BearerAuthLive, Chaos.Live]),
    Layer.provide(ServiceDatabase(options.role))
  )

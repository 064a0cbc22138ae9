import { ServiceDatabase, type ServiceRole } from "@ecommerce/db"
import type { HttpApi, HttpApp } from "@effect/platform"
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { BearerAuthLive } from "./BearerAuth.ts"
import { Chaos, chaosMiddleware } from "./Chaos.ts"
import { malformedBodyMiddleware } from "./MalformedBody.ts"

/** A service's listen port setting, e.g. `servicePort("INVENTORY_PORT", 3001)`. */
export const servicePort = (name: string, fallback: number) => Config.port(name).pipe(Config.withDefault(fallback))

/** Chaos and malformed-body handling, inside the API where responses are not yet sent. */
const ServiceMiddlewareLive = HttpApiBuilder.middleware(
  Effect.map(Chaos, (settings) => (app: HttpApp.Default) => chaosMiddleware(settings)(malformedBodyMiddleware(app)))
)

/**
 * Builds a layer in its own memo map. HttpApiBuilder keeps its router and middleware in global,
 * memoized layers, so two APIs served from one process (the edge API and payments in a test, all
 * services in the saga's integration tests) would otherwise share one router and clash.
 */
const isolated = <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const memoMap = yield* Layer.makeMemoMap
      return yield* Layer.buildWithMemoMap(layer, memoMap, yield* Effect.scope)
    })
  )

/**
 * Serves `api` on Node's HTTP server, with the access log (method, url, status — never headers).
 * Also outputs the `HttpServer`, so a test listening on port 0 can read the bound address. On
 * shutdown the server stops accepting, and `server.close` waits for requests in flight.
 */
export const serveApi = <E, R>(api: Layer.Layer<HttpApi.Api, E, R>, port: number) =>
  isolated(
    HttpApiBuilder.serve(HttpMiddleware.logger).pipe(
      Layer.provide(ServiceMiddlewareLive),
      Layer.provide(api),
      HttpServer.withLogAddress,
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port }))
    )
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
  Layer.unwrapEffect(Effect.map(options.port, (port) => serveApi(options.api, port))).pipe(
    Layer.provide([BearerAuthLive, Chaos.Live]),
    Layer.provide(ServiceDatabase(options.role))
  )

import { ServiceDatabase, type ServiceRole } from "@ecommerce/db"
import type { HttpApi, HttpApp } from "@effect/platform"
import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { accessLog } from "./AccessLog.ts"
import { BearerAuthLive } from "./BearerAuth.ts"
import { Chaos, chaosMiddleware } from "./Chaos.ts"
import { malformedBodyMiddleware } from "./MalformedBody.ts"
import { requestGuard } from "./RequestGuard.ts"
import { MaxBodyBytes, type PortSetting, ServiceHost, ServiceTokenNotEmpty } from "./ServerConfig.ts"
import { exitOnStartupFailure } from "./StartupFailure.ts"

export * from "./ServerConfig.ts"

export interface ServeOptions {
  readonly port: number
  readonly host: string
  readonly maxBodyBytes: number
}

/** Inside the API, where responses are not yet sent: chaos, then the body guard, then decoding. */
const serviceMiddleware = (maxBodyBytes: number) =>
  HttpApiBuilder.middleware(
    Effect.map(Chaos, (settings) => (app: HttpApp.Default) =>
      chaosMiddleware(settings)(requestGuard(maxBodyBytes)(malformedBodyMiddleware(app))))
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
 * Serves `api` on Node's HTTP server with one access-log line and the duration metric per request
 * (method, route, status — never headers). Also outputs the `HttpServer`, so a test listening on
 * port 0 can read the bound address. On shutdown the server stops accepting, and `server.close`
 * waits for requests in flight.
 */
export const serveApi = <E, R>(api: Layer.Layer<HttpApi.Api, E, R>, options: ServeOptions) =>
  isolated(
    HttpApiBuilder.serve(accessLog).pipe(
      Layer.provide(serviceMiddleware(options.maxBodyBytes)),
      Layer.provide(api),
      HttpServer.withLogAddress,
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: options.host }))
    )
  )

/**
 * A whole service process: its HttpApi served on `HOST` (default 127.0.0.1) and the configured port,
 * with bearer auth from `SERVICE_TOKEN`, chaos from `CHAOS_*`, `MAX_BODY_BYTES`, and a pool logged
 * in as the service's role. Every setting is read before anything connects; a bad one, a port in
 * use or an unreachable database ends the process with exit status 1 and one line naming it.
 * Entrypoints `Layer.launch` it.
 */
export const ServiceLive = <E, R>(options: {
  readonly api: Layer.Layer<HttpApi.Api, E, R>
  readonly role: ServiceRole
  readonly port: PortSetting
}) =>
  exitOnStartupFailure(
    Layer.unwrapEffect(
      Effect.gen(function*() {
        const [port, host, maxBodyBytes] = yield* Config.all([options.port.config, ServiceHost, MaxBodyBytes])
        yield* ServiceTokenNotEmpty
        return serveApi(options.api, { port, host, maxBodyBytes }).pipe(
          Layer.provide([BearerAuthLive, Chaos.Live]),
          Layer.provide(ServiceDatabase(options.role))
        )
      })
    ),
    options.port.name
  )

/**
 * Test support: a service's HttpApi served on a free loopback port against the per-file test
 * database, logged in as the service's own role; a typed client of it; raw requests to it.
 */
import { IdempotencyKey } from "@ecommerce/contracts"
import { rolePassword, type ServiceRole, withCredentials } from "@ecommerce/db"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { type HttpApi, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { BearerAuth } from "./BearerAuth.ts"
import { Chaos, type ChaosSettings } from "./Chaos.ts"
import type { ClientOptions } from "./clients.ts"
import { serveApi } from "./Server.ts"

export const testToken = Redacted.make("test-service-token")

/** A pool on the test database as `role`, as the service would have in production. */
export const rolePool = (role: ServiceRole) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const password = yield* rolePassword(role)
      return PgClient.layer({
        url: Redacted.make(withCredentials(db.url, role, password)),
        maxConnections: 10,
        applicationName: role
      })
    })
  )

export const testServer = <E, R>(options: {
  readonly api: Layer.Layer<HttpApi.Api, E, R>
  readonly role: ServiceRole
  readonly chaos?: ChaosSettings
  readonly maxBodyBytes?: number
}) =>
  serveApi(options.api, { port: 0, host: "127.0.0.1", maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024 }).pipe(
    Layer.provide([BearerAuth(testToken), Chaos.layer(options.chaos ?? { failBeforeRate: 0, failAfterRate: 0 })]),
    Layer.provide(rolePool(options.role)),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

/** `http://127.0.0.1:<port>` of the `HttpServer` in context. */
export const serverUrl = Effect.map(
  HttpServer.HttpServer,
  (server) => server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : "http://invalid"
)

/** A typed client (`OrdersClient.layer`, ...) of the server in context, with `token` (the services' by default). */
export const clientOf = <Client>(
  make: (options: ClientOptions) => Layer.Layer<Client, never, HttpClient.HttpClient>,
  token: Redacted.Redacted<string> = testToken
) => Layer.unwrapEffect(Effect.map(serverUrl, (baseUrl) => make({ baseUrl, token })))

/**
 * One service under test, for `layer(...)` from @effect/vitest: its API served as its own role, a
 * typed client of it, Node's HTTP client (for raw requests) and the file's own database, all in
 * context.
 */
export const serviceTestLayer = <Client, E, R>(options: {
  readonly api: Layer.Layer<HttpApi.Api, E, R>
  readonly role: ServiceRole
  readonly client: (options: ClientOptions) => Layer.Layer<Client, never, HttpClient.HttpClient>
}) =>
  clientOf(options.client).pipe(
    Layer.provideMerge(testServer(options)),
    Layer.provideMerge(NodeHttpClient.layerUndici),
    Layer.provideMerge(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")))
  )

/** A request the typed client cannot send (no token, broken bodies), to the server in context. */
export const rawRequest = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const response = yield* HttpClient.execute(HttpClientRequest.prependUrl(request, yield* serverUrl))
    return { status: response.status, body: (yield* response.json) as { _tag?: string; message?: string } }
  })

/** Sends `request` with the services' token. */
export const withTestToken = HttpClientRequest.bearerToken(testToken)

/** Headers with a fresh Idempotency-Key, for one typed-client call. */
export const freshKey = () => ({ "idempotency-key": IdempotencyKey.make(randomUUID()) })

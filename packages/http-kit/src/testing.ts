/**
 * Test support: a service's HttpApi served on a free loopback port against the per-file test
 * database, logged in as the service's own role, plus the base URL to point a client at.
 */
import { rolePassword, type ServiceRole, withCredentials } from "@ecommerce/db"
import { TestDatabase } from "@ecommerce/db/testing"
import type { HttpApi } from "@effect/platform"
import { HttpServer } from "@effect/platform"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { BearerAuth } from "./BearerAuth.ts"
import { Chaos, type ChaosSettings } from "./Chaos.ts"
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

import { ConfigProvider, Effect, Layer, Option, Redacted } from "effect"
import { DatabaseConfig } from "./DatabaseConfig.ts"
import { withCredentials } from "./DatabaseUrl.ts"
import { PgLive } from "./PgLive.ts"
import { rolePassword, type ServiceRole } from "./Roles.ts"

/**
 * The connection pool of one service, logged in as its own role (see `npm run db:roles`). Where the
 * database is comes from the shared `DATABASE_*` settings; who connects is fixed by the service, with
 * the password from `<ROLE>_DATABASE_PASSWORD`. With `DATABASE_URL`, its credentials are replaced.
 */
export const ServiceDatabase = (role: ServiceRole, options: { readonly maxConnections?: number } = {}) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const password = yield* rolePassword(role)
      const database = yield* DatabaseConfig
      const overrides = new Map<string, string>([
        ["DATABASE_USER", role],
        ["DATABASE_PASSWORD", Redacted.value(password)]
      ])
      Option.map(
        database.url,
        (url) => overrides.set("DATABASE_URL", withCredentials(Redacted.value(url), role, password))
      )
      const outer = yield* Effect.configProviderWith(Effect.succeed)
      const provider = ConfigProvider.fromMap(overrides).pipe(ConfigProvider.orElse(() => outer))
      return PgLive({ applicationName: role, maxConnections: options.maxConnections ?? 10 }).pipe(
        Layer.provide(Layer.setConfigProvider(provider))
      )
    })
  )

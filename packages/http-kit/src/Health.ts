import { type HealthGroup, HealthStatus } from "@ecommerce/contracts"
import { type HttpApi, HttpApiBuilder, type HttpApiGroup } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, type Layer } from "effect"

/**
 * `GET /health` of a service's `api`, which adds the contracts' shared `HealthGroup` as every
 * service's does: ok once the database answers.
 */
export const HealthLive = <ApiId extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<ApiId, Groups, E, R>,
  service: string
): Layer.Layer<HttpApiGroup.ApiGroup<ApiId, "health">, never, SqlClient.SqlClient> =>
  HttpApiBuilder.group(
    // The builder cannot see the health group inside a generic group union; it is that group.
    api as unknown as HttpApi.HttpApi<ApiId, typeof HealthGroup>,
    "health",
    (handlers) =>
      handlers.handle("health", () =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1`).pipe(
          Effect.orDie,
          Effect.as(new HealthStatus({ status: "ok", service }))
        ))
  )

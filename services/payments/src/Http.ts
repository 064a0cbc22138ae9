import { HealthStatus, PaymentsApi } from "@ecommerce/contracts"
import { HttpApiBuilder } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { Payments } from "./Payments.ts"

const HealthLive = HttpApiBuilder.group(PaymentsApi, "health", (handlers) =>
  handlers.handle("health", () =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1`).pipe(
      Effect.orDie,
      Effect.as(new HealthStatus({ status: "ok", service: "payments" }))
    )))

const PaymentsLive = HttpApiBuilder.group(PaymentsApi, "payments", (handlers) =>
  Effect.gen(function*() {
    const payments = yield* Payments
    return handlers
      .handle("authorize", ({ headers, payload }) => payments.authorize(headers["idempotency-key"], payload))
      .handle("capture", ({ headers, path }) => payments.capture(headers["idempotency-key"], path.authorization_id))
      .handle("void", ({ headers, path }) => payments.void(headers["idempotency-key"], path.authorization_id))
      .handle("refund", ({ headers, path }) => payments.refund(headers["idempotency-key"], path.authorization_id))
      .handle("get", ({ path }) => payments.get(path.authorization_id))
  }))

/** The payments HttpApi; needs the pool (SqlClient) and the `Authorization` implementation. */
export const PaymentsApiLive = HttpApiBuilder.api(PaymentsApi).pipe(
  Layer.provide([HealthLive, PaymentsLive]),
  Layer.provide(Payments.Default)
)

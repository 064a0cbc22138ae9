import { EdgeApi, HealthStatus } from "@ecommerce/contracts"
import { HttpApiBuilder } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { Checkout } from "./Checkout.ts"

const HealthLive = HttpApiBuilder.group(EdgeApi, "health", (handlers) =>
  handlers.handle("health", () =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1`).pipe(
      Effect.orDie,
      Effect.as(new HealthStatus({ status: "ok", service: "edge-api" }))
    )))

const CheckoutLive = HttpApiBuilder.group(EdgeApi, "checkout", (handlers) =>
  Effect.gen(function*() {
    const checkout = yield* Checkout
    return handlers
      .handle("checkout", ({ headers, payload }) => checkout.checkout(headers["idempotency-key"], payload))
      .handle("getOrder", ({ path }) => checkout.getOrder(path.order_id))
      .handle("cancelOrder", ({ headers, path, payload }) =>
        checkout.cancelOrder(headers["idempotency-key"], path.order_id, payload))
  }))

/**
 * The edge HttpApi; needs the pool (SqlClient), the `Authorization` implementation and a
 * `PaymentsClient`.
 */
export const EdgeApiLive = HttpApiBuilder.api(EdgeApi).pipe(
  Layer.provide([HealthLive, CheckoutLive]),
  Layer.provide(Checkout.Default)
)

import { OrdersApi } from "@ecommerce/contracts"
import { HealthLive, RetentionLive } from "@ecommerce/http-kit"
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Orders } from "./Orders.ts"

const OrdersLive = HttpApiBuilder.group(OrdersApi, "orders", (handlers) =>
  Effect.gen(function*() {
    const orders = yield* Orders
    return handlers
      .handle("create", ({ headers, payload }) => orders.create(headers["idempotency-key"], payload))
      .handle("get", ({ path }) => orders.get(path.order_id))
      .handle("confirm", ({ headers, path }) => orders.confirm(headers["idempotency-key"], path.order_id))
      .handle(
        "cancel",
        ({ headers, path, payload }) => orders.cancel(headers["idempotency-key"], path.order_id, payload)
      )
  }))

/** The orders HttpApi; needs the pool (SqlClient) and the `Authorization` implementation. */
/**
 * Cancellation marks go after the same window as idempotency keys: a late create they refuse is a
 * retry of the saga's own call, and a retry that old has lost its idempotency key too.
 */
const CancellationMarksRetention = RetentionLive([{ table: "orders.cancellation_marks", column: "created_at" }])

export const OrdersApiLive = HttpApiBuilder.api(OrdersApi).pipe(
  Layer.provide([HealthLive(OrdersApi, "orders"), OrdersLive, CancellationMarksRetention]),
  Layer.provide(Orders.Default)
)

import { HealthStatus, OrdersApi } from "@ecommerce/contracts"
import { HttpApiBuilder } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { Orders } from "./Orders.ts"

const HealthLive = HttpApiBuilder.group(OrdersApi, "health", (handlers) =>
  handlers.handle("health", () =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1`).pipe(
      Effect.orDie,
      Effect.as(new HealthStatus({ status: "ok", service: "orders" }))
    )))

const OrdersLive = HttpApiBuilder.group(OrdersApi, "orders", (handlers) =>
  Effect.gen(function*() {
    const orders = yield* Orders
    return handlers
      .handle("create", ({ headers, payload }) => orders.create(headers["idempotency-key"], payload))
      .handle("get", ({ path }) => orders.get(path.order_id))
      .handle("confirm", ({ headers, path }) => orders.confirm(headers["idempotency-key"], path.order_id))
      .handle("cancel", ({ headers, path, payload }) => orders.cancel(headers["idempotency-key"], path.order_id, payload))
  }))

/** The orders HttpApi; needs the pool (SqlClient) and the `Authorization` implementation. */
export const OrdersApiLive = HttpApiBuilder.api(OrdersApi).pipe(
  Layer.provide([HealthLive, OrdersLive]),
  Layer.provide(Orders.Default)
)

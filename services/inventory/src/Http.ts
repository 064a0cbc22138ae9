import { InventoryApi } from "@ecommerce/contracts"
import { HealthLive } from "@ecommerce/http-kit"
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Inventory } from "./Inventory.ts"

const ReservationsLive = HttpApiBuilder.group(InventoryApi, "reservations", (handlers) =>
  Effect.gen(function*() {
    const inventory = yield* Inventory
    return handlers
      .handle("reserve", ({ headers, payload }) => inventory.reserve(headers["idempotency-key"], payload))
      .handle("release", ({ headers, path }) => inventory.release(headers["idempotency-key"], path.order_id))
      .handle("get", ({ path }) => inventory.getReservation(path.order_id))
  }))

const StockLive = HttpApiBuilder.group(InventoryApi, "stock", (handlers) =>
  Effect.gen(function*() {
    const inventory = yield* Inventory
    return handlers
      .handle("get", ({ path }) => inventory.getStock(path.sku))
      .handle("set", ({ headers, path, payload }) =>
        inventory.setStock(headers["idempotency-key"], path.sku, payload.onHand))
  }))

/** The inventory HttpApi; needs the pool (SqlClient) and the `Authorization` implementation. */
export const InventoryApiLive = HttpApiBuilder.api(InventoryApi).pipe(
  Layer.provide([HealthLive(InventoryApi, "inventory"), ReservationsLive, StockLive]),
  Layer.provide(Inventory.Default)
)

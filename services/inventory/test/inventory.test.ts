/**
 * Stock and reservations over HTTP: set and read stock, reserve all lines or none, one reservation
 * per order, release exactly once.
 */
import { InventoryClient } from "@ecommerce/http-kit/clients"
import { freshKey } from "@ecommerce/http-kit/testing"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { line, newOrder, reserve, setStock, stockOf, TestLive, uniqueSku } from "./inventoryFixtures.ts"

layer(TestLive, { excludeTestServices: true })("inventory over HTTP", (it) => {
  it.effect("sets and reads stock; an unknown sku is StockNotFound", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("SET")
      expect(yield* setStock(sku, 7)).toMatchObject({ sku, onHand: 7, reserved: 0, available: 7 })
      expect(yield* stockOf(sku)).toMatchObject({ onHand: 7, available: 7 })
      const error = yield* Effect.flip(stockOf(uniqueSku("NOPE")))
      expect(error._tag).toBe("StockNotFound")
    }))

  it.effect("reserves all lines, and releases them back exactly once", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const [a, b] = [uniqueSku("A"), uniqueSku("B")]
      yield* setStock(a, 10)
      yield* setStock(b, 5)
      const orderId = newOrder()
      // Two lines of the same sku are summed.
      const reservation = yield* reserve(orderId, [line(a, 2), line(b, 5), line(a, 1)])
      expect(reservation.status).toBe("HELD")
      expect(reservation.items.map((item) => [item.sku, item.quantity])).toEqual([[a, 3], [b, 5]].sort())
      expect(yield* stockOf(a)).toMatchObject({ onHand: 10, reserved: 3, available: 7 })
      expect(yield* stockOf(b)).toMatchObject({ reserved: 5, available: 0 })
      expect((yield* client.reservations.get({ path: { order_id: orderId } })).status).toBe("HELD")

      const released = yield* client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
      expect(released.status).toBe("RELEASED")
      // A second release under another key changes nothing.
      yield* client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
      expect(yield* stockOf(a)).toMatchObject({ reserved: 0, available: 10 })
      expect(yield* stockOf(b)).toMatchObject({ reserved: 0, available: 5 })
    }))

  it.effect("InsufficientStock names the sku and reserves nothing", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const [a, b] = [uniqueSku("A"), uniqueSku("B")]
      yield* setStock(a, 10)
      yield* setStock(b, 1)
      const orderId = newOrder()
      const error = yield* Effect.flip(reserve(orderId, [line(a, 4), line(b, 2)]))
      expect(error).toMatchObject({ _tag: "InsufficientStock", sku: b, requested: 2, available: 1 })
      expect(yield* stockOf(a)).toMatchObject({ reserved: 0 })
      const missing = yield* Effect.flip(client.reservations.get({ path: { order_id: orderId } }))
      expect(missing._tag).toBe("ReservationNotFound")
      // A sku inventory has never heard of has no stock.
      const unknown = yield* Effect.flip(reserve(newOrder(), [line(uniqueSku("GHOST"), 1)]))
      expect(unknown).toMatchObject({ _tag: "InsufficientStock", available: 0 })
    }))

  it.effect("one reservation per order: the same lines again return it, other lines conflict", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("ONE")
      yield* setStock(sku, 10)
      const orderId = newOrder()
      yield* reserve(orderId, [line(sku, 2)])
      const again = yield* reserve(orderId, [line(sku, 2)])
      expect(again.status).toBe("HELD")
      expect(yield* stockOf(sku)).toMatchObject({ reserved: 2 })
      const conflict = yield* Effect.flip(reserve(orderId, [line(sku, 3)]))
      expect(conflict).toMatchObject({ _tag: "ReservationConflict", status: "HELD" })
    }))

  it.effect("releasing an order that reserved nothing succeeds and blocks a late reserve", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const sku = uniqueSku("LATE")
      yield* setStock(sku, 10)
      const orderId = newOrder()
      const released = yield* client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
      expect(released).toMatchObject({ status: "RELEASED", items: [] })
      const late = yield* Effect.flip(reserve(orderId, [line(sku, 1)]))
      expect(late).toMatchObject({ _tag: "ReservationConflict", status: "RELEASED" })
      expect(yield* stockOf(sku)).toMatchObject({ reserved: 0 })
    }))

  it.effect("on-hand cannot go below what is reserved", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("LOW")
      yield* setStock(sku, 10)
      yield* reserve(newOrder(), [line(sku, 6)])
      const error = yield* Effect.flip(setStock(sku, 5))
      expect(error).toMatchObject({ _tag: "StockBelowReserved", reserved: 6, onHand: 5 })
      expect(yield* setStock(sku, 6)).toMatchObject({ onHand: 6, available: 0 })
    }))
})

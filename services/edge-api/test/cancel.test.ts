/**
 * Cancelling an order over HTTP, and an order the edge does not know.
 */
import { CancelCheckout, OrderCancellationRequested, OrderId } from "@ecommerce/contracts"
import { EdgeApiClient } from "@ecommerce/http-kit/clients"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { checkout, newKey, order, TestLive, written } from "./checkoutFixtures.ts"

layer(TestLive, { excludeTestServices: true })("edge API over HTTP: cancel", (it) => {
  it.effect("cancel writes an OrderCancellationRequested row with the order's data: 202", () =>
    Effect.gen(function*() {
      const client = yield* EdgeApiClient
      const { orderId } = yield* checkout(order())
      const accepted = yield* client.checkout.cancelOrder({
        path: { order_id: orderId },
        headers: { "idempotency-key": newKey() },
        payload: new CancelCheckout({ reason: "changed my mind" })
      })
      expect(accepted.orderId).toBe(orderId)
      const rows = yield* written(orderId)
      expect(rows.outbox.map((row) => row.eventType)).toEqual(["OrderPlaced", "OrderCancellationRequested"])
      const payload = yield* Schema.decodeUnknown(OrderCancellationRequested)(rows.outbox[1]!.payload)
      expect(payload).toMatchObject({
        orderId,
        amount: 3048,
        reason: "changed my mind",
        authorizationId: rows.ledger[0]!.authorizationId
      })
    }))

  it.effect("an unknown order is OrderNotFound for get and cancel, and cancel writes nothing", () =>
    Effect.gen(function*() {
      const client = yield* EdgeApiClient
      const orderId = OrderId.make(randomUUID())
      expect((yield* Effect.flip(client.checkout.getOrder({ path: { order_id: orderId } })))._tag).toBe("OrderNotFound")
      const error = yield* Effect.flip(client.checkout.cancelOrder({
        path: { order_id: orderId },
        headers: { "idempotency-key": newKey() },
        payload: new CancelCheckout({})
      }))
      expect(error._tag).toBe("OrderNotFound")
      expect((yield* written(orderId)).outbox).toEqual([])
    }))
})

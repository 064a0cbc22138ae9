import {
  CancelOrder,
  CreateOrder,
  Currency,
  CustomerId,
  MinorUnits,
  OrderId,
  OrderLine,
  Sku
} from "@ecommerce/contracts"
import { OrdersClient } from "@ecommerce/http-kit/clients"
import { clientOf, freshKey, rawRequest, serviceTestLayer, withTestToken } from "@ecommerce/http-kit/testing"
import { HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { OrdersApiLive } from "../src/Http.ts"

const TestLive = serviceTestLayer({ api: OrdersApiLive, role: "orders", client: OrdersClient.layer })

const newOrder = (overrides: Partial<{ amount: number }> = {}) =>
  new CreateOrder({
    orderId: OrderId.make(randomUUID()),
    customerId: CustomerId.make("cust-1"),
    items: [new OrderLine({ sku: Sku.make("MUG-BLUE"), quantity: 2, unitPrice: MinorUnits.make(899) })],
    amount: MinorUnits.make(overrides.amount ?? 1798),
    currency: Currency.make("EUR")
  })

const create = (order: CreateOrder, headers = freshKey()) =>
  Effect.flatMap(OrdersClient, (client) => client.orders.create({ headers, payload: order }))
const confirm = (orderId: OrderId, headers = freshKey()) =>
  Effect.flatMap(OrdersClient, (client) => client.orders.confirm({ path: { order_id: orderId }, headers }))
const cancel = (orderId: OrderId, reason = "declined", headers = freshKey()) =>
  Effect.flatMap(
    OrdersClient,
    (client) => client.orders.cancel({ path: { order_id: orderId }, headers, payload: new CancelOrder({ reason }) })
  )
const get = (orderId: OrderId) =>
  Effect.flatMap(OrdersClient, (client) => client.orders.get({ path: { order_id: orderId } }))

layer(TestLive, { excludeTestServices: true })("orders over HTTP", (it) => {
  it.effect("creates a PENDING order and reads it back", () =>
    Effect.gen(function*() {
      const order = newOrder()
      const created = yield* create(order)
      expect(created).toMatchObject({ orderId: order.orderId, status: "PENDING", amount: 1798, reason: null })
      expect(created.items[0]).toMatchObject({ sku: "MUG-BLUE", quantity: 2, unitPrice: 899 })
      expect(yield* get(order.orderId)).toEqual(created)
    }))

  it.effect("create is idempotent on the order id; other data for the id is OrderConflict", () =>
    Effect.gen(function*() {
      const order = newOrder()
      yield* create(order)
      yield* confirm(order.orderId)
      // Same order under a new key: returned as it is now, not reset.
      expect((yield* create(order)).status).toBe("CONFIRMED")
      const conflict = yield* Effect.flip(create(new CreateOrder({ ...order, amount: MinorUnits.make(1) })))
      expect(conflict._tag).toBe("OrderConflict")
    }))

  it.effect("PENDING -> CONFIRMED -> CANCELLED; repeats succeed without change", () =>
    Effect.gen(function*() {
      const order = newOrder()
      yield* create(order)
      expect((yield* confirm(order.orderId)).status).toBe("CONFIRMED")
      expect((yield* confirm(order.orderId)).status).toBe("CONFIRMED")
      expect(yield* cancel(order.orderId, "customer asked")).toMatchObject({
        status: "CANCELLED",
        reason: "customer asked"
      })
      // Cancelling again keeps the first reason.
      expect(yield* cancel(order.orderId, "again")).toMatchObject({ status: "CANCELLED", reason: "customer asked" })
    }))

  it.effect("confirming a cancelled order is OrderTransitionRejected (409)", () =>
    Effect.gen(function*() {
      const order = newOrder()
      yield* create(order)
      yield* cancel(order.orderId)
      const error = yield* Effect.flip(confirm(order.orderId))
      expect(error).toMatchObject({ _tag: "OrderTransitionRejected", status: "CANCELLED", requested: "CONFIRMED" })
      expect((yield* get(order.orderId)).status).toBe("CANCELLED")
    }))

  it.effect("an unknown order is OrderNotFound on get, confirm and cancel", () =>
    Effect.gen(function*() {
      const orderId = OrderId.make(randomUUID())
      expect((yield* Effect.flip(get(orderId)))._tag).toBe("OrderNotFound")
      expect((yield* Effect.flip(confirm(orderId)))._tag).toBe("OrderNotFound")
      expect((yield* Effect.flip(cancel(orderId)))._tag).toBe("OrderNotFound")
    }))

  it.effect("cancelling a missing order is 404 but marks the id: a create arriving later is OrderConflict, and nothing is stored", () =>
    Effect.gen(function*() {
      const order = newOrder()
      const headers = freshKey()
      expect((yield* Effect.flip(cancel(order.orderId, "the order saga compensated", headers)))._tag).toBe(
        "OrderNotFound"
      )
      // The saga's create, timed out earlier, lands now (under its own key, then under any other).
      const late = yield* Effect.flip(create(order))
      expect(late).toMatchObject({
        _tag: "OrderConflict",
        message: expect.stringContaining("cancelled before it was created")
      })
      expect((yield* Effect.flip(create(order)))._tag).toBe("OrderConflict")
      expect((yield* Effect.flip(get(order.orderId)))._tag).toBe("OrderNotFound")
      // The compensation retried with its key, or again with another: still nothing to undo.
      expect((yield* Effect.flip(cancel(order.orderId, "the order saga compensated", headers)))._tag).toBe(
        "OrderNotFound"
      )
      expect((yield* Effect.flip(cancel(order.orderId)))._tag).toBe("OrderNotFound")
    }))

  it.effect("a create and a cancel racing on one id never leave a PENDING order", () =>
    Effect.gen(function*() {
      const orders = Array.from({ length: 20 }, () => newOrder())
      yield* Effect.forEach(orders, (order) =>
        Effect.all([Effect.either(create(order)), Effect.either(cancel(order.orderId))], { concurrency: 2 }), {
        concurrency: 5
      })
      for (const order of orders) {
        const status = yield* get(order.orderId).pipe(
          Effect.map((o) =>
            o.status
          ),
          Effect.orElseSucceed(() => "absent")
        )
        expect(status === "CANCELLED" || status === "absent").toBe(true)
      }
    }))

  it.effect("same key replays the first response; same key, other body is 422", () =>
    Effect.gen(function*() {
      const order = newOrder()
      yield* create(order)
      const headers = freshKey()
      const first = yield* cancel(order.orderId, "out of stock", headers)
      const replay = yield* cancel(order.orderId, "out of stock", headers)
      expect(replay).toEqual(first)
      const reused = yield* Effect.flip(cancel(order.orderId, "something else", headers))
      expect(reused._tag).toBe("IdempotencyKeyReused")
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql`select 1 from orders.idempotency_keys where key = ${headers["idempotency-key"]}`
      expect(rows).toHaveLength(1)
    }))

  it.effect("401 without a token or with a wrong one; 400 naming the field for a bad body", () =>
    Effect.gen(function*() {
      const order = newOrder()
      const wrong = yield* Effect.flip(
        create(order).pipe(Effect.provide(clientOf(OrdersClient.layer, Redacted.make("nope"))))
      )
      expect(wrong._tag).toBe("Unauthorized")
      expect((yield* rawRequest(HttpClientRequest.get(`/orders/${order.orderId}`))).status).toBe(401)
      const bad = yield* rawRequest(
        HttpClientRequest.post("/orders").pipe(
          withTestToken,
          HttpClientRequest.setHeader("idempotency-key", randomUUID()),
          HttpClientRequest.bodyUnsafeJson({ ...newOrder(), currency: "euro" })
        )
      )
      expect(bad.status).toBe(400)
      expect(bad.body.message).toContain("currency")
    }))
})

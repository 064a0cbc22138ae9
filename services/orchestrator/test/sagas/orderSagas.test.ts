import { TestCards } from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { inject } from "vitest"
import {
  awaitStatus,
  checkoutOf,
  effectsOf,
  placeOrder,
  requestCancellation,
  SystemLive
} from "../saga-fixtures/system.ts"

const System = SystemLive({
  adminUrl: inject("adminUrl"),
  template: inject("templateDatabase"),
  worker: { POLL_INTERVAL_MS: "500", WORKER_CONCURRENCY: "8", SAGA_INLINE_RETRY_MAX_MS: "500" }
})

const stockOf = (sku: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<
        { onHand: number; reserved: number }
      >`select on_hand as "onHand", reserved from inventory.stock where sku = ${sku}`
  ).pipe(
    Effect.map((rows) => rows[0]!)
  )

/** The keys the services stored for an order's saga(s), without the saga id. */
const keysOf = (orderId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ key: string }>`
      select k.key from saga_instances s
      join lateral (
        select key from orders.idempotency_keys union all
        select key from inventory.idempotency_keys union all
        select key from payments.idempotency_keys
      ) k on k.key like s.id::text || ':%'
      where s.aggregate_id = ${orderId}
      order by k.key`).pipe(Effect.map((rows) => rows.map((r) => r.key.slice(37)).sort()))

layer(System, { excludeTestServices: true })("order sagas with the real services and worker", (it) => {
  it.effect("happy path: CONFIRMED; the order is confirmed, the stock held, the payment captured, each once", () =>
    Effect.gen(function*() {
      const before = yield* stockOf("MUG-BLUE")
      const orderId = yield* placeOrder(checkoutOf())
      expect(yield* awaitStatus(orderId)).toEqual({ status: "CONFIRMED", reason: null })
      expect(yield* effectsOf(orderId)).toEqual({ order: "CONFIRMED", reservation: "HELD", payment: "CAPTURED" })
      expect((yield* stockOf("MUG-BLUE")).reserved).toBe(before.reserved + 2)
      expect(yield* keysOf(orderId)).toEqual([
        "capturePayment:forward",
        "confirmOrder:forward",
        "createOrder:forward",
        "reserveStock:forward"
      ])
    }))

  it.effect("capture declined: CANCELLED payment declined; stock released, order cancelled, authorization voided", () =>
    Effect.gen(function*() {
      const before = yield* stockOf("MUG-BLUE")
      const orderId = yield* placeOrder(checkoutOf({ card: TestCards.captureDeclined }))
      expect(yield* awaitStatus(orderId)).toEqual({ status: "CANCELLED", reason: "payment declined" })
      expect(yield* effectsOf(orderId)).toEqual({ order: "CANCELLED", reservation: "RELEASED", payment: "VOIDED" })
      expect(yield* stockOf("MUG-BLUE")).toEqual(before)
    }))

  it.effect("out of stock: CANCELLED out of stock; nothing reserved, order cancelled, authorization voided", () =>
    Effect.gen(function*() {
      const before = yield* stockOf("SOCKS-3PACK")
      const orderId = yield* placeOrder(checkoutOf({ skus: [["MUG-BLUE", 1], ["SOCKS-3PACK", before.onHand + 1]] }))
      expect(yield* awaitStatus(orderId)).toEqual({ status: "CANCELLED", reason: "out of stock" })
      const effects = yield* effectsOf(orderId)
      expect(effects).toMatchObject({ order: "CANCELLED", payment: "VOIDED" })
      expect(effects.reservation === undefined || effects.reservation === "RELEASED").toBe(true)
      expect(yield* stockOf("SOCKS-3PACK")).toEqual(before)
    }))

  it.effect("cancellation after confirmation: CANCELLED with the customer's reason, refunded, released; a second request is a no-op", () =>
    Effect.gen(function*() {
      const before = yield* stockOf("MUG-BLUE")
      const orderId = yield* placeOrder(checkoutOf())
      expect((yield* awaitStatus(orderId)).status).toBe("CONFIRMED")
      yield* requestCancellation(orderId, "changed my mind")
      expect(yield* awaitStatus(orderId, ["CONFIRMED"])).toEqual({ status: "CANCELLED", reason: "changed my mind" })
      expect(yield* effectsOf(orderId)).toEqual({ order: "CANCELLED", reservation: "RELEASED", payment: "REFUNDED" })
      expect(yield* stockOf("MUG-BLUE")).toEqual(before)

      yield* requestCancellation(orderId, "again")
      const sql = yield* SqlClient.SqlClient
      yield* sql<{ n: number }>`
        select count(*)::int as n from saga_instances
        where aggregate_id = ${orderId} and saga_type = 'OrderCancellationRequested' and state = 'completed'`.pipe(
        Effect.filterOrFail((rows) => rows[0]!.n === 2),
        Effect.retry(Schedule.spaced("100 millis")),
        Effect.timeout("60 seconds")
      )
      expect(yield* awaitStatus(orderId, ["CONFIRMED"])).toEqual({ status: "CANCELLED", reason: "changed my mind" })
      // The second saga saw a cancelled order and called nothing.
      expect((yield* keysOf(orderId)).filter((key) => key.startsWith("cancelOrder") || key.startsWith("refundPayment")))
        .toEqual([
          "cancelOrder:forward",
          "refundPayment:forward"
        ])
    }))
})

/**
 * Forged OrderPlaced events, written as the `outbox_producer` role can write them, through the real
 * worker, saga and services: payments refuses every capture the order does not justify
 * (AuthorizationMismatch), so none of them ends CONFIRMED with money it did not authorize. (The
 * saga's own checks of such events come on top; this shows the payments side holds on its own.)
 */
import { Authorize, CardToken, Currency, IdempotencyKey, MinorUnits, OrderId, TestCards } from "@ecommerce/contracts"
import { rolePassword, withCredentials } from "@ecommerce/db"
import { TestDatabase } from "@ecommerce/db/testing"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { inject } from "vitest"
import {
  awaitStatus,
  checkoutOf,
  effectsOf,
  placeOrder,
  SystemLive
} from "../../orchestrator/test/saga-fixtures/system.ts"

const System = SystemLive({
  adminUrl: inject("adminUrl"),
  template: inject("templateDatabase"),
  worker: { POLL_INTERVAL_MS: "500", WORKER_CONCURRENCY: "4", SAGA_INLINE_RETRY_MAX_MS: "500" }
})

const items = [{ sku: "MUG-BLUE", quantity: 2, unitPrice: 899 }]

/** Authorizes `amount` in `currency` for a fresh order id at the real payments service. */
const authorize = (amount: number, currency = "EUR") =>
  Effect.flatMap(PaymentsClient, (client) =>
    client.payments.authorize({
      headers: { "idempotency-key": IdempotencyKey.make(randomUUID()) },
      payload: new Authorize({
        orderId: OrderId.make(randomUUID()),
        amount: MinorUnits.make(amount),
        currency: Currency.make(currency),
        cardToken: CardToken.make(TestCards.approved)
      })
    }))

/** The ledger row and the OrderPlaced row in one transaction, logged in as outbox_producer. */
const forge = (order: { orderId: string; amount: number; currency: string; authorizationId: string }) =>
  Effect.gen(function*() {
    const db = yield* TestDatabase
    const password = yield* rolePassword("outbox_producer")
    yield* Effect.promise(async () => {
      const client = new pg.Client({ connectionString: withCredentials(db.url, "outbox_producer", password) })
      await client.connect()
      try {
        await client.query("begin")
        await client.query(
          `insert into order_ledger (order_id, customer_id, items, amount, currency, authorization_id)
           values ($1, 'cust-forger', $2, $3, $4, $5)`,
          [order.orderId, JSON.stringify(items), order.amount, order.currency, order.authorizationId]
        )
        await client.query(
          `insert into outbox (aggregate_type, aggregate_id, event_type, payload) values ('order', $1, 'OrderPlaced', $2)`,
          [order.orderId, JSON.stringify({ ...order, customerId: "cust-forger", items })]
        )
        await client.query("commit")
      } finally {
        await client.end()
      }
    })
  })

/** One outbox row, inserted as outbox_producer (no ledger row). */
const forgeEvent = (eventType: string, aggregateId: string, payload: unknown) =>
  Effect.gen(function*() {
    const db = yield* TestDatabase
    const password = yield* rolePassword("outbox_producer")
    yield* Effect.promise(async () => {
      const client = new pg.Client({ connectionString: withCredentials(db.url, "outbox_producer", password) })
      await client.connect()
      try {
        await client.query(
          `insert into outbox (aggregate_type, aggregate_id, event_type, payload) values ('order', $1, $2, $3)`,
          [aggregateId, eventType, JSON.stringify(payload)]
        )
      } finally {
        await client.end()
      }
    })
  })

const paymentOf = (authorizationId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ status: string; orderId: string }>`
      select status, order_id::text as "orderId" from payments.authorizations where authorization_id = ${authorizationId}`)
    .pipe(Effect.map((rows) => rows[0]!))

/** The forged order settles without being confirmed, with a reason. */
const refused = (orderId: string) =>
  Effect.map(awaitStatus(orderId), (settled) => {
    expect(settled.status).not.toBe("CONFIRMED")
    expect(settled.reason).toBeTruthy()
  })

layer(System, { excludeTestServices: true })("forged OrderPlaced events", (it) => {
  const mismatches = [
    { name: "an order amount of 1 against an authorization of 1798", amount: 1, currency: "EUR" },
    { name: "an order in ZZZ against an EUR authorization of 1798", amount: 1798, currency: "ZZZ" }
  ]
  for (const forgery of mismatches) {
    it.effect(`${forgery.name} captures nothing and is not confirmed`, () =>
      Effect.gen(function*() {
        const payment = yield* authorize(1798)
        yield* forge({ ...forgery, orderId: payment.orderId, authorizationId: payment.authorizationId })
        yield* refused(payment.orderId)
        expect((yield* paymentOf(payment.authorizationId)).status).not.toBe("CAPTURED")
      }), 90_000)
  }

  it.effect(
    "an order pointing at another order's captured authorization is not confirmed; that payment is untouched",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const honest = yield* placeOrder(checkoutOf({ skus: [["MUG-BLUE", 2]] }))
        expect((yield* awaitStatus(honest)).status).toBe("CONFIRMED")
        const [ledger] = yield* sql<{ authorizationId: string }>`
        select authorization_id::text as "authorizationId" from order_ledger where order_id = ${honest}`
        const forged = randomUUID()
        yield* forge({ orderId: forged, amount: 1798, currency: "EUR", authorizationId: ledger!.authorizationId })
        yield* refused(forged)
        expect(yield* paymentOf(ledger!.authorizationId)).toEqual({ status: "CAPTURED", orderId: honest })
        expect((yield* effectsOf(honest)).payment).toBe("CAPTURED")
      }),
    90_000
  )

  it.effect("an order pointing at another order's open hold does not void that hold", () =>
    Effect.gen(function*() {
      // Another order's checkout authorized and its saga has not captured yet.
      const payment = yield* authorize(1798)
      const forged = randomUUID()
      yield* forge({ orderId: forged, amount: 1798, currency: "EUR", authorizationId: payment.authorizationId })
      yield* refused(forged)
      expect(yield* paymentOf(payment.authorizationId)).toEqual({ status: "AUTHORIZED", orderId: payment.orderId })
    }), 90_000)

  it.effect(
    "a cancellation of one's own order naming another order's authorization refunds nothing of that order",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const own = yield* placeOrder(checkoutOf({ skus: [["MUG-BLUE", 1]] }))
        const other = yield* placeOrder(checkoutOf({ skus: [["MUG-BLUE", 1]] }))
        expect((yield* awaitStatus(own)).status).toBe("CONFIRMED")
        expect((yield* awaitStatus(other)).status).toBe("CONFIRMED")
        const [ledger] = yield* sql<{ authorizationId: string; customerId: string; items: unknown; amount: string }>`
        select authorization_id::text as "authorizationId", customer_id as "customerId", items, amount::text as amount
        from order_ledger where order_id = ${own}`
        const [victim] = yield* sql<{ authorizationId: string }>`
        select authorization_id::text as "authorizationId" from order_ledger where order_id = ${other}`
        yield* forgeEvent("OrderCancellationRequested", own, {
          orderId: own,
          customerId: ledger!.customerId,
          items: ledger!.items,
          amount: Number(ledger!.amount),
          currency: "EUR",
          authorizationId: victim!.authorizationId,
          reason: "forged"
        })
        const settled = yield* awaitStatus(own, ["CONFIRMED"])
        expect(settled.reason).toBeTruthy()
        expect(yield* paymentOf(victim!.authorizationId)).toEqual({ status: "CAPTURED", orderId: other })
        expect((yield* effectsOf(other)).payment).toBe("CAPTURED")
        // Nothing of the forger's own order was undone without its refund.
        expect(settled.status).toBe("NEEDS_ATTENTION")
        expect(yield* effectsOf(own)).toMatchObject({ order: "CONFIRMED", payment: "CAPTURED" })
      }),
    120_000
  )
})

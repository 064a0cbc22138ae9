/**
 * OrderPlaced rows written as a producer could write them, against the real services and worker:
 * each disagrees with its ledger row, its aggregate or its authorization. None may capture a wrong
 * amount or confirm an order without money; each ends with a reason an operator can read.
 */
import {
  AuthorizationId,
  Authorize,
  CardToken,
  Currency,
  IdempotencyKey,
  MinorUnits,
  type OrderPlaced,
  TestCards
} from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { insertLedgerRow, insertOutboxRow, newOrder, sagaOf } from "../saga-fixtures/fixtures.ts"
import { awaitStatus, checkoutOf, effectsOf, placeOrder, SystemLive } from "../saga-fixtures/system.ts"

const System = SystemLive({
  adminUrl: inject("adminUrl"),
  template: inject("templateDatabase"),
  worker: { POLL_INTERVAL_MS: "200", SAGA_INLINE_RETRY_MAX_MS: "500" }
})

/** A real authorization at payments, as the edge API takes it at checkout. */
const authorize = (order: { orderId: string; amount: number; currency: string }) =>
  Effect.flatMap(PaymentsClient, (payments) =>
    payments.payments.authorize({
      headers: { "idempotency-key": IdempotencyKey.make(randomUUID()) },
      payload: new Authorize({
        orderId: order.orderId as OrderPlaced["orderId"],
        amount: MinorUnits.make(order.amount),
        currency: Currency.make(order.currency),
        cardToken: CardToken.make(TestCards.approved)
      })
    })).pipe(Effect.map((payment) => payment.authorizationId))

/** Waits until the event's saga has ended; returns it. */
const sagaEnded = (eventId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ state: string }>`select state from saga_instances where trigger_event_id = ${eventId}`.pipe(
        Effect.filterOrFail((rows) => rows[0] !== undefined && !["running", "compensating"].includes(rows[0].state)),
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("30 seconds"))),
        Effect.zipRight(sagaOf(eventId))
      )
  )

const reasonOf = (saga: { readonly error: unknown }) => (saga.error as { message: string }).message

layer(System, { excludeTestServices: true })("forged OrderPlaced events", (it) => {
  it.effect("amount 1 with lines of 2 × 899: nothing created or captured, the hold voided, NEEDS_ATTENTION with the reason", () =>
    Effect.gen(function*() {
      const draft = newOrder()
      const authorizationId = yield* authorize({ orderId: draft.orderId, amount: 1798, currency: "EUR" })
      const order = newOrder({ ...draft, authorizationId, items: [draft.items[0]], amount: MinorUnits.make(1) })
      yield* insertLedgerRow(order)
      const eventId = yield* insertOutboxRow(order, { status: "pending" })
      const saga = yield* sagaEnded(eventId)
      expect(saga.state).toBe("needs_attention")
      expect(reasonOf(saga)).toContain("its amount 1 is not the sum of its lines 1798")
      expect(yield* awaitStatus(order.orderId)).toEqual({ status: "NEEDS_ATTENTION", reason: reasonOf(saga) })
      expect(yield* effectsOf(order.orderId)).toEqual({ order: undefined, reservation: undefined, payment: "VOIDED" })
    }))

  it.effect("currency ZZZ against a EUR authorization: no capture, NEEDS_ATTENTION naming both currencies", () =>
    Effect.gen(function*() {
      const draft = newOrder()
      const authorizationId = yield* authorize({ orderId: draft.orderId, amount: draft.amount, currency: "EUR" })
      const order = newOrder({ ...draft, authorizationId, currency: Currency.make("ZZZ") })
      yield* insertLedgerRow(order)
      const saga = yield* sagaEnded(yield* insertOutboxRow(order, { status: "pending" }))
      expect(reasonOf(saga)).toContain("its currency ZZZ is not the authorization's EUR")
      expect((yield* awaitStatus(order.orderId)).status).toBe("NEEDS_ATTENTION")
      expect(yield* effectsOf(order.orderId)).toEqual({ order: undefined, reservation: undefined, payment: "VOIDED" })
    }))

  it.effect("another order's (captured) authorization: not confirmed, the other order's payment untouched", () =>
    Effect.gen(function*() {
      const victim = yield* placeOrder(checkoutOf())
      expect((yield* awaitStatus(victim)).status).toBe("CONFIRMED")
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ authorizationId: string }>`
        select authorization_id::text as "authorizationId" from order_ledger where order_id = ${victim}`
      const order = newOrder({ authorizationId: AuthorizationId.make(row!.authorizationId) })
      yield* insertLedgerRow(order)
      const saga = yield* sagaEnded(yield* insertOutboxRow(order, { status: "pending" }))
      expect(reasonOf(saga)).toContain(`belongs to order ${victim}`)
      expect((yield* awaitStatus(order.orderId)).status).toBe("NEEDS_ATTENTION")
      expect((yield* effectsOf(order.orderId)).order).toBeUndefined()
      expect((yield* effectsOf(victim)).payment).toBe("CAPTURED")
      expect((yield* awaitStatus(victim, [])).status).toBe("CONFIRMED")
    }))

  it.effect("no order_ledger row: nothing created or captured, the hold voided, the saga needs attention with the reason", () =>
    Effect.gen(function*() {
      const draft = newOrder()
      const authorizationId = yield* authorize(draft)
      const order = newOrder({ ...draft, authorizationId })
      const saga = yield* sagaEnded(yield* insertOutboxRow(order, { status: "pending" }))
      expect(saga.state).toBe("needs_attention")
      expect(reasonOf(saga)).toContain(`order ${order.orderId} has no order_ledger row`)
      expect(yield* effectsOf(order.orderId)).toEqual({ order: undefined, reservation: undefined, payment: "VOIDED" })
    }))

  it.effect("aggregate_id other than the payload's orderId: refused before any effect, NEEDS_ATTENTION with the reason", () =>
    Effect.gen(function*() {
      const draft = newOrder()
      const authorizationId = yield* authorize(draft)
      const order = newOrder({ ...draft, authorizationId })
      yield* insertLedgerRow(order)
      const aggregateId = randomUUID()
      const saga = yield* sagaEnded(yield* insertOutboxRow(order, { status: "pending", aggregateId }))
      expect(reasonOf(saga)).toContain(`its aggregate_id ${aggregateId} is not its orderId ${order.orderId}`)
      expect((yield* awaitStatus(order.orderId)).status).toBe("NEEDS_ATTENTION")
      expect(yield* effectsOf(order.orderId)).toEqual({ order: undefined, reservation: undefined, payment: "VOIDED" })
    }))
})

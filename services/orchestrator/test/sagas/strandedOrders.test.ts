import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { markStrandedOrders } from "../../src/sagas/StrandedOrders.ts"
import {
  EngineDatabase,
  insertLedgerRow,
  insertOutboxRow,
  insertSaga,
  ledgerOf,
  newOrder
} from "../saga-fixtures/fixtures.ts"

/** An order's ledger row and its OrderPlaced outbox row in `status`, optionally with a saga started. */
const order = (outboxStatus: "dead" | "pending", withSaga = false) =>
  Effect.gen(function*() {
    const placed = newOrder()
    yield* insertLedgerRow(placed)
    const eventId = yield* insertOutboxRow(placed, {
      status: outboxStatus,
      attempts: 10,
      lastError: outboxStatus === "dead" ? "gave up after 10 attempts (MAX_ATTEMPTS=10): database unavailable" : null
    })
    if (withSaga) yield* insertSaga({ order: placed, eventId, currentStep: "createOrder" })
    return { orderId: placed.orderId, eventId }
  })

layer(EngineDatabase(), { excludeTestServices: true })(
  "stranded orders",
  (it) => {
    it.effect("an order whose OrderPlaced died before any saga is marked NEEDS_ATTENTION once; others are untouched", () =>
      Effect.gen(function*() {
        const stranded = yield* order("dead")
        const stillQueued = yield* order("pending")
        const sagaStarted = yield* order("dead", true)

        expect(yield* markStrandedOrders).toBe(1)
        expect(yield* ledgerOf(stranded.orderId)).toEqual({
          status: "NEEDS_ATTENTION",
          reason: `its OrderPlaced event ${stranded.eventId} was dead-lettered before a saga started: ` +
            "gave up after 10 attempts (MAX_ATTEMPTS=10): database unavailable"
        })
        expect(yield* ledgerOf(stillQueued.orderId)).toEqual({ status: "PENDING", reason: null })
        // The saga-level sweep owns this one: it has a saga to hand over.
        expect(yield* ledgerOf(sagaStarted.orderId)).toEqual({ status: "PENDING", reason: null })
        // A second pass (another replica) finds nothing left to mark.
        expect(yield* markStrandedOrders).toBe(0)
      }))
  }
)

import { TestDatabaseLive } from "@ecommerce/db/testing"
import { expect, layer } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { markStrandedOrders } from "../../src/sagas/StrandedOrders.ts"
import { insertLedgerRow, ledgerOf, newOrder } from "../saga-fixtures/orderFixture.ts"

/** An order's ledger row and its OrderPlaced outbox row in `status`, optionally with a saga started. */
const order = (outboxStatus: "dead" | "pending", withSaga = false) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const placed = newOrder()
    yield* insertLedgerRow(placed)
    const [row] = yield* sql<{ eventId: string }>`
      insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, attempts, last_error)
      values ('order', ${placed.orderId}, 'OrderPlaced', ${JSON.stringify(placed)}::jsonb, ${outboxStatus}, 10,
              ${outboxStatus === "dead" ? "gave up after 10 attempts (MAX_ATTEMPTS=10): database unavailable" : null})
      returning event_id::text as "eventId"`
    if (withSaga) {
      yield* sql`
        insert into saga_instances (id, saga_type, trigger_event_id, aggregate_id, state, current_step, context, deadline_at)
        values (${randomUUID()}, 'OrderPlaced', ${row!.eventId}, ${placed.orderId}, 'running', 'createOrder',
                ${JSON.stringify(placed)}::jsonb, now() + interval '5 minutes')`
    }
    return { orderId: placed.orderId, eventId: row!.eventId }
  })

layer(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")), { excludeTestServices: true })(
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

import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"
import { decodeRows } from "../saga/SagaRows.ts"

export const LedgerStatus = Schema.Literal("PENDING", "CONFIRMED", "CANCELLED", "NEEDS_ATTENTION")
export type LedgerStatus = typeof LedgerStatus.Type

/** What the edge API recorded for an order: what the saga checks its event against. */
const LedgerRow = Schema.Struct({
  order_id: Schema.String,
  customer_id: Schema.String,
  items: Schema.Unknown,
  amount: Schema.NumberFromString,
  currency: Schema.String,
  authorization_id: Schema.String,
  status: LedgerStatus
})
export type LedgerRow = typeof LedgerRow.Type

const StrandedRow = Schema.Struct({ order_id: Schema.String, event_id: Schema.String })

/**
 * Every statement on `order_ledger`, the edge API's record of each checkout. The orchestrator only
 * moves a row's status (and reason); each move names the statuses it leaves, so a repeat or a
 * late saga changes nothing.
 */
export class LedgerRepo extends Effect.Service<LedgerRepo>()("@ecommerce/orchestrator/LedgerRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const find = (orderId: string): Effect.Effect<LedgerRow | undefined, SqlError> =>
      sql`
        select order_id::text as order_id, customer_id, items, amount::text as amount, currency,
               authorization_id::text as authorization_id, status
        from order_ledger where order_id = ${orderId}`.pipe(
        Effect.flatMap(decodeRows(LedgerRow)),
        Effect.map((rows) => rows[0])
      )

    const status = (orderId: string) => Effect.map(find(orderId), (row) => row?.status)

    /** The order saga's verdict; only a PENDING row moves, so a repeat changes nothing. */
    const settlePending = (input: {
      readonly orderId: string
      readonly status: Exclude<LedgerStatus, "PENDING">
      readonly reason: string | null
    }): Effect.Effect<void, SqlError> =>
      sql`
        update order_ledger set status = ${input.status}, reason = ${input.reason}, updated_at = now()
        where order_id = ${input.orderId} and status = 'PENDING'`.pipe(Effect.asVoid)

    /** The cancellation saga's verdict: from CONFIRMED (or PENDING, for attention) only. */
    const settleCancellation = (input: {
      readonly orderId: string
      readonly status: "CANCELLED" | "NEEDS_ATTENTION"
      readonly reason: string
    }): Effect.Effect<void, SqlError> =>
      sql`
        update order_ledger set status = ${input.status}, reason = ${input.reason}, updated_at = now()
        where order_id = ${input.orderId} and status in ('CONFIRMED', 'PENDING')`.pipe(Effect.asVoid)

    /**
     * An order whose OrderPlaced event was dead-lettered before its saga started (its handler kept
     * failing before the first write, e.g. through a long database outage) has no saga for the
     * dead-letter sweep to find: its ledger row would stay PENDING forever while the checkout's
     * authorization holds the customer's money. Marks such rows NEEDS_ATTENTION with the event's
     * last error. Guarded by `status = 'PENDING'`, so replicas sweeping together mark each once.
     */
    const markStranded = sql`
      update order_ledger l
      set status = 'NEEDS_ATTENTION',
          reason = format('its OrderPlaced event %s was dead-lettered before a saga started: %s',
                          o.event_id, coalesce(o.last_error, 'no error recorded')),
          updated_at = now()
      from outbox o
      where o.status = 'dead'
        and o.event_type = 'OrderPlaced'
        and o.aggregate_id = l.order_id::text
        and l.status = 'PENDING'
        and not exists (select 1 from saga_instances s where s.trigger_event_id = o.event_id)
      returning l.order_id::text as order_id, o.event_id::text as event_id`.pipe(
      Effect.flatMap(decodeRows(StrandedRow))
    )

    return { find, status, settlePending, settleCancellation, markStranded } as const
  })
}) {}

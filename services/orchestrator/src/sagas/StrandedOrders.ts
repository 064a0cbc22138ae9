import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * An order whose OrderPlaced event was dead-lettered before its saga started (its handler kept
 * failing before the first write, e.g. through a long database outage) has no saga for the
 * dead-letter sweep to find: its ledger row would stay PENDING forever while the checkout's
 * authorization holds the customer's money. Each pass marks such rows NEEDS_ATTENTION with the
 * event's last error. Guarded by `status = 'PENDING'`, so replicas sweeping together mark each once.
 * To replay such an order, an operator sets the row back to PENDING along with the outbox row.
 */
export const markStrandedOrders = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const marked = yield* sql<{ order_id: string; event_id: string }>`
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
    returning l.order_id::text as order_id, o.event_id::text as event_id`
  for (const row of marked) {
    yield* Effect.logError(
      `order ${row.order_id} needs attention: its OrderPlaced event ${row.event_id} was dead-lettered before a saga started`
    )
  }
  return marked.length
}).pipe(Effect.withSpan("Sagas.markStrandedOrders"))

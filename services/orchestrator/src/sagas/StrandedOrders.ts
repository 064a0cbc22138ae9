import { Effect } from "effect"
import { LedgerRepo } from "./LedgerRepo.ts"

/**
 * Orders whose OrderPlaced event died before a saga existed go to an operator (see
 * `LedgerRepo.markStranded`). To replay such an order, an operator sets the row back to PENDING
 * along with the outbox row.
 */
export const markStrandedOrders = Effect.gen(function*() {
  const marked = yield* (yield* LedgerRepo).markStranded
  for (const row of marked) {
    yield* Effect.logError(
      `order ${row.order_id} needs attention: its OrderPlaced event ${row.event_id} was dead-lettered before a saga started`
    ).pipe(Effect.annotateLogs({ "order.id": row.order_id, "event.id": row.event_id }))
  }
  return marked.length
}).pipe(Effect.withSpan("Sagas.markStrandedOrders"))

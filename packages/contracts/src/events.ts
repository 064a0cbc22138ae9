import { Schema } from "effect"
import { AuthorizationId, CustomerId, OrderId } from "./ids.ts"
import { Currency, MinorUnits } from "./money.ts"
import { OrderLine } from "./Orders.ts"

/**
 * Outbox payloads (`outbox.payload`), written by the edge API with aggregate_type `order` and
 * aggregate_id = orderId; `outbox.event_type` names the schema. The orchestrator decodes them with
 * these schemas. Add fields as optional, or add a new event type: rows already in the outbox must
 * still decode.
 */
export class OrderPlaced extends Schema.Class<OrderPlaced>("OrderPlaced")({
  orderId: OrderId,
  customerId: CustomerId,
  items: Schema.NonEmptyArray(OrderLine),
  amount: MinorUnits,
  currency: Currency,
  authorizationId: AuthorizationId
}) {
  static readonly eventType = "OrderPlaced"
}

/**
 * The customer's reason, bounded as `CancelOrder.reason` (the orders contract it feeds) is: at most
 * 500 characters. It may be empty (the saga then sends its own wording), unlike CancelOrder's.
 */
export const CancellationReason = Schema.String.pipe(Schema.maxLength(500))

/** A customer asked to cancel; carries the same order data so the saga needs no lookup. */
export class OrderCancellationRequested extends Schema.Class<OrderCancellationRequested>("OrderCancellationRequested")({
  orderId: OrderId,
  customerId: CustomerId,
  items: Schema.NonEmptyArray(OrderLine),
  amount: MinorUnits,
  currency: Currency,
  authorizationId: AuthorizationId,
  reason: CancellationReason
}) {
  static readonly eventType = "OrderCancellationRequested"
}

export const OrderAggregateType = "order"

/** event_type -> payload schema, for decoding an outbox row by its `event_type`. */
export const OrderEvents = {
  [OrderPlaced.eventType]: OrderPlaced,
  [OrderCancellationRequested.eventType]: OrderCancellationRequested
} as const
export type OrderEventType = keyof typeof OrderEvents

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

/** A customer asked to cancel; carries the same order data so the saga needs no lookup. */
export class OrderCancellationRequested extends Schema.Class<OrderCancellationRequested>("OrderCancellationRequested")({
  orderId: OrderId,
  customerId: CustomerId,
  items: Schema.NonEmptyArray(OrderLine),
  amount: MinorUnits,
  currency: Currency,
  authorizationId: AuthorizationId,
  reason: Schema.String
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

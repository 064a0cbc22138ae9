import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { Authorization } from "./Authorization.ts"
import { IdempotencyKeyReused } from "./errors.ts"
import { HealthGroup } from "./Health.ts"
import { CustomerId, IdempotencyHeaders, OrderId, Quantity, Sku } from "./ids.ts"
import { Currency, MinorUnits } from "./money.ts"

export class OrderLine extends Schema.Class<OrderLine>("OrderLine")({
  sku: Sku,
  quantity: Quantity,
  unitPrice: MinorUnits
}) {}

export const OrderStatus = Schema.Literal("PENDING", "CONFIRMED", "CANCELLED")
export type OrderStatus = typeof OrderStatus.Type

export class CreateOrder extends Schema.Class<CreateOrder>("CreateOrder")({
  orderId: OrderId,
  customerId: CustomerId,
  items: Schema.NonEmptyArray(OrderLine),
  amount: MinorUnits,
  currency: Currency
}) {}

export class Order extends Schema.Class<Order>("Order")({
  orderId: OrderId,
  customerId: CustomerId,
  items: Schema.Array(OrderLine),
  amount: MinorUnits,
  currency: Currency,
  status: OrderStatus,
  reason: Schema.NullOr(Schema.String)
}) {}

export class CancelOrder extends Schema.Class<CancelOrder>("CancelOrder")({
  reason: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500))
}) {}

export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()(
  "OrderNotFound",
  { orderId: OrderId, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** `POST /orders` for an order id that exists with different data. */
export class OrderConflict extends Schema.TaggedError<OrderConflict>()(
  "OrderConflict",
  { orderId: OrderId, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** Confirming a cancelled order. */
export class OrderTransitionRejected extends Schema.TaggedError<OrderTransitionRejected>()(
  "OrderTransitionRejected",
  { orderId: OrderId, status: OrderStatus, requested: OrderStatus, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

const OrderPath = Schema.Struct({ order_id: OrderId })

export class OrdersGroup extends HttpApiGroup.make("orders")
  .add(
    // Idempotent on the order id as well as on the key: the same order again returns it unchanged.
    HttpApiEndpoint.post("create", "/orders")
      .setHeaders(IdempotencyHeaders)
      .setPayload(CreateOrder)
      .addSuccess(Order, { status: 201 })
      .addError(OrderConflict)
      .addError(IdempotencyKeyReused)
  )
  .add(
    HttpApiEndpoint.get("get", "/orders/:order_id")
      .setPath(OrderPath)
      .addSuccess(Order)
      .addError(OrderNotFound)
  )
  .add(
    // PENDING -> CONFIRMED; confirming a confirmed order succeeds without change.
    HttpApiEndpoint.post("confirm", "/orders/:order_id/confirmation")
      .setPath(OrderPath)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Order)
      .addError(OrderNotFound)
      .addError(OrderTransitionRejected)
      .addError(IdempotencyKeyReused)
  )
  .add(
    // PENDING or CONFIRMED -> CANCELLED; cancelling a cancelled order succeeds without change.
    HttpApiEndpoint.post("cancel", "/orders/:order_id/cancellation")
      .setPath(OrderPath)
      .setHeaders(IdempotencyHeaders)
      .setPayload(CancelOrder)
      .addSuccess(Order)
      .addError(OrderNotFound)
      .addError(IdempotencyKeyReused)
  )
  .middleware(Authorization)
{}

export class OrdersApi extends HttpApi.make("orders").add(HealthGroup).add(OrdersGroup) {}

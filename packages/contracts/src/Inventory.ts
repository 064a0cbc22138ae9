import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { Authorization } from "./Authorization.ts"
import { IdempotencyKeyReused } from "./errors.ts"
import { HealthGroup } from "./Health.ts"
import { IdempotencyHeaders, OrderId, Quantity, Sku } from "./ids.ts"

export class ReservationLine extends Schema.Class<ReservationLine>("ReservationLine")({
  sku: Sku,
  quantity: Quantity
}) {}

export class ReserveStock extends Schema.Class<ReserveStock>("ReserveStock")({
  orderId: OrderId,
  items: Schema.NonEmptyArray(ReservationLine)
}) {}

export const ReservationStatus = Schema.Literal("HELD", "RELEASED")
export type ReservationStatus = typeof ReservationStatus.Type

/** Lines of the same sku are summed. A released reservation keeps its lines for the record. */
export class Reservation extends Schema.Class<Reservation>("Reservation")({
  orderId: OrderId,
  status: ReservationStatus,
  items: Schema.Array(ReservationLine)
}) {}

export const StockLevel = Schema.Int.pipe(Schema.between(0, 1_000_000_000))

export class Stock extends Schema.Class<Stock>("Stock")({
  sku: Sku,
  onHand: StockLevel,
  reserved: StockLevel,
  available: StockLevel
}) {}

export class SetStock extends Schema.Class<SetStock>("SetStock")({
  onHand: StockLevel
}) {}

/** Not enough available stock for `sku` (an unknown sku has none); nothing was reserved. */
export class InsufficientStock extends Schema.TaggedError<InsufficientStock>()(
  "InsufficientStock",
  { orderId: OrderId, sku: Sku, requested: Schema.Int, available: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/**
 * The order already has a reservation with other lines, or its reservation was released (a release
 * is final: a late reserve must not bring stock back under a cancelled order).
 */
export class ReservationConflict extends Schema.TaggedError<ReservationConflict>()(
  "ReservationConflict",
  { orderId: OrderId, status: ReservationStatus, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class ReservationNotFound extends Schema.TaggedError<ReservationNotFound>()(
  "ReservationNotFound",
  { orderId: OrderId, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class StockNotFound extends Schema.TaggedError<StockNotFound>()(
  "StockNotFound",
  { sku: Sku, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** `PUT /stock/:sku` below what is currently reserved. */
export class StockBelowReserved extends Schema.TaggedError<StockBelowReserved>()(
  "StockBelowReserved",
  { sku: Sku, onHand: Schema.Int, reserved: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

const OrderPath = Schema.Struct({ order_id: OrderId })
const SkuPath = Schema.Struct({ sku: Sku })

export class ReservationsGroup extends HttpApiGroup.make("reservations")
  .add(
    // All lines or none. Reserving the same lines again for the order returns the reservation.
    HttpApiEndpoint.post("reserve", "/reservations")
      .setHeaders(IdempotencyHeaders)
      .setPayload(ReserveStock)
      .addSuccess(Reservation, { status: 201 })
      .addError(InsufficientStock)
      .addError(ReservationConflict)
      .addError(IdempotencyKeyReused)
  )
  .add(
    // Idempotent; releasing an order that reserved nothing succeeds (and blocks a later reserve).
    HttpApiEndpoint.del("release", "/reservations/:order_id")
      .setPath(OrderPath)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Reservation)
      .addError(IdempotencyKeyReused)
  )
  .add(
    HttpApiEndpoint.get("get", "/reservations/:order_id")
      .setPath(OrderPath)
      .addSuccess(Reservation)
      .addError(ReservationNotFound)
  )
  .middleware(Authorization)
{}

export class StockGroup extends HttpApiGroup.make("stock")
  .add(
    HttpApiEndpoint.get("get", "/stock/:sku")
      .setPath(SkuPath)
      .addSuccess(Stock)
      .addError(StockNotFound)
  )
  .add(
    // Sets on-hand (creating the sku if new); for operators and the demo.
    HttpApiEndpoint.put("set", "/stock/:sku")
      .setPath(SkuPath)
      .setHeaders(IdempotencyHeaders)
      .setPayload(SetStock)
      .addSuccess(Stock)
      .addError(StockBelowReserved)
      .addError(IdempotencyKeyReused)
  )
  .middleware(Authorization)
{}

export class InventoryApi extends HttpApi.make("inventory").add(HealthGroup).add(ReservationsGroup).add(StockGroup) {}

import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { EdgeAuthorization } from "./Authorization.ts"
import { IdempotencyKeyReused } from "./errors.ts"
import { HealthGroup } from "./Health.ts"
import { AuthorizationId, CustomerId, IdempotencyHeaders, OrderId, Quantity, Sku } from "./ids.ts"
import { Currency, MinorUnits } from "./money.ts"
import { OrderLine, OrderNotFound } from "./Orders.ts"
import { CardToken, PaymentDeclined } from "./Payments.ts"

export class CheckoutLine extends Schema.Class<CheckoutLine>("CheckoutLine")({
  sku: Sku,
  quantity: Quantity
}) {}

export class Checkout extends Schema.Class<Checkout>("Checkout")({
  customerId: CustomerId,
  items: Schema.NonEmptyArray(CheckoutLine),
  currency: Currency,
  cardToken: CardToken
}) {}

export class CheckoutAccepted extends Schema.Class<CheckoutAccepted>("CheckoutAccepted")({
  orderId: OrderId
}) {}

export const LedgerStatus = Schema.Literal("PENDING", "CONFIRMED", "CANCELLED", "NEEDS_ATTENTION")
export type LedgerStatus = typeof LedgerStatus.Type

export class OrderView extends Schema.Class<OrderView>("OrderView")({
  orderId: OrderId,
  customerId: CustomerId,
  items: Schema.Array(OrderLine),
  amount: MinorUnits,
  currency: Currency,
  authorizationId: AuthorizationId,
  status: LedgerStatus,
  reason: Schema.NullOr(Schema.String),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

export class CancelCheckout extends Schema.Class<CancelCheckout>("CancelCheckout")({
  reason: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)))
}) {}

/** No price for the sku in the requested currency. */
export class UnknownSku extends Schema.TaggedError<UnknownSku>()(
  "UnknownSku",
  { sku: Sku, currency: Currency, message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** A service the edge API depends on (payments) did not answer usably; nothing was written. */
export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()(
  "UpstreamUnavailable",
  { service: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

const OrderPath = Schema.Struct({ order_id: OrderId })

export class CheckoutGroup extends HttpApiGroup.make("checkout")
  .add(
    // Authorizes the card, then writes the ledger row and the OrderPlaced outbox row in one transaction.
    HttpApiEndpoint.post("checkout", "/checkout")
      .setHeaders(IdempotencyHeaders)
      .setPayload(Checkout)
      .addSuccess(CheckoutAccepted, { status: 202 })
      .addError(PaymentDeclined)
      .addError(UnknownSku)
      .addError(IdempotencyKeyReused)
      .addError(UpstreamUnavailable)
  )
  .add(
    HttpApiEndpoint.get("getOrder", "/orders/:order_id")
      .setPath(OrderPath)
      .addSuccess(OrderView)
      .addError(OrderNotFound)
  )
  .add(
    // Writes an OrderCancellationRequested outbox row; the saga does the rest.
    HttpApiEndpoint.post("cancelOrder", "/orders/:order_id/cancel")
      .setPath(OrderPath)
      .setHeaders(IdempotencyHeaders)
      .setPayload(CancelCheckout)
      .addSuccess(CheckoutAccepted, { status: 202 })
      .addError(OrderNotFound)
      .addError(IdempotencyKeyReused)
  )
  .middleware(EdgeAuthorization)
{}

/** One price of the catalogue: a sku in one currency, in integer minor units. */
export class CatalogueItem extends Schema.Class<CatalogueItem>("CatalogueItem")({
  sku: Sku,
  name: Schema.String,
  unitPrice: MinorUnits,
  currency: Currency
}) {}

export class CatalogueListing extends Schema.Class<CatalogueListing>("CatalogueListing")({
  items: Schema.Array(CatalogueItem)
}) {}

export class CatalogueGroup extends HttpApiGroup.make("catalogue")
  .add(
    // Every sku and price a checkout can use, ordered by sku then currency.
    HttpApiEndpoint.get("list", "/catalogue").addSuccess(CatalogueListing)
  )
  .middleware(EdgeAuthorization)
{}

/**
 * The public edge API. Clients authenticate with an edge key (`EDGE_API_KEYS`), never with the
 * internal SERVICE_TOKEN.
 */
export class EdgeApi extends HttpApi.make("edge-api").add(HealthGroup).add(CheckoutGroup).add(CatalogueGroup) {}

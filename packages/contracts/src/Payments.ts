import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { Authorization } from "./Authorization.ts"
import { IdempotencyKeyReused } from "./errors.ts"
import { HealthGroup } from "./Health.ts"
import { AuthorizationId, IdempotencyHeaders, OrderId } from "./ids.ts"
import { Currency, MinorUnits } from "./money.ts"

/**
 * Test card tokens (there is no real processor behind this service):
 * - `tok_visa`: authorizes and captures;
 * - `tok_declined`: declined at authorization (402 PaymentDeclined, stage "authorization");
 * - `tok_capture_declined`: authorizes, but its capture is declined (402, stage "capture").
 * Any other `tok_...` token behaves like `tok_visa`.
 */
export const TestCards = {
  approved: "tok_visa",
  declined: "tok_declined",
  captureDeclined: "tok_capture_declined"
} as const

export const CardToken = Schema.String.pipe(
  Schema.pattern(/^tok_[A-Za-z0-9_]{1,60}$/, { message: () => "a card token looks like tok_visa" }),
  Schema.brand("CardToken")
).annotations({ identifier: "CardToken" })
export type CardToken = typeof CardToken.Type

export const PaymentStatus = Schema.Literal("AUTHORIZED", "CAPTURED", "VOIDED", "REFUNDED")
export type PaymentStatus = typeof PaymentStatus.Type

export class Authorize extends Schema.Class<Authorize>("Authorize")({
  orderId: OrderId,
  amount: MinorUnits,
  currency: Currency,
  cardToken: CardToken
}) {}

export class Payment extends Schema.Class<Payment>("Payment")({
  authorizationId: AuthorizationId,
  orderId: OrderId,
  amount: MinorUnits,
  currency: Currency,
  status: PaymentStatus
}) {}

/**
 * What the order being settled says the authorization is for. Capture checks it against the stored
 * authorization, so a forged or stale event cannot capture another order's hold or another amount.
 */
export class CaptureTerms extends Schema.Class<CaptureTerms>("CaptureTerms")({
  orderId: OrderId,
  amount: MinorUnits,
  currency: Currency
}) {}

export class PaymentDeclined extends Schema.TaggedError<PaymentDeclined>()(
  "PaymentDeclined",
  { stage: Schema.Literal("authorization", "capture"), message: Schema.String },
  HttpApiSchema.annotations({ status: 402 })
) {}

export class AuthorizationNotFound extends Schema.TaggedError<AuthorizationNotFound>()(
  "AuthorizationNotFound",
  { authorizationId: AuthorizationId, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** No authorization exists for the order (never authorized, or declined). */
export class OrderAuthorizationNotFound extends Schema.TaggedError<OrderAuthorizationNotFound>()(
  "OrderAuthorizationNotFound",
  { orderId: OrderId, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The order already has an authorization for another amount, currency or card. */
export class AuthorizationConflict extends Schema.TaggedError<AuthorizationConflict>()(
  "AuthorizationConflict",
  { orderId: OrderId, message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/**
 * A capture's terms do not match the authorization: another order's authorization, or another amount
 * or currency. 422, not 409: the request can never succeed, whatever state the payment is in, and
 * nothing was applied. `mismatch` names each field that differs.
 */
export class AuthorizationMismatch extends Schema.TaggedError<AuthorizationMismatch>()(
  "AuthorizationMismatch",
  {
    authorizationId: AuthorizationId,
    mismatch: Schema.Array(Schema.Literal("orderId", "amount", "currency")),
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 422 })
) {}

/**
 * The action is not allowed in the payment's status: void after capture, refund before capture,
 * capture after void, and so on. Repeating the action that led to the status is not an error.
 */
export class PaymentStateConflict extends Schema.TaggedError<PaymentStateConflict>()(
  "PaymentStateConflict",
  {
    authorizationId: AuthorizationId,
    status: PaymentStatus,
    action: Schema.Literal("capture", "void", "refund"),
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 409 })
) {}

const AuthorizationPath = Schema.Struct({ authorization_id: AuthorizationId })

export class PaymentsGroup extends HttpApiGroup.make("payments")
  .add(
    // One authorization per order: the same request again (any key) returns the same authorization.
    HttpApiEndpoint.post("authorize", "/payments/authorizations")
      .setHeaders(IdempotencyHeaders)
      .setPayload(Authorize)
      .addSuccess(Payment, { status: 201 })
      .addError(PaymentDeclined)
      .addError(AuthorizationConflict)
      .addError(IdempotencyKeyReused)
  )
  .add(
    // AUTHORIZED -> CAPTURED, only with the authorization's own order, amount and currency;
    // capturing a captured payment with the same terms is a no-op.
    HttpApiEndpoint.post("capture", "/payments/capture/:authorization_id")
      .setPath(AuthorizationPath)
      .setHeaders(IdempotencyHeaders)
      .setPayload(CaptureTerms)
      .addSuccess(Payment)
      .addError(AuthorizationNotFound)
      .addError(AuthorizationMismatch)
      .addError(PaymentDeclined)
      .addError(PaymentStateConflict)
      .addError(IdempotencyKeyReused)
  )
  .add(
    // AUTHORIZED -> VOIDED, only before capture; voiding a voided payment is a no-op.
    HttpApiEndpoint.post("void", "/payments/void/:authorization_id")
      .setPath(AuthorizationPath)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Payment)
      .addError(AuthorizationNotFound)
      .addError(PaymentStateConflict)
      .addError(IdempotencyKeyReused)
  )
  .add(
    // CAPTURED -> REFUNDED, only after capture (a capture is undone by a refund, not a void).
    HttpApiEndpoint.post("refund", "/payments/refund/:authorization_id")
      .setPath(AuthorizationPath)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(Payment)
      .addError(AuthorizationNotFound)
      .addError(PaymentStateConflict)
      .addError(IdempotencyKeyReused)
  )
  .add(
    HttpApiEndpoint.get("get", "/payments/:authorization_id")
      .setPath(AuthorizationPath)
      .addSuccess(Payment)
      .addError(AuthorizationNotFound)
  )
  .add(
    // One authorization per order: how a caller that lost the authorize answer finds (and voids) it.
    HttpApiEndpoint.get("getByOrder", "/payments/by-order/:order_id")
      .setPath(Schema.Struct({ order_id: OrderId }))
      .addSuccess(Payment)
      .addError(OrderAuthorizationNotFound)
  )
  .middleware(Authorization)
{}

export class PaymentsApi extends HttpApi.make("payments").add(HealthGroup).add(PaymentsGroup) {}

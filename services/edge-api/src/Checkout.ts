import {
  type AuthorizationId,
  Authorize,
  type CancelCheckout,
  type Checkout as CheckoutRequest,
  CheckoutAccepted,
  type CustomerId,
  IdempotencyKey,
  IdempotencyKeyReused,
  MinorUnits,
  OrderCancellationRequested,
  OrderId,
  OrderLine,
  OrderNotFound,
  OrderPlaced,
  type PaymentDeclined,
  Quantity,
  UnknownSku,
  UpstreamUnavailable
} from "@ecommerce/contracts"
import { Idempotency, invalidRequest } from "@ecommerce/http-kit"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { HttpTraceContext } from "@effect/platform"
import { Data, Effect, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { AttemptsRepo } from "./AttemptsRepo.ts"
import { CheckoutRecovery, PaymentsTimeout } from "./CheckoutRecovery.ts"
import { LedgerRepo } from "./LedgerRepo.ts"

export { PaymentsTimeout } from "./CheckoutRecovery.ts"

/**
 * Idempotency-Keys are chosen by clients, so they are unique per customer only: the edge scopes each
 * key by the customer before storing it or deriving an order id from it. A customer id cannot hold
 * '/', so two scoped keys are equal only when customer and key both are.
 */
export const customerKey = (customerId: CustomerId, key: IdempotencyKey): string => `${customerId}/${key}`

/**
 * The order id is derived from the customer and the checkout's Idempotency-Key, so a client retrying
 * a checkout whose response it lost reaches the same order, and payments (keyed on the order) the
 * same authorization.
 */
export const orderIdFor = (customerId: CustomerId, key: IdempotencyKey): OrderId => {
  const hex = createHash("sha256").update(`checkout:${customerKey(customerId, key)}`).digest("hex")
  // RFC 9562 layout, version 8 (custom), variant 10xx.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return OrderId.make(
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  )
}

/** The current span as a W3C `traceparent`, for the outbox row's headers. */
const traceHeaders = Effect.map(Effect.currentSpan, (span) => {
  const traceparent = HttpTraceContext.toHeaders(span).traceparent
  return traceparent === undefined ? {} : { traceparent }
}).pipe(Effect.orElseSucceed(() => ({})))

const isQuantity = Schema.is(Quantity)
const isAmount = Schema.is(MinorUnits)

const unavailable = (message: string) => new UpstreamUnavailable({ service: "payments", message })

/**
 * The order id, and so the authorization payments replays, are bound to the key: once a failed
 * attempt released that authorization, no retry with the key can succeed. A 4xx says so; a 503 would
 * invite retries that fail forever.
 */
const releasedAuthorization = () =>
  new IdempotencyKeyReused({
    message: "this Idempotency-Key's checkout failed and its payment authorization was released; " +
      "check out again with a new Idempotency-Key"
  })

/** The attempt was released (its hold voided or being voided) before this checkout could commit. */
class AttemptReleased extends Data.TaggedError("AttemptReleased") {}

export class Checkout extends Effect.Service<Checkout>()("@ecommerce/edge-api/Checkout", {
  effect: Effect.gen(function*() {
    const repo = yield* LedgerRepo
    const attempts = yield* AttemptsRepo
    const recovery = yield* CheckoutRecovery
    const idempotency = yield* Idempotency
    const payments = yield* PaymentsClient
    const paymentsTimeout = yield* PaymentsTimeout

    const price = (request: CheckoutRequest) =>
      Effect.gen(function*() {
        const prices = new Map(
          (yield* repo.prices(request.currency, request.items.map((item) => item.sku))).map((
            row
          ) => [row.sku, row.unitPrice])
        )
        const lines: Array<OrderLine> = []
        for (const item of request.items) {
          const unitPrice = prices.get(item.sku)
          if (unitPrice === undefined) {
            return yield* new UnknownSku({
              sku: item.sku,
              currency: request.currency,
              message: `no price for ${item.sku} in ${request.currency}`
            })
          }
          lines.push(new OrderLine({ sku: item.sku, quantity: item.quantity, unitPrice }))
        }
        // Inventory sums a sku's lines into one reservation line, itself a Quantity: refuse here what
        // the saga could never reserve.
        const perSku = new Map<string, number>()
        for (const line of lines) perSku.set(line.sku, (perSku.get(line.sku) ?? 0) + line.quantity)
        for (const [sku, quantity] of perSku) {
          if (!isQuantity(quantity)) {
            return yield* invalidRequest(["items"], `the lines of ${sku} add up to ${quantity}; at most 10000 per sku`)
          }
        }
        const amount = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0)
        if (!isAmount(amount)) {
          return yield* invalidRequest(["items"], `the order comes to ${amount} minor units; at most 10^12`)
        }
        return { lines: [lines[0]!, ...lines.slice(1)] as const, amount }
      })

    /** The only remote call; every way it can fail maps to an answer the edge's contract declares. */
    const authorize = (request: Authorize) =>
      payments.payments.authorize({
        headers: { "idempotency-key": IdempotencyKey.make(`checkout:${request.orderId}:authorize`) },
        payload: request
      }).pipe(
        Effect.timeoutFail({
          duration: paymentsTimeout,
          onTimeout: () => unavailable("the payments service did not answer in time")
        }),
        Effect.catchAll((error): Effect.Effect<never, PaymentDeclined | UpstreamUnavailable | IdempotencyKeyReused> => {
          switch (error._tag) {
            case "PaymentDeclined":
            case "UpstreamUnavailable":
              return Effect.fail(error)
            case "IdempotencyKeyReused":
            case "AuthorizationConflict":
              // The order id comes from our key, so payments saw this key with other terms before.
              return Effect.fail(
                new IdempotencyKeyReused({ message: "this Idempotency-Key was already used for a different checkout" })
              )
            case "RequestError":
            case "ResponseError":
              return Effect.fail(unavailable(`the payments service failed: ${error.message}`))
            case "Unauthorized":
            case "HttpApiDecodeError":
            case "ParseError":
              // Our token or our contract is wrong: an operator must act, a retry will not help.
              return Effect.logError("payments rejected the edge API's request", error).pipe(
                Effect.zipRight(Effect.fail(unavailable("the payments service rejected the edge API's request")))
              )
          }
        })
      )

    /** Fails unless the authorization can still be captured (a failed attempt may have voided it). */
    const ensureAuthorized = (authorizationId: AuthorizationId) =>
      payments.payments.get({ path: { authorization_id: authorizationId } }).pipe(
        Effect.timeoutFail({
          duration: paymentsTimeout,
          onTimeout: () => unavailable("the payments service did not answer in time")
        }),
        Effect.catchAll((error): Effect.Effect<never, UpstreamUnavailable> => {
          switch (error._tag) {
            case "UpstreamUnavailable":
              return Effect.fail(error)
            case "RequestError":
            case "ResponseError":
              return Effect.fail(unavailable(`the payments service failed: ${error.message}`))
            case "AuthorizationNotFound":
            case "Unauthorized":
            case "HttpApiDecodeError":
            case "ParseError":
              return Effect.logError("payments could not show the authorization it just returned", error).pipe(
                Effect.zipRight(Effect.fail(unavailable("the payments service could not show the authorization")))
              )
          }
        }),
        Effect.flatMap((payment) =>
          payment.status === "AUTHORIZED" ? Effect.void : Effect.fail(releasedAuthorization())
        )
      )

    const checkout = (key: IdempotencyKey, request: CheckoutRequest) =>
      Effect.gen(function*() {
        const orderId = orderIdFor(request.customerId, key)
        yield* Effect.annotateCurrentSpan("orderId", orderId)
        const recorded = {
          key: customerKey(request.customerId, key),
          request: { endpoint: "checkout", body: request },
          success: CheckoutAccepted
        }
        // A replay answers from the record before pricing or calling payments: a price changed since,
        // or payments being down, must not turn the stored 202 into a 422 or a 503; and a key used by
        // another request must not leave a fresh authorization behind its 422.
        const replayed = yield* idempotency.replay(recorded)
        if (Option.isSome(replayed)) return replayed.value
        const { amount, lines } = yield* price(request)
        // Recorded before any card is held, in its own short statement: if this checkout never
        // finishes (the edge killed, the client gone, payments silent), recovery finds the attempt
        // and voids the hold once CHECKOUT_RECOVERY_MS has passed. A released attempt stays released.
        const status = yield* attempts.open(orderId)
        if (status === "voiding" || status === "voided") return yield* releasedAuthorization()
        // No transaction or lock is held across these calls: a slow payments service must not
        // drain the pool. A 503 from here on leaves the hold for a retry with the same key.
        const payment = yield* authorize(
          new Authorize({ orderId, amount, currency: request.currency, cardToken: request.cardToken })
        )
        yield* ensureAuthorized(payment.authorizationId)
        const event = new OrderPlaced({
          orderId,
          customerId: request.customerId,
          items: lines,
          amount,
          currency: request.currency,
          authorizationId: payment.authorizationId
        })
        const headers = yield* traceHeaders
        return yield* idempotency.run(
          recorded,
          Effect.gen(function*() {
            // open -> placed with the order's rows, in one transaction: a release that took the
            // attempt first wins, and this checkout answers 422 instead of placing a voided order.
            if (!(yield* attempts.markPlaced(orderId))) return yield* new AttemptReleased()
            yield* repo.insertLedger(event)
            yield* repo.insertEvent(OrderPlaced, event, headers)
            return new CheckoutAccepted({ orderId })
          })
        ).pipe(
          // Released by someone else, so this order can never be placed: void what our authorize may
          // have created after that release's void ran.
          Effect.catchTag("AttemptReleased", () =>
            repo.find(orderId).pipe(
              Effect.flatMap((placed) =>
                Option.isSome(placed) ? Effect.void : Effect.ignore(recovery.voidOrder(orderId))
              ),
              Effect.zipRight(Effect.fail(releasedAuthorization()))
            )),
          // The transaction died (it may still have committed: the release then finds it placed).
          Effect.tapDefect(() => recovery.release(orderId))
        )
      }).pipe(Effect.withSpan("Checkout.checkout"))

    const getOrder = (orderId: OrderId) =>
      repo.find(orderId).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new OrderNotFound({ orderId, message: `order ${orderId} does not exist` })),
          onSome: Effect.succeed
        })),
        Effect.withSpan("Checkout.getOrder")
      )

    const cancelOrder = (key: IdempotencyKey, orderId: OrderId, request: CancelCheckout) =>
      Effect.gen(function*() {
        // The key is scoped by the order's customer, like a checkout's, so it needs the order first;
        // the ledger row, once written, is never deleted, so a replay finds it again.
        const order = yield* getOrder(orderId)
        const headers = yield* traceHeaders
        const [first, ...rest] = order.items
        return yield* idempotency.run(
          {
            key: customerKey(order.customerId, key),
            request: { endpoint: "cancelOrder", orderId, body: request },
            success: CheckoutAccepted
          },
          repo.insertEvent(
            OrderCancellationRequested,
            new OrderCancellationRequested({
              orderId,
              customerId: order.customerId,
              items: [first!, ...rest],
              amount: order.amount,
              currency: order.currency,
              authorizationId: order.authorizationId,
              reason: request.reason ?? "cancelled by the customer"
            }),
            headers
          ).pipe(Effect.as(new CheckoutAccepted({ orderId })))
        )
      }).pipe(Effect.withSpan("Checkout.cancelOrder"))

    return { checkout, getOrder, cancelOrder } as const
  }),
  dependencies: [
    LedgerRepo.Default,
    AttemptsRepo.Default,
    CheckoutRecovery.Default,
    Idempotency.layer("edge.idempotency_keys")
  ]
}) {}

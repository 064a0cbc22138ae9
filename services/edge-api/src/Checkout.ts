import {
  Authorize,
  type CancelCheckout,
  type Checkout as CheckoutRequest,
  CheckoutAccepted,
  type IdempotencyKey,
  OrderCancellationRequested,
  type OrderId,
  OrderNotFound,
  OrderPlaced
} from "@ecommerce/contracts"
import { Idempotency } from "@ecommerce/http-kit"
import { HttpServerRequest, HttpTraceContext } from "@effect/platform"
import { Data, Effect, Option } from "effect"
import { AttemptsRepo } from "./AttemptsRepo.ts"
import { makeCheckoutPayments, releasedAuthorization } from "./CheckoutPayments.ts"
import { CheckoutRecovery } from "./CheckoutRecovery.ts"
import { LedgerRepo } from "./LedgerRepo.ts"
import { customerKey, orderIdFor } from "./OrderKeys.ts"
import { price } from "./Pricing.ts"

/**
 * The current span as a W3C `traceparent`, for the outbox row's headers, with the request's
 * `tracestate` when the span continues the request's trace (the vendor state belongs to that trace).
 */
const traceHeaders = Effect.gen(function*() {
  const span = yield* Effect.currentSpan
  const traceparent = HttpTraceContext.toHeaders(span).traceparent
  if (traceparent === undefined) return {}
  const request = yield* Effect.serviceOption(HttpServerRequest.HttpServerRequest)
  const tracestate = Option.getOrUndefined(Option.flatMap(request, (r) => Option.fromNullable(r.headers.tracestate)))
  const incoming = Option.getOrUndefined(Option.flatMap(request, (r) => Option.fromNullable(r.headers.traceparent)))
  const sameTrace = incoming !== undefined && incoming.split("-")[1] === span.traceId
  return sameTrace && tracestate !== undefined && tracestate.trim() !== ""
    ? { traceparent, tracestate: tracestate.trim() }
    : { traceparent }
}).pipe(Effect.orElseSucceed(() => ({})))

/** The attempt was released (its hold voided or being voided) before this checkout could commit. */
class AttemptReleased extends Data.TaggedError("AttemptReleased") {}

/**
 * The edge's checkout, order view and cancellation. Its constructor is long only because it holds
 * the three methods (a record of functions, as Effect.Service builds one); each is under 80 lines.
 */
export class Checkout extends Effect.Service<Checkout>()("@ecommerce/edge-api/Checkout", {
  effect: Effect.gen(function*() {
    const repo = yield* LedgerRepo
    const attempts = yield* AttemptsRepo
    const recovery = yield* CheckoutRecovery
    const idempotency = yield* Idempotency
    const { authorize, ensureAuthorized } = yield* makeCheckoutPayments

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
        const { amount, lines } = yield* price(repo, request)
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

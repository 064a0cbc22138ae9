import {
  type AuthorizationId,
  type Authorize,
  IdempotencyKey,
  IdempotencyKeyReused,
  type PaymentDeclined,
  UpstreamUnavailable
} from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { Effect } from "effect"
import { PaymentsTimeout } from "./CheckoutRecovery.ts"

const unavailable = (message: string) => new UpstreamUnavailable({ service: "payments", message })

/**
 * The order id, and so the authorization payments replays, are bound to the key: once a failed
 * attempt released that authorization, no retry with the key can succeed. A 4xx says so; a 503 would
 * invite retries that fail forever.
 */
export const releasedAuthorization = () =>
  new IdempotencyKeyReused({
    message: "this Idempotency-Key's checkout failed and its payment authorization was released; " +
      "check out again with a new Idempotency-Key"
  })

/** Checkout's calls to payments; every way they can fail maps to an answer the edge's contract declares. */
export const makeCheckoutPayments = Effect.gen(function*() {
  const payments = yield* PaymentsClient
  const paymentsTimeout = yield* PaymentsTimeout

  /** The only remote call that changes anything. */
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
      Effect.flatMap((payment) => payment.status === "AUTHORIZED" ? Effect.void : Effect.fail(releasedAuthorization()))
    )

  return { authorize, ensureAuthorized } as const
})

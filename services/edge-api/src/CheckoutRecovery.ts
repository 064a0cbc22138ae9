import { IdempotencyKey, type OrderId } from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { Config, Duration, Effect, Layer, Schedule } from "effect"
import { AttemptsRepo } from "./AttemptsRepo.ts"

/** How long checkout waits for the payments service before answering 503. */
export const PaymentsTimeout = Config.duration("PAYMENTS_TIMEOUT").pipe(Config.withDefault(Duration.seconds(5)))

/**
 * `CHECKOUT_RECOVERY_MS` (default 120000): a checkout attempt older than this that has no ledger row
 * is abandoned, and its authorization voided. Until then a client may retry the checkout with the
 * same Idempotency-Key and reuse the hold (after a 503, say).
 */
export const CheckoutRecoveryMs = Config.integer("CHECKOUT_RECOVERY_MS").pipe(
  Config.withDefault(120_000),
  Config.validate({ message: "must be a whole number of milliseconds above 0", validation: (ms) => ms > 0 })
)

/** A quarter of the window, between 100 ms and 30 s: a hold is released within ~1.25 windows. */
const passInterval = (windowMs: number) => Duration.millis(Math.min(30_000, Math.max(100, Math.floor(windowMs / 4))))

const batchSize = 100

export class CheckoutRecovery extends Effect.Service<CheckoutRecovery>()("@ecommerce/edge-api/CheckoutRecovery", {
  effect: Effect.gen(function*() {
    const attempts = yield* AttemptsRepo
    const payments = yield* PaymentsClient
    const paymentsTimeout = yield* PaymentsTimeout
    const windowMs = yield* CheckoutRecoveryMs

    /**
     * Voids whatever authorization payments holds for the order, looked up by order id: the edge
     * may have died before it learnt the authorization's id. Idempotent; fails (to be retried) only
     * when payments cannot be asked.
     */
    const voidOrder = Effect.fn("CheckoutRecovery.voidOrder")(function*(orderId: OrderId) {
      const found = yield* payments.payments.getByOrder({ path: { order_id: orderId } }).pipe(
        Effect.timeout(paymentsTimeout),
        Effect.asSome,
        Effect.catchTag("OrderAuthorizationNotFound", () => Effect.succeedNone)
      )
      if (found._tag === "None" || found.value.status !== "AUTHORIZED") return
      yield* payments.payments.void({
        path: { authorization_id: found.value.authorizationId },
        headers: { "idempotency-key": IdempotencyKey.make(`checkout:${orderId}:void`) }
      }).pipe(
        Effect.timeout(paymentsTimeout),
        // Captured meanwhile: only a saga captures, so an order exists after all; leave it be.
        Effect.catchTag(
          "PaymentStateConflict",
          (error) => Effect.logWarning("a failed checkout's authorization was no longer open", error.message)
        )
      )
    })

    /** voiding -> voided, or left voiding for the next pass when payments could not be reached. */
    const finishVoiding = (orderId: OrderId) =>
      voidOrder(orderId).pipe(
        Effect.zipRight(attempts.markVoided(orderId)),
        Effect.tap(() => Effect.logInfo("released the authorization of an abandoned checkout")),
        Effect.annotateLogs("order.id", orderId),
        Effect.catchAllCause((cause) =>
          Effect.logWarning("could not release a checkout's authorization yet; will retry", cause).pipe(
            Effect.annotateLogs("order.id", orderId)
          )
        )
      )

    /** For a checkout that failed after authorizing: release at once unless the order committed. */
    const release = (orderId: OrderId) =>
      Effect.flatMap(attempts.claim(orderId), (claimed) => claimed ? finishVoiding(orderId) : Effect.void).pipe(
        Effect.catchAllCause((cause) => Effect.logError("could not claim a failed checkout for release", cause)),
        Effect.withSpan("CheckoutRecovery.release", { attributes: { "order.id": orderId } })
      )

    /** One pass: claim what is due (batch by batch) and release it. */
    const recover = Effect.gen(function*() {
      // A claimer that went quiet for two payments timeouts is presumed dead.
      const staleClaimMs = 2 * Duration.toMillis(paymentsTimeout) + 1000
      let total = 0
      while (true) {
        const due = yield* attempts.claimExpired(windowMs, staleClaimMs, batchSize)
        yield* Effect.forEach(due, finishVoiding, { concurrency: 4, discard: true })
        total += due.length
        if (due.length < batchSize) return total
      }
    }).pipe(Effect.withSpan("CheckoutRecovery.recover"))

    return { release, voidOrder, recover, interval: passInterval(windowMs) } as const
  }),
  dependencies: [AttemptsRepo.Default]
}) {}

/** The recovery loop, in every edge replica (claims make concurrent passes safe). */
export const CheckoutRecoveryLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const recovery = yield* CheckoutRecovery
    const pass = recovery.recover.pipe(
      Effect.catchAllCause((cause) =>
        Effect.logWarning("checkout recovery pass failed; will retry", cause).pipe(Effect.as(0))
      )
    )
    yield* Effect.forkScoped(Effect.repeat(pass, Schedule.spaced(recovery.interval)))
  })
)

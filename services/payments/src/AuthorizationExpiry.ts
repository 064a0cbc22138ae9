import { Config, Duration, Effect, Layer, Schedule } from "effect"
import { PaymentsRepo } from "./PaymentsRepo.ts"

/**
 * `AUTHORIZATION_TTL`: how long an AUTHORIZED hold may stay open before payments voids it, as card
 * networks do. A duration such as `7 days`, `36 hours` or `90 seconds` (default `7 days`). A backstop
 * only: the edge API voids the holds of failed checkouts within CHECKOUT_RECOVERY_MS, and a saga
 * captures or voids its order's hold; an expired hold is VOIDED, so a late capture is refused (409).
 */
export const AuthorizationTtl = Config.duration("AUTHORIZATION_TTL").pipe(
  Config.withDefault(Duration.days(7)),
  Config.validate({ message: "must be longer than zero", validation: (ttl) => Duration.toMillis(ttl) > 0 })
)

/** A tenth of the TTL, between 100 ms and a minute: expiry is late by at most that much. */
const sweepInterval = (ttl: Duration.Duration) =>
  Duration.millis(Math.min(60_000, Math.max(100, Math.floor(Duration.toMillis(ttl) / 10))))

/**
 * Voids expired holds, in every payments replica: each sweep is one conditional UPDATE (status still
 * AUTHORIZED), so replicas sweeping together void each hold once and never touch a captured one.
 */
export const AuthorizationExpiryLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const repo = yield* PaymentsRepo
    const ttl = yield* AuthorizationTtl
    const sweep = repo.expireAuthorized(Duration.toMillis(ttl)).pipe(
      Effect.tap((expired) =>
        expired === 0
          ? Effect.void
          : Effect.logInfo(`voided ${expired} authorizations older than ${Duration.format(ttl)}`)
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("expiring old authorizations failed; will retry", cause)),
      Effect.withSpan("Payments.expireAuthorizations")
    )
    yield* Effect.forkScoped(Effect.repeat(sweep, Schedule.spaced(sweepInterval(ttl))))
  })
)

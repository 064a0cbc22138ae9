import { Chunk, Clock, Duration, Effect, Option, Schedule } from "effect"
import { backoff } from "../outbox/Backoff.ts"

/**
 * Every Schedule of the saga engine, named, in one place.
 *
 * A retry policy is a Schedule whose recurrences are the retries of one step. The engine does not
 * run it with `Effect.retry`: attempts are persisted in the step log, so a saga resumed on another
 * replica, or woken from a park, continues the same policy where it stopped. `delayBefore` replays
 * the schedule up to the attempt that just failed (jitter included) to get the next delay.
 */
export type RetryPolicy = Schedule.Schedule<unknown, unknown>

// The worker's one backoff formula (`outbox/Backoff.ts`): doubling from a base to a cap, equal jitter.

/** Forward steps: 200 ms doubling to 30 s, jittered, 8 retries; then the saga compensates. */
export const forwardRetry: RetryPolicy = backoff(200, 30_000).pipe(Schedule.intersect(Schedule.recurs(8)))

/** Compensations must eventually succeed: 500 ms doubling to 60 s, jittered, without end. */
export const compensationRetry: RetryPolicy = backoff(500, 60_000)

/** Forward-recovery sagas (a cancellation must go through): like compensations, without end. */
export const persistentRetry: RetryPolicy = compensationRetry

/**
 * The delay before retry number `failedAttempts` (1 after the first failure), or None when the
 * policy has no more retries.
 */
export const delayBefore = (policy: RetryPolicy, failedAttempts: number) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    // `Schedule.run` also emits the output of the step that ends the schedule, so retry n exists
    // when n + 1 inputs produce n + 1 outputs.
    const delays = yield* Schedule.run(
      Schedule.delays(policy),
      now,
      Array.from({ length: failedAttempts + 1 }, () => undefined)
    )
    return delays.length > failedAttempts ? Chunk.get(delays, failedAttempts - 1) : Option.none<Duration.Duration>()
  })

/** Between two retention passes of one replica. */
export const retentionSchedule = Schedule.spaced("1 minute")

/** Between two passes of one replica's sweeps (dead-lettered sagas, stranded orders). */
export const sweepSchedule = (everyMs: number) => Schedule.spaced(Duration.millis(everyMs))

import { Chunk, Clock, Duration, Effect, Option, Schedule } from "effect"

/**
 * Every Schedule of the saga engine, named, in one place.
 *
 * A retry policy is a Schedule whose recurrences are the retries of one step. The engine does not
 * run it with `Effect.retry`: attempts are persisted in the step log, so a saga resumed on another
 * replica, or woken from a park, continues the same policy where it stopped. `delayBefore` replays
 * the schedule up to the attempt that just failed (jitter included) to get the next delay.
 */
export type RetryPolicy = Schedule.Schedule<unknown, unknown>

const capped = (base: Duration.DurationInput, max: Duration.DurationInput) =>
  Schedule.exponential(base, 2).pipe(
    Schedule.union(Schedule.spaced(max)),
    Schedule.jittered
  )

/** Forward steps: 200 ms doubling to 30 s, jittered, 8 retries; then the saga compensates. */
export const forwardRetry: RetryPolicy = capped("200 millis", "30 seconds").pipe(Schedule.intersect(Schedule.recurs(8)))

/** Compensations must eventually succeed: 500 ms doubling to 60 s, jittered, without end. */
export const compensationRetry: RetryPolicy = capped("500 millis", "60 seconds")

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

/** Startup's database steps (deploy safety): 100 ms doubling to 2 s, jittered, within STARTUP_TIMEOUT_MS. */
export const startupRetry = capped("100 millis", "2 seconds")

/** Between two retention passes of one replica. */
export const retentionSchedule = Schedule.spaced("1 minute")

/** Between two passes of one replica's sweeps (dead-lettered sagas, stranded orders). */
export const sweepSchedule = (everyMs: number) => Schedule.spaced(Duration.millis(everyMs))

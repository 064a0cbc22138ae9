import { Duration, Effect, Random, Schedule } from "effect"

/**
 * Delay before retry number `attempt` (1 = the first retry after the first failed run):
 *   ceiling = min(maxMs, baseMs * 2^(attempt - 1))
 *   delay   = ceiling / 2 + random * ceiling / 2          ("equal jitter": never below half)
 * Jitter spreads the retries of a burst that failed together; the floor keeps backoff meaningful.
 * The only backoff formula of the worker: event retries use it directly, loops through `backoff`.
 */
export const retryDelayMs = (attempt: number, baseMs: number, maxMs: number, random: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30))
  return Math.round(ceiling / 2 + random * (ceiling / 2))
}

/** `retryDelayMs` as a Schedule: recurrence n waits `retryDelayMs(n, baseMs, maxMs, random)`. */
export const backoff = (baseMs: number, maxMs: number): Schedule.Schedule<number> =>
  Schedule.forever.pipe(
    Schedule.addDelayEffect((n) =>
      Effect.map(Random.next, (random) => Duration.millis(retryDelayMs(n + 1, baseMs, maxMs, random)))
    )
  )

import { expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, FastCheck, Random, Schedule } from "effect"
import { backoff, retryDelayMs } from "../src/outbox/Backoff.ts"

// The event-retry formula's bounds are a property in worker.test.ts; this one holds the Schedule the
// loops use (LISTEN reconnects, completion writes, restarts) to the same formula.
it.effect.prop(
  "backoff's n-th delay lies in [ceiling / 2, ceiling] of retryDelayMs, never above its cap, for any seed",
  [
    FastCheck.integer({ min: 1, max: 10_000 }),
    FastCheck.integer({ min: 0, max: 1_000_000 }),
    FastCheck.integer({ min: 1, max: 40 }),
    FastCheck.integer()
  ],
  ([baseMs, extra, recurrences, seed]) =>
    Effect.gen(function*() {
      const maxMs = baseMs + extra
      const delays = yield* Schedule.run(
        Schedule.delays(backoff(baseMs, maxMs)),
        0,
        Array.from({ length: recurrences }, () => undefined)
      ).pipe(Effect.withRandom(Random.make(seed)))
      expect(Chunk.size(delays)).toBe(recurrences)
      Chunk.toReadonlyArray(delays).forEach((delay, n) => {
        const millis = Duration.toMillis(delay)
        expect(millis).toBeGreaterThanOrEqual(retryDelayMs(n + 1, baseMs, maxMs, 0))
        expect(millis).toBeLessThanOrEqual(retryDelayMs(n + 1, baseMs, maxMs, 1))
        expect(millis).toBeLessThanOrEqual(maxMs)
      })
    })
)

import { expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, FastCheck, Random, Schedule } from "effect"
import { backoff, retryDelayMs } from "../src/outbox/Backoff.ts"

// The event-retry formula itself (the properties below), and the Schedule the loops use (LISTEN
// reconnects, completion writes, restarts) to the same formula.
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

it.prop(
  "retry delays stay within [ceiling / 2, ceiling], never above RETRY_MAX_MS, for any attempt and random draw",
  [
    FastCheck.integer({ min: 1, max: 10_000 }),
    FastCheck.integer({ min: 1, max: 1_000_000 }),
    FastCheck.integer({ min: 0, max: 10_000_000 }),
    FastCheck.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
  ],
  ([attempt, baseMs, extra, random]) => {
    const maxMs = baseMs + extra
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30))
    const delay = retryDelayMs(attempt, baseMs, maxMs, random)
    expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2))
    expect(delay).toBeLessThanOrEqual(ceiling)
    expect(delay).toBeLessThanOrEqual(maxMs)
    // More attempts never shorten the ceiling.
    expect(retryDelayMs(attempt + 1, baseMs, maxMs, 1)).toBeGreaterThanOrEqual(retryDelayMs(attempt, baseMs, maxMs, 1))
  }
)

it("retry delays double from RETRY_BASE_MS and are capped at RETRY_MAX_MS", () => {
  expect(retryDelayMs(1, 1000, 300_000, 0)).toBe(500)
  expect(retryDelayMs(1, 1000, 300_000, 1)).toBe(1000)
  expect(retryDelayMs(4, 1000, 300_000, 0.5)).toBe(6000)
  expect(retryDelayMs(20, 1000, 300_000, 0)).toBe(150_000)
  expect(retryDelayMs(20, 1000, 300_000, 1)).toBe(300_000)
  expect(retryDelayMs(1_000, 1000, 300_000, 1)).toBe(300_000)
})

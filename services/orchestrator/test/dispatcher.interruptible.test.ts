import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FiberSet, Option } from "effect"
import { makeDispatcher } from "../src/outbox/Dispatcher.ts"
import type { ClaimedRow } from "../src/outbox/OutboxRepo.ts"
import { makePace } from "../src/outbox/Pace.ts"
import type { Runner } from "../src/outbox/Runner.ts"
import { makeRunningSet } from "../src/outbox/RunningSet.ts"
import { makeWakeups } from "../src/outbox/Wakeups.ts"

const row = (id: string): ClaimedRow => ({
  id,
  event_id: `e${id}`,
  aggregate_type: "a",
  aggregate_id: id,
  event_type: "t",
  payload: {},
  headers: {},
  attempts: 1,
  redelivered: false,
  lease_token: `l${id}`,
  created_at: new Date()
} as unknown as ClaimedRow)

describe("Dispatcher", () => {
  // The watchdog and lease loss (Leases.ts) interrupt a handler's fiber: every handler must stay
  // interruptible, including one started by a finishing run (not only by the fetcher's `start`).
  it.live("a handler started by a finishing run can be interrupted", () =>
    Effect.gen(function*() {
      const running = makeRunningSet({ maxAttempts: 5, retryBaseMs: 10, retryMaxMs: 100 }, () => {})
      const handlerFibers = yield* FiberSet.make<void, unknown>()
      const wakeups = yield* makeWakeups
      const secondStarted = yield* Deferred.make<void>()
      const run = ((r: ClaimedRow) =>
        r.id === "1"
          ? Effect.void
          : Effect.zipRight(Deferred.succeed(secondStarted, undefined), Effect.sleep("3 seconds"))) as unknown as Runner
      const { hold, start } = makeDispatcher({
        running,
        run,
        handlerFibers,
        wakeups,
        concurrency: 1,
        pace: makePace({ concurrency: 1, prefetch: 4 }),
        flags: { mayHaveMore: false, stopping: false }
      })
      yield* hold([row("1"), row("2")])
      yield* start
      yield* Deferred.await(secondStarted)
      const second = running.leases().find((l) => l.id === "2")
      expect(second).toBeDefined()
      const fiber = [...running.startedBefore(Number.POSITIVE_INFINITY)].find((e) => e.row.id === "2")!.fiber!
      const interrupted = yield* Fiber.interrupt(fiber).pipe(Effect.timeout("1 second"), Effect.option)
      expect(Option.isSome(interrupted)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("a handler started by the fetcher's start can be interrupted", () =>
    Effect.gen(function*() {
      const running = makeRunningSet({ maxAttempts: 5, retryBaseMs: 10, retryMaxMs: 100 }, () => {})
      const handlerFibers = yield* FiberSet.make<void, unknown>()
      const wakeups = yield* makeWakeups
      const started = yield* Deferred.make<void>()
      const run = (() =>
        Effect.zipRight(Deferred.succeed(started, undefined), Effect.sleep("3 seconds"))) as unknown as Runner
      const { hold, start } = makeDispatcher({
        running,
        run,
        handlerFibers,
        wakeups,
        concurrency: 1,
        pace: makePace({ concurrency: 1, prefetch: 4 }),
        flags: { mayHaveMore: false, stopping: false }
      })
      yield* Effect.uninterruptible(hold([row("1")]))
      yield* start
      yield* Deferred.await(started)
      const fiber = running.startedBefore(Number.POSITIVE_INFINITY)[0]!.fiber!
      const interrupted = yield* Fiber.interrupt(fiber).pipe(Effect.timeout("1 second"), Effect.option)
      expect(Option.isSome(interrupted)).toBe(true)
    }).pipe(Effect.scoped))
})

import { expect, it as plain } from "@effect/vitest"
import { Effect, Fiber, Ref, TestClock } from "effect"
import { makeCircuitBreaker } from "../../src/saga/CircuitBreaker.ts"
import type { StepFailure } from "../../src/saga/StepFailure.ts"
import { rejectedFailure as rejected, transientFailure as transient } from "../saga-fixtures/fixtures.ts"

plain.effect(
  "circuit breaker: opens after the threshold, fails fast during the cool-down, then one trial call closes it",
  () =>
    Effect.gen(function*() {
      const breaker = yield* makeCircuitBreaker("inventory", { failureThreshold: 2, cooldownMs: 10_000 })
      const calls = yield* Ref.make(0)
      const call = (result: Effect.Effect<void, StepFailure>) =>
        breaker.protect(Effect.zipRight(Ref.update(calls, (n) => n + 1), result))
      yield* Effect.flip(call(Effect.fail(transient)))
      expect(yield* breaker.state).toBe("closed")
      yield* Effect.flip(call(Effect.fail(transient)))
      expect(yield* breaker.state).toBe("open")
      const fast = yield* Effect.flip(call(Effect.void))
      expect(fast).toMatchObject({
        errorTag: "CircuitOpen",
        kind: "transient",
        unknownOutcome: false,
        retryAfterMs: 10_000,
        notAttempted: true
      })
      expect(yield* Ref.get(calls)).toBe(2)
      yield* TestClock.adjust("10 seconds")
      // The trial fails: open again for a full cool-down.
      yield* Effect.flip(call(Effect.fail(transient)))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("10 seconds")
      yield* call(Effect.void)
      expect(yield* breaker.state).toBe("closed")
      // A business rejection means the service is healthy: it does not count.
      yield* Effect.flip(call(Effect.fail(rejected)))
      yield* Effect.flip(call(Effect.fail(rejected)))
      expect(yield* breaker.state).toBe("closed")
      expect(yield* Ref.get(calls)).toBe(6)
    })
)

plain.effect(
  "circuit breaker: calls cut off by the step timeout count as failures; a trial cut off re-opens it for a cool-down",
  () =>
    Effect.gen(function*() {
      const breaker = yield* makeCircuitBreaker("orders", { failureThreshold: 2, cooldownMs: 10_000 })
      const calls = yield* Ref.make(0)
      // What the engine does to a step: a per-call timeout around the protected call.
      const hanging = breaker.protect(Effect.zipRight(Ref.update(calls, (n) => n + 1), Effect.never)).pipe(
        Effect.timeoutFail({ duration: "1 second", onTimeout: () => transient })
      )
      const timedOut = Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.flip(hanging))
        yield* TestClock.adjust("1 second")
        return yield* Fiber.join(fiber)
      })
      yield* timedOut
      expect(yield* breaker.state).toBe("closed")
      yield* timedOut
      expect(yield* breaker.state).toBe("open")
      expect(yield* Effect.flip(breaker.protect(Effect.void))).toMatchObject({ errorTag: "CircuitOpen" })
      yield* TestClock.adjust("10 seconds")
      yield* timedOut // the trial call hangs too
      expect(yield* breaker.state).toBe("open")
      expect(yield* Effect.flip(breaker.protect(Effect.void))).toMatchObject({
        errorTag: "CircuitOpen",
        retryAfterMs: 10_000
      })
      expect(yield* Ref.get(calls)).toBe(3)
    })
)

plain.effect(
  "circuit breaker: a trial call that dies (a defect) or is interrupted re-opens the circuit; it never stays half-open",
  () =>
    Effect.gen(function*() {
      const breaker = yield* makeCircuitBreaker("orders", { failureThreshold: 1, cooldownMs: 10_000 })
      yield* Effect.flip(breaker.protect(Effect.fail(transient)))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("10 seconds")
      // The trigger seen in production: `new CancelOrder` throwing inside the protected call.
      yield* Effect.exit(breaker.protect(Effect.dieMessage("reason too long")))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("10 seconds")
      const trial = yield* Effect.fork(breaker.protect(Effect.never))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(trial)
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("10 seconds")
      yield* breaker.protect(Effect.void)
      expect(yield* breaker.state).toBe("closed")
      // A defect while closed is a bug of ours, not a sign of a sick service: no state change.
      yield* Effect.exit(breaker.protect(Effect.dieMessage("bug")))
      expect(yield* breaker.state).toBe("closed")
    })
)

import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Schema, TestClock, TestContext } from "effect"
import { makeCircuitBreaker } from "../../src/saga/CircuitBreaker.ts"
import { sagaHandler } from "../../src/saga/Engine.ts"
import { parallel, type ParallelMember, type SagaDefinition, type Step, step } from "../../src/saga/Saga.ts"
import type { SagaConfig } from "../../src/saga/SagaConfig.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import {
  EngineDatabase,
  outboxEvent,
  rejectedFailure as rejected,
  sagaOf,
  stepLogOf,
  testSettings,
  transientFailure as transient
} from "../saga-fixtures/fixtures.ts"

const settings = testSettings({ stepTimeoutMs: 1_000, circuitFailureThreshold: 2, circuitCooldownMs: 10_000 })

const Ctx = Schema.Struct({ label: Schema.String })
const testStep = (definition: Omit<Step<typeof Ctx.Type, never>, "_tag">) => step(definition)

const event = (eventType: string) => outboxEvent(eventType, { label: "x" }, { aggregateType: "test" })

layer(EngineDatabase(), { excludeTestServices: true })("saga engine", (it) => {
  it.effect("a parallel group runs together; when one member is rejected the completed one is compensated", () =>
    Effect.gen(function*() {
      const journal: Array<string> = []
      const note = (entry: string) => Effect.sync(() => void journal.push(entry))
      const saga: SagaDefinition<typeof Ctx.Type, typeof Ctx.Encoded, typeof Ctx.Type, never> = {
        type: "ParallelTest",
        eventType: "ParallelTest",
        payload: Ctx,
        context: Ctx,
        initialContext: (payload) => payload,
        units: [
          testStep({ name: "first", action: () => note("first"), compensation: () => note("undo first") }),
          parallel(
            testStep({ name: "left", action: () => note("left"), compensation: () => note("undo left") }),
            testStep({
              name: "right",
              action: () =>
                Effect.zipRight(Effect.sleep("20 millis"), Effect.zipRight(note("right"), Effect.fail(rejected))),
              compensation: () => note("undo right")
            })
          ),
          testStep({ name: "never", action: () => note("never") })
        ],
        finish: () => Effect.void
      }
      const handler = yield* sagaHandler(saga).pipe(Effect.provideService(SagaSettings, settings))
      const trigger = event("ParallelTest")
      yield* handler.run(trigger)
      // Both members ran; the rejected one applied nothing, so it is not compensated.
      expect(journal.slice(0, 3).sort()).toEqual(["first", "left", "right"])
      expect(journal.slice(3)).toEqual(["undo left", "undo first"])
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<
        { state: string }
      >`select state from saga_instances where trigger_event_id = ${trigger.eventId}`
      expect(row?.state).toBe("compensated")
    }))

  it.effect("parallel members that change the context (here the same key) are refused: nothing half-merged is stored", () =>
    Effect.gen(function*() {
      const journal: Array<string> = []
      const note = (entry: string) => Effect.sync(() => void journal.push(entry))
      // The type of `parallel` forbids this; a saga written in plain JS (or cast) must still be refused.
      const changing = (name: string) =>
        testStep({
          name,
          action: () => Effect.as(note(name), { label: name }),
          compensation: () => note(`undo ${name}`)
        }) as unknown as ParallelMember<typeof Ctx.Type, never>
      const saga: SagaDefinition<typeof Ctx.Type, typeof Ctx.Encoded, typeof Ctx.Type, never> = {
        type: "ParallelContextTest",
        eventType: "ParallelContextTest",
        payload: Ctx,
        context: Ctx,
        initialContext: (payload) => payload,
        units: [
          parallel(changing("left"), changing("right")),
          testStep({ name: "never", action: () => note("never") })
        ],
        finish: () => Effect.void
      }
      const handler = yield* sagaHandler(saga).pipe(Effect.provideService(SagaSettings, settings))
      const trigger = event("ParallelContextTest")
      yield* handler.run(trigger)
      const stored = yield* sagaOf(trigger.eventId)
      expect(stored).toMatchObject({ state: "compensated", context: { label: "x" } })
      expect(stored.error).toMatchObject({ details: { errorTag: "ParallelContextChange" } })
      // Both ran and may have applied their effects: both are compensated; the next unit never runs.
      expect(journal.slice(0, 2).sort()).toEqual(["left", "right"])
      expect(journal.slice(2).sort()).toEqual(["undo left", "undo right"])
    }))

  it.effect("a short backoff is slept in the handler on the Clock; a longer one parks with the delay", () =>
    Effect.gen(function*() {
      let attempts = 0
      const saga: SagaDefinition<typeof Ctx.Type, typeof Ctx.Encoded, typeof Ctx.Type, never> = {
        type: "RetryTest",
        eventType: "RetryTest",
        payload: Ctx,
        context: Ctx,
        initialContext: (payload) => payload,
        units: [
          testStep({
            name: "flaky",
            action: () => Effect.suspend(() => ++attempts < 3 ? Effect.fail(transient) : Effect.void)
          })
        ],
        finish: () => Effect.void
      }
      const inline = yield* sagaHandler(saga).pipe(
        Effect.provideService(SagaSettings, { ...settings, inlineRetryMaxMs: 60_000 })
      )
      const fiber = yield* Effect.fork(inline.run(event("RetryTest")))
      // forwardRetry waits about 200 ms, then 400 ms (jittered): no retry until the clock moves.
      const realPause = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
      while (attempts < 1) yield* realPause
      yield* realPause
      expect(attempts).toBe(1)
      while (attempts < 3) yield* Effect.zipRight(TestClock.adjust("1 second"), realPause)
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect(attempts).toBe(3)

      attempts = 0
      const parking = yield* sagaHandler(saga).pipe(
        Effect.provideService(SagaSettings, { ...settings, inlineRetryMaxMs: 0 })
      )
      const trigger = event("RetryTest")
      const parked = yield* Effect.flip(parking.run(trigger))
      expect(parked).toMatchObject({ _tag: "Park", delayMs: expect.any(Number) })
      expect(attempts).toBe(1)
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<
        { id: string }
      >`select id::text as id from saga_instances where trigger_event_id = ${trigger.eventId}`
      expect(yield* stepLogOf(row!.id)).toEqual([
        { step: "flaky", phase: "forward", status: "waiting", attempts: 1, outcomeUnknown: true }
      ])
    }).pipe(Effect.provide(TestContext.TestContext)))

  it.effect("an open circuit's fail-fast answers spend no retry budget: the saga outwaits a long outage; the deadline still ends the wait", () =>
    Effect.gen(function*() {
      const breaker = yield* makeCircuitBreaker("inventory", { failureThreshold: 1, cooldownMs: 10_000 })
      let calls = 0
      let down = true
      const saga: SagaDefinition<typeof Ctx.Type, typeof Ctx.Encoded, typeof Ctx.Type, never> = {
        type: "CircuitTest",
        eventType: "CircuitTest",
        payload: Ctx,
        context: Ctx,
        initialContext: (payload) => payload,
        units: [
          testStep({
            name: "call",
            action: () => breaker.protect(Effect.suspend(() => (calls++, down ? Effect.fail(transient) : Effect.void)))
          })
        ],
        finish: () => Effect.void
      }
      // The other sagas of a long outage: whenever the circuit lets a trial through, it fails.
      const otherSagas = Effect.exit(breaker.protect(Effect.fail(transient)))
      /** Runs the handler as the worker would, the TestClock moved by each park, until it ends. */
      const outage = (config: SagaConfig) =>
        Effect.gen(function*() {
          const handler = yield* sagaHandler(saga).pipe(Effect.provideService(SagaSettings, config))
          const trigger = event("CircuitTest")
          let parks = 0
          while (true) {
            if (down) yield* otherSagas
            const exit = yield* Effect.exit(handler.run(trigger))
            if (Exit.isSuccess(exit)) break
            const parked = yield* Effect.flip(exit)
            expect(parked).toMatchObject({ _tag: "Park", reason: expect.stringContaining("circuit open") })
            parks++
            yield* TestClock.adjust(parked._tag === "Park" ? parked.delayMs : 0)
            if (parks === 20) down = false
          }
          const [row] = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql<{ id: string; state: string; error: { details: { errorTag?: string } } | null }>`
              select id::text as id, state, error from saga_instances where trigger_event_id = ${trigger.eventId}`)
          return { parks, saga: row!, log: yield* stepLogOf(row!.id) }
        })

      // 20 fail-fast answers (forwardRetry allows 8 retries), then the service is back: the trial is ours.
      const recovered = yield* outage({ ...settings, sagaTimeoutMs: 3_600_000 })
      expect(recovered.parks).toBe(20)
      expect(recovered.saga.state).toBe("completed")
      expect(calls).toBe(1)
      expect(recovered.log).toEqual([{
        step: "call",
        phase: "forward",
        status: "succeeded",
        attempts: 1,
        outcomeUnknown: false
      }])

      // An outage longer than SAGA_TIMEOUT_MS: the saga compensates at the deadline, never having called.
      calls = 0
      down = true
      const timedOut = yield* outage({ ...settings, sagaTimeoutMs: 60_000 })
      expect(timedOut.parks).toBe(6)
      expect(timedOut.saga).toMatchObject({ state: "compensated", error: { details: { errorTag: "SagaTimeout" } } })
      expect(calls).toBe(0)
      expect(timedOut.log).toEqual([{
        step: "call",
        phase: "forward",
        status: "failed",
        attempts: 0,
        outcomeUnknown: false
      }])
    }).pipe(Effect.provide(TestContext.TestContext)))
})

import { InsufficientStock, OrderCancellationRequested, OrderId, OrderPlaced, Sku } from "@ecommerce/contracts"
import { HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, it as plain, layer } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Layer, Ref, Schema, TestClock, TestContext } from "effect"
import { makeCircuitBreaker } from "../../src/saga/CircuitBreaker.ts"
import { byStatus, classify } from "../../src/saga/Classification.ts"
import { checkDeploySafety } from "../../src/saga/DeploySafety.ts"
import { sagaHandler } from "../../src/saga/Engine.ts"
import { parallel, type ParallelMember, type SagaDefinition, type Step, step } from "../../src/saga/Saga.ts"
import type { SagaConfig } from "../../src/saga/SagaConfig.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import { StepFailure } from "../../src/saga/StepFailure.ts"
import { inventoryErrors } from "../../src/sagas/Downstream.ts"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import {
  EngineDatabase,
  insertLedgerRow,
  insertSaga,
  ledgerOf,
  newOrder,
  NoDownstream,
  outboxEvent,
  sagaOf,
  stepLogOf,
  testSettings
} from "../saga-fixtures/fixtures.ts"

const settings = testSettings({ stepTimeoutMs: 1_000, circuitFailureThreshold: 2, circuitCooldownMs: 10_000 })

const transient = new StepFailure({
  kind: "transient",
  unknownOutcome: true,
  errorTag: "ResponseError",
  message: "503"
})
const rejected = new StepFailure({ kind: "permanent", unknownOutcome: false, errorTag: "Nope", message: "no" })

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

plain(
  "event schemas bound their strings as the contracts they feed: a cancellation reason over 500 characters does not decode",
  () => {
    const request = {
      ...Schema.encodeSync(OrderPlaced)(newOrder()),
      reason: "x".repeat(501)
    }
    expect(Either.isLeft(Schema.decodeUnknownEither(OrderCancellationRequested)(request))).toBe(true)
    expect(
      Either.isRight(Schema.decodeUnknownEither(OrderCancellationRequested)({ ...request, reason: "x".repeat(500) }))
    ).toBe(true)
    expect(Either.isRight(Schema.decodeUnknownEither(OrderCancellationRequested)({ ...request, reason: "" }))).toBe(
      true
    )
  }
)

plain.effect(
  "classification: 5xx and transport errors are transient with unknown outcome; typed 409s are rejected",
  () =>
    Effect.sync(() => {
      const request = HttpClientRequest.get("http://inventory.test/x")
      const response = (status: number) =>
        new HttpClientError.ResponseError({
          request,
          response: HttpClientResponse.fromWeb(request, new Response("", { status })),
          reason: "StatusCode"
        })
      expect(byStatus(response(503))).toBe("transient")
      expect(byStatus(response(429))).toBe("transient")
      expect(byStatus(response(418))).toBe("unknown")
      expect(classify("inventory", inventoryErrors, response(502))).toMatchObject({
        kind: "transient",
        unknownOutcome: true
      })
      expect(classify("inventory", inventoryErrors, new HttpClientError.RequestError({ request, reason: "Transport" })))
        .toMatchObject({ kind: "transient", unknownOutcome: true })
      const insufficient = new InsufficientStock({
        orderId: OrderId.make("5b1c3c0e-0000-4000-8000-000000000000"),
        sku: Sku.make("MUG-BLUE"),
        requested: 2,
        available: 0,
        message: "none left"
      })
      expect(classify("inventory", inventoryErrors, insufficient)).toMatchObject({
        kind: "permanent",
        unknownOutcome: false,
        errorTag: "InsufficientStock",
        message: "inventory: InsufficientStock: none left"
      })
    })
)

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

// Its own database: deploy safety looks at every in-flight saga, so no other test's may be there.
layer(Layer.merge(EngineDatabase(), NoDownstream), { excludeTestServices: true })("deploy safety", (it) => {
  it.effect("deploy safety: refuses to start naming in-flight sagas at unknown steps; with park, they need attention", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const order = newOrder()
      yield* insertLedgerRow(order)
      const sagaId = yield* insertSaga({ order, currentStep: "shipParcel" })
      const refused = yield* Effect.flip(
        checkDeploySafety([OrderPlacedSaga]).pipe(Effect.provideService(SagaSettings, settings))
      )
      expect(refused._tag).toBe("UnknownSagaSteps")
      expect(refused.message).toContain(`${sagaId} (OrderPlaced, running: step shipParcel)`)
      expect(refused.message).toContain("SAGA_UNKNOWN_STEPS=park")

      yield* checkDeploySafety([OrderPlacedSaga]).pipe(
        Effect.provideService(SagaSettings, { ...settings, unknownSteps: "park" })
      )
      const [row] = yield* sql<
        { state: string; error: unknown }
      >`select state, error from saga_instances where id = ${sagaId}`
      expect(row).toMatchObject({
        state: "needs_attention",
        error: { details: { saga: { id: sagaId, type: "OrderPlaced", step: "shipParcel", state: "needs_attention" } } }
      })
      expect((yield* ledgerOf(order.orderId))?.status).toBe("NEEDS_ATTENTION")
      // Nothing left to refuse: the same check now passes.
      yield* checkDeploySafety([OrderPlacedSaga]).pipe(Effect.provideService(SagaSettings, settings))
    }))
})

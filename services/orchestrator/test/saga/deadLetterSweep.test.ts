import { OrderPlaced } from "@ecommerce/contracts"
import { TestDatabase } from "@ecommerce/db/testing"
import { rolePool } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schedule, Schema } from "effect"
import { handToOperator } from "../../src/saga/Attention.ts"
import { sweepDeadLettered } from "../../src/saga/DeadLetterSweep.ts"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import { Sagas } from "../../src/sagas/registry.ts"
import { SagaWorkerLive } from "../../src/sagas/SagaWorkerLive.ts"
import { makeFakeServices, reply } from "../saga-fixtures/FakeServices.ts"
import {
  EngineDatabase,
  insertLedgerRow,
  insertOutboxRow,
  insertSaga,
  ledgerOf,
  newOrder,
  NoDownstream,
  sagaOf
} from "../saga-fixtures/fixtures.ts"

const database = () => Layer.merge(EngineDatabase(), NoDownstream)

/** An OrderPlaced outbox row in `status`, and the saga it started, as the worker and engine leave them. */
const strandedSaga = (status: "dead" | "pending", sagaState: "running" | "compensating" | "completed" = "running") =>
  Effect.gen(function*() {
    const order = newOrder()
    yield* insertLedgerRow(order)
    const lastError = "lease held by worker-a expired during attempt 10 of 10 (worker crashed or stalled)"
    const eventId = yield* insertOutboxRow(order, {
      status,
      attempts: 10,
      lastError: status === "dead" ? lastError : null
    })
    const sagaId = yield* insertSaga({ order, eventId, state: sagaState, currentStep: "capturePayment" })
    return { order, eventId, sagaId, lastError }
  })

layer(database(), { excludeTestServices: true })("dead-letter sweep", (it) => {
  it.effect("a saga whose trigger event is dead needs attention, ledger NEEDS_ATTENTION; a pending one is untouched", () =>
    Effect.gen(function*() {
      const dead = yield* strandedSaga("dead")
      const deadWhileCompensating = yield* strandedSaga("dead", "compensating")
      const pending = yield* strandedSaga("pending")
      const finished = yield* strandedSaga("dead", "completed")

      expect(yield* sweepDeadLettered(Sagas)).toBe(2)

      const saga = yield* sagaOf(dead.eventId)
      expect(saga.state).toBe("needs_attention")
      expect(saga.error).toEqual({
        message: expect.stringContaining(dead.lastError),
        details: {
          saga: { id: dead.sagaId, type: "OrderPlaced", step: "capturePayment", state: "needs_attention" },
          errorTag: "EventDeadLettered"
        }
      })
      expect(yield* ledgerOf(dead.order.orderId)).toEqual({
        status: "NEEDS_ATTENTION",
        reason: expect.stringContaining(dead.lastError)
      })
      expect((yield* sagaOf(deadWhileCompensating.eventId)).state).toBe("needs_attention")
      expect((yield* ledgerOf(deadWhileCompensating.order.orderId))?.status).toBe("NEEDS_ATTENTION")

      expect((yield* sagaOf(pending.eventId)).state).toBe("running")
      expect(yield* ledgerOf(pending.order.orderId)).toEqual({ status: "PENDING", reason: null })
      expect((yield* sagaOf(finished.eventId)).state).toBe("completed")
      expect((yield* ledgerOf(finished.order.orderId))?.status).toBe("PENDING")

      // Nothing left for a later sweep.
      expect(yield* sweepDeadLettered(Sagas)).toBe(0)
    }))

  it.effect("two replicas that read the same dead-lettered saga: the state guard lets exactly one park it and move the ledger", () =>
    Effect.gen(function*() {
      const dead = yield* strandedSaga("dead")
      const row = { id: dead.sagaId, context: Schema.encodeSync(OrderPlaced)(dead.order) }
      const error = (replica: string) => ({
        message: `parked by ${replica}`,
        details: { saga: { id: dead.sagaId, type: "OrderPlaced", step: "capturePayment", state: "needs_attention" } }
      })
      // Both read the row before either writes (what concurrent sweeps do); then both hand it over.
      const outcomes = yield* Effect.all(
        [handToOperator(OrderPlacedSaga, row, error("a")), handToOperator(OrderPlacedSaga, row, error("b"))],
        { concurrency: 2 }
      )
      expect(outcomes.filter((o) => o.parked)).toHaveLength(1)
      const winner = outcomes[0]!.parked ? "a" : "b"
      expect((yield* sagaOf(dead.eventId)).error).toMatchObject({ message: `parked by ${winner}` })
      expect(yield* ledgerOf(dead.order.orderId)).toEqual({ status: "NEEDS_ATTENTION", reason: `parked by ${winner}` })
    }))
})

layer(database(), { excludeTestServices: true })("dead-letter sweep beside the real worker", (it) => {
  it.scoped("a handler that outlives HANDLER_TIMEOUT_MS on its last attempt: the worker dead-letters the event, the sweep parks the saga", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const order = newOrder()
      yield* insertLedgerRow(order)
      // The stock service never answers; the per-call timeout is longer than the handler's.
      const fake = makeFakeServices(order, (call) => call.endpoint === "POST /reservations" ? reply.never : undefined)
      yield* Layer.build(
        SagaWorkerLive(fake.layer).pipe(
          Layer.provide(rolePool("orchestrator")),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({
            DATABASE_URL: db.url,
            MAX_ATTEMPTS: "1",
            HANDLER_TIMEOUT_MS: "2000",
            SAGA_STEP_TIMEOUT_MS: "60000",
            SAGA_DEAD_LETTER_SWEEP_MS: "100"
          })))
        )
      )
      const eventId = yield* insertOutboxRow(order, { status: "pending" })
      const ledger = yield* ledgerOf(order.orderId).pipe(
        Effect.filterOrFail((l) => l?.status !== "PENDING"),
        Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("20 seconds")))
      )
      expect(ledger).toEqual({ status: "NEEDS_ATTENTION", reason: expect.stringContaining("dead-lettered") })
      const [outbox] = yield* sql<{ status: string }>`select status from outbox where event_id = ${eventId}`
      expect(outbox?.status).toBe("dead")
      const saga = yield* sagaOf(eventId)
      expect(saga).toMatchObject({ state: "needs_attention", error: { details: { saga: { step: "reserveStock" } } } })
      expect(fake.calls.map((call) => call.endpoint)).toEqual(["GET /payments", "POST /orders", "POST /reservations"])
    }))
})

import {
  IdempotencyKeyReused,
  InsufficientStock,
  OrderConflict,
  OrderId,
  type OrderPlaced,
  OrderTransitionRejected,
  PaymentDeclined,
  Sku
} from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Metric, Option, Schedule, TestContext } from "effect"
import { randomUUID } from "node:crypto"
import type { EventHandler, OutboxEvent } from "../../src/outbox/EventHandler.ts"
import { sagaHandler } from "../../src/saga/Engine.ts"
import { sagaFinished } from "../../src/saga/Metrics.ts"
import type { SagaDefinition } from "../../src/saga/Saga.ts"
import type { SagaConfig } from "../../src/saga/SagaConfig.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import { DownstreamLive } from "../../src/sagas/Downstream.ts"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import type { SagaServices } from "../../src/sagas/registry.ts"
import { type Call, makeFakeServices, reply, type Script } from "../saga-fixtures/FakeServices.ts"
import {
  EngineDatabase,
  insertLedgerRow,
  ledgerOf,
  newOrder,
  outboxEvent,
  sagaOf,
  stepLogOf,
  testSettings
} from "../saga-fixtures/fixtures.ts"

// Every retry parks: the test re-delivers the event the way the worker would, without waiting.
const settings = testSettings()

/** Runs the handler like the worker: again after every Park, until it succeeds. */
const drive = (
  handler: EventHandler,
  event: OutboxEvent,
  whileParked: Effect.Effect<unknown, unknown, SqlClient.SqlClient> = Effect.void
) =>
  Effect.gen(function*() {
    let parks = 0
    for (let run = 0; run < 100; run++) {
      const exit = yield* Effect.exit(handler.run(event))
      if (Exit.isSuccess(exit)) return parks
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure) && failure.value._tag === "Park") {
        parks++
        yield* Effect.orDie(whileParked)
        continue
      }
      return yield* Effect.dieMessage(`handler failed: ${Cause.pretty(exit.cause)}`)
    }
    return yield* Effect.dieMessage("the saga never finished")
  })

type OrderSaga = SagaDefinition<any, any, any, SagaServices> // eslint-disable-line @typescript-eslint/no-explicit-any

const handlerFor = (saga: OrderSaga, fake: ReturnType<typeof makeFakeServices>, config: SagaConfig = settings) => {
  const settingsLayer = Layer.succeed(SagaSettings, config)
  return sagaHandler(saga).pipe(
    Effect.provide(DownstreamLive.pipe(Layer.provide(fake.layer), Layer.provide(settingsLayer))),
    Effect.provide(settingsLayer)
  )
}

const orderPlaced = (order: ReturnType<typeof newOrder>) => outboxEvent("OrderPlaced", order)

const runOrderSaga = (
  script: Script = () => undefined,
  saga: OrderSaga = OrderPlacedSaga,
  whileParked?: (order: OrderPlaced) => Effect.Effect<unknown, unknown, SqlClient.SqlClient>
) =>
  Effect.gen(function*() {
    const order = newOrder()
    yield* insertLedgerRow(order)
    const fake = makeFakeServices(order, script)
    const handler = yield* handlerFor(saga, fake)
    const event = orderPlaced(order)
    const parks = yield* drive(handler, event, whileParked?.(order))
    const saga_ = yield* sagaOf(event.eventId)
    const ledger = yield* ledgerOf(order.orderId)
    /** `<endpoint> <step>:<phase>`, with the saga id checked and stripped from the key. */
    const trace = fake.calls.filter((call) => call.method !== "GET").map((call: Call) => {
      expect(call.key?.startsWith(`${saga_.id}:`)).toBe(true)
      return `${call.endpoint} ${call.key?.slice(saga_.id.length + 1)}`
    })
    return { order, fake, handler, event, parks, saga: saga_, ledger, trace }
  })

const forward = {
  createOrder: "POST /orders createOrder:forward",
  reserveStock: "POST /reservations reserveStock:forward",
  capturePayment: "POST /payments/capture capturePayment:forward",
  confirmOrder: "POST /orders/confirmation confirmOrder:forward"
}
const undo = {
  cancelOrder: "POST /orders/cancellation createOrder:compensation",
  releaseStock: "DELETE /reservations reserveStock:compensation",
  refund: "POST /payments/refund capturePayment:compensation",
  void: "POST /payments/void authorization:compensation"
}

/** Answers calls to `endpoint` with `replies` in turn, then falls back to the default. */
const onEndpoint = (endpoint: string, ...replies: ReadonlyArray<ReturnType<Script>>): Script => (call) =>
  call.endpoint === endpoint ? replies[call.previous] : undefined

/** orders refuses to confirm an order that was cancelled meanwhile. */
const rejectedConfirmation = () =>
  reply.error(
    new OrderTransitionRejected({
      orderId: OrderId.make(randomUUID()),
      status: "CANCELLED",
      requested: "CONFIRMED",
      message: "no"
    })
  )

const declined = reply.error(new PaymentDeclined({ stage: "capture", message: "declined" }))

layer(EngineDatabase(), { excludeTestServices: true })(
  "OrderPlaced saga against test doubles of the services",
  (it) => {
    it.effect("happy path: four calls in order, one key per step and phase, ledger CONFIRMED", () =>
      Effect.gen(function*() {
        const run = yield* runOrderSaga()
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          forward.capturePayment,
          forward.confirmOrder
        ])
        expect(run.parks).toBe(0)
        expect(run.ledger).toEqual({ status: "CONFIRMED", reason: null })
        expect(run.saga.state).toBe("completed")
        const completed = sagaFinished.pipe(
          Metric.tagged("saga.type", "OrderPlaced"),
          Metric.tagged("saga.outcome", "completed")
        )
        expect((yield* Metric.value(completed)).count).toBeGreaterThanOrEqual(1)
        const log = yield* stepLogOf(run.saga.id)
        expect(log.map((r) => [r.step, r.phase, r.status, r.attempts])).toEqual([
          ["authorization", "forward", "succeeded", 1],
          ["verifyOrder", "forward", "succeeded", 1],
          ["createOrder", "forward", "succeeded", 1],
          ["reserveStock", "forward", "succeeded", 1],
          ["capturePayment", "forward", "succeeded", 1],
          ["confirmOrder", "forward", "succeeded", 1]
        ])
        // The event delivered again (a crash before the outbox row was marked done): no second saga, no call.
        yield* drive(run.handler, run.event)
        expect(run.fake.calls.map((call) => call.endpoint)).toEqual([
          "GET /payments",
          "POST /orders",
          "POST /reservations",
          "POST /payments/capture",
          "POST /orders/confirmation"
        ])
        const sql = yield* SqlClient.SqlClient
        expect(yield* sql`select 1 from saga_instances where trigger_event_id = ${run.event.eventId}`).toHaveLength(1)
      }))

    for (const [step, endpoint] of Object.entries(forward)) {
      it.effect(`transient failures of ${step} (503, then a transport error) are retried with the same key`, () =>
        Effect.gen(function*() {
          const path = endpoint.split(" ").slice(0, 2).join(" ")
          const run = yield* runOrderSaga(onEndpoint(path, reply.unavailable, reply.transport))
          const expected = Object.values(forward).flatMap((call) => call === endpoint ? [call, call, call] : [call])
          expect(run.trace).toEqual(expected)
          expect(run.parks).toBe(2)
          expect(run.ledger).toEqual({ status: "CONFIRMED", reason: null })
          const log = yield* stepLogOf(run.saga.id)
          expect(log.find((r) => r.step === step)).toMatchObject({
            status: "succeeded",
            attempts: 3,
            outcomeUnknown: true
          })
        }))
    }

    it.effect("createOrder rejected (409): only the authorization is voided; CANCELLED", () =>
      Effect.gen(function*() {
        const run = yield* runOrderSaga(
          onEndpoint(
            "POST /orders",
            reply.error(new OrderConflict({ orderId: OrderId.make(randomUUID()), message: "other data" }))
          )
        )
        expect(run.trace).toEqual([forward.createOrder, undo.void])
        expect(run.ledger?.status).toBe("CANCELLED")
        expect(run.saga.state).toBe("compensated")
      }))

    it.effect("out of stock (409): cancel the order, void the authorization, in that order; CANCELLED out of stock", () =>
      Effect.gen(function*() {
        const run = yield* runOrderSaga(onEndpoint(
          "POST /reservations",
          reply.error(
            new InsufficientStock({
              orderId: OrderId.make(randomUUID()),
              sku: Sku.make("MUG-BLUE"),
              requested: 2,
              available: 0,
              message: "no"
            })
          )
        ))
        expect(run.trace).toEqual([forward.createOrder, forward.reserveStock, undo.cancelOrder, undo.void])
        expect(run.ledger).toEqual({ status: "CANCELLED", reason: "out of stock" })
        expect(run.saga.error).toMatchObject({
          message: expect.stringContaining("InsufficientStock"),
          details: { saga: { id: run.saga.id, type: "OrderPlaced", step: "reserveStock", state: "compensating" } }
        })
      }))

    it.effect("reserveStock answered 422 IdempotencyKeyReused: a request with its key was applied, so the stock is released too", () =>
      Effect.gen(function*() {
        const run = yield* runOrderSaga(onEndpoint(
          "POST /reservations",
          reply.error(
            new IdempotencyKeyReused({ message: "this Idempotency-Key was already used for a different request" })
          )
        ))
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(run.ledger?.status).toBe("CANCELLED")
        const log = yield* stepLogOf(run.saga.id)
        expect(log.find((r) => r.step === "reserveStock" && r.phase === "forward")).toMatchObject({
          status: "failed",
          outcomeUnknown: true
        })
      }))

    it.effect("capture declined (402): release, cancel, void in reverse order, no refund; CANCELLED payment declined", () =>
      Effect.gen(function*() {
        const run = yield* runOrderSaga(onEndpoint("POST /payments/capture", declined))
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          forward.capturePayment,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(run.ledger).toEqual({ status: "CANCELLED", reason: "payment declined" })
      }))

    it.effect("confirm rejected (409): refund, release, cancel, void; CANCELLED", () =>
      Effect.gen(function*() {
        const run = yield* runOrderSaga(onEndpoint(
          "POST /orders/confirmation",
          rejectedConfirmation()
        ))
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          forward.capturePayment,
          forward.confirmOrder,
          undo.refund,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(run.ledger?.status).toBe("CANCELLED")
      }))

    it.effect("capture times out on every attempt: its outcome is unknown, so it is refunded too", () =>
      Effect.gen(function*() {
        // Per-step override: two attempts for the capture instead of the named forwardRetry.
        const saga: OrderSaga = {
          ...OrderPlacedSaga,
          units: OrderPlacedSaga.units.map((unit) =>
            unit._tag === "Step" && unit.name === "capturePayment" ? { ...unit, retry: Schedule.recurs(1) } : unit
          )
        }
        const run = yield* runOrderSaga(onEndpoint("POST /payments/capture", reply.never, reply.never), saga)
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          forward.capturePayment,
          forward.capturePayment,
          undo.refund,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        const log = yield* stepLogOf(run.saga.id)
        expect(log.find((r) => r.step === "capturePayment" && r.phase === "forward")).toMatchObject({
          status: "failed",
          attempts: 2,
          outcomeUnknown: true
        })
        expect(run.ledger?.status).toBe("CANCELLED")
        expect(run.ledger?.reason).toContain("no answer within 400 ms")
      }))

    it.effect("a compensation that fails transiently is retried; one rejected for good parks the saga NEEDS_ATTENTION and the rest still run", () =>
      Effect.gen(function*() {
        const script: Script = (call) => {
          if (call.endpoint === "POST /payments/capture") return declined
          if (call.endpoint === "DELETE /reservations" && call.previous === 0) return reply.unavailable
          if (call.endpoint === "POST /orders/cancellation") {
            return reply.error(new IdempotencyKeyReused({ message: "key used for another request" }))
          }
          return undefined
        }
        const run = yield* runOrderSaga(script)
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          forward.capturePayment,
          undo.releaseStock,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(run.saga.state).toBe("needs_attention")
        expect(run.saga.error).toEqual({
          message: expect.stringContaining("IdempotencyKeyReused"),
          details: {
            saga: { id: run.saga.id, type: "OrderPlaced", step: "createOrder", state: "needs_attention" },
            errorTag: "IdempotencyKeyReused"
          }
        })
        expect(run.ledger?.status).toBe("NEEDS_ATTENTION")
        const log = yield* stepLogOf(run.saga.id)
        expect(log.filter((r) => r.phase === "compensation").map((r) => [r.step, r.status, r.attempts])).toEqual([
          ["reserveStock", "succeeded", 2],
          ["createOrder", "failed", 1],
          ["authorization", "succeeded", 1]
        ])
      }))

    it.effect("a step a crash left in flight stays of unknown outcome past the deadline: still released after a crash mid-compensation", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const order = newOrder()
        yield* insertLedgerRow(order)
        let hanging = ""
        const fake = makeFakeServices(order, (call) => call.endpoint === hanging ? reply.never : undefined)
        const handler = yield* handlerFor(OrderPlacedSaga, fake, { ...settings, stepTimeoutMs: 60_000 })
        const event = orderPlaced(order)
        /** Runs the handler until it calls `endpoint`, which never answers, then kills the run (a crash). */
        const crashDuring = (endpoint: string) =>
          Effect.gen(function*() {
            hanging = endpoint
            const before = fake.calls.length
            const fiber = yield* Effect.fork(handler.run(event))
            while (!fake.calls.slice(before).some((call) => call.endpoint === endpoint)) yield* Effect.sleep("5 millis")
            yield* Fiber.interrupt(fiber)
          })
        // Run 1 dies while the reservation request is in flight: it may have been applied.
        yield* crashDuring("POST /reservations")
        yield* sql`update saga_instances set deadline_at = now() - interval '1 second' where trigger_event_id = ${event.eventId}`
        // Run 2 finds the deadline passed, starts compensating, and dies releasing the stock.
        yield* crashDuring("DELETE /reservations")
        hanging = ""
        yield* drive(handler, event)
        const saga = yield* sagaOf(event.eventId)
        expect(
          fake.calls.filter((call) => call.method !== "GET").map((call) =>
            `${call.endpoint} ${call.key?.slice(saga.id.length + 1)}`
          )
        ).toEqual([
          forward.createOrder,
          forward.reserveStock,
          undo.releaseStock,
          // Run 3: the release is retried with its key, then the rest.
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(yield* ledgerOf(order.orderId)).toEqual({ status: "CANCELLED", reason: "timed out" })
        const log = yield* stepLogOf(saga.id)
        expect(log.find((r) => r.step === "reserveStock" && r.phase === "forward")).toMatchObject({
          status: "failed",
          outcomeUnknown: true
        })
      }))

    it.effect("compensations follow the database's completion order, not the replica's clock (here the TestClock)", () =>
      Effect.gen(function*() {
        // The capture fails once (a park) and succeeds in the next run; then confirm is rejected.
        // The capture finished last, so its refund comes first: a void before it would meet a
        // captured payment and be refused.
        const run = yield* runOrderSaga((call) =>
          call.endpoint === "POST /payments/capture" && call.previous === 0
            ? reply.unavailable
            : call.endpoint === "POST /orders/confirmation"
            ? rejectedConfirmation()
            : undefined
        )
        expect(run.parks).toBe(1)
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          forward.capturePayment,
          forward.capturePayment,
          forward.confirmOrder,
          undo.refund,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(run.ledger?.status).toBe("CANCELLED")
      }).pipe(Effect.provide(TestContext.TestContext)))

    it.effect("passing SAGA_TIMEOUT_MS while parked starts compensation: CANCELLED timed out", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // The stock service answers 503 once; while the saga is parked, its deadline passes.
        const run = yield* runOrderSaga(
          onEndpoint("POST /reservations", reply.unavailable),
          OrderPlacedSaga,
          (order) =>
            sql`update saga_instances set deadline_at = now() - interval '1 second' where aggregate_id = ${order.orderId}`
        )
        expect(run.trace).toEqual([
          forward.createOrder,
          forward.reserveStock,
          undo.releaseStock,
          undo.cancelOrder,
          undo.void
        ])
        expect(run.ledger).toEqual({ status: "CANCELLED", reason: "timed out" })
        expect(run.saga.error).toMatchObject({ details: { saga: { step: "reserveStock" }, errorTag: "SagaTimeout" } })
      }))
  }
)

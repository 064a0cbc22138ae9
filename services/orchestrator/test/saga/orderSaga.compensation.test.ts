/** The OrderPlaced saga's compensations against test doubles: unknown outcomes, failing compensations, crashes, deadlines. */
import { IdempotencyKeyReused } from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Schedule, TestContext } from "effect"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import { makeFakeServices, reply, type Script } from "../saga-fixtures/FakeServices.ts"
import { EngineDatabase, insertLedgerRow, ledgerOf, newOrder, sagaOf, stepLogOf } from "../saga-fixtures/fixtures.ts"
import {
  declined,
  drive,
  forward,
  handlerFor,
  onEndpoint,
  orderPlaced,
  type OrderSaga,
  rejectedConfirmation,
  runOrderSaga,
  settings,
  undo
} from "../saga-fixtures/orderSagaRun.ts"

layer(EngineDatabase(), { excludeTestServices: true })(
  "OrderPlaced saga compensations against test doubles of the services",
  (it) => {
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

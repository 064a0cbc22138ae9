import { IdempotencyKeyReused, InsufficientStock, OrderConflict, OrderId, Sku } from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { randomUUID } from "node:crypto"
import { sagaFinished } from "../../src/saga/Metrics.ts"
import { reply } from "../saga-fixtures/FakeServices.ts"
import { EngineDatabase, stepLogOf } from "../saga-fixtures/fixtures.ts"
import {
  declined,
  drive,
  forward,
  onEndpoint,
  rejectedConfirmation,
  runOrderSaga,
  undo
} from "../saga-fixtures/orderSagaRun.ts"

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
  }
)

/**
 * A model test of the OrderPlaced saga: random failure scripts for its calls, run against the test
 * doubles of the services, and one property over what the saga then did — a step is compensated if
 * and only if it may have been applied. A step may have been applied when any call of it got an
 * answer other than a definite rejection (a success, a 503, a transport error, no answer in time,
 * an `IdempotencyKeyReused`); one whose every call was rejected, or that was never called, must not
 * be compensated.
 */
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck, Layer, Option } from "effect"
import type { EventHandler, OutboxEvent } from "../../src/outbox/EventHandler.ts"
import { sagaHandler } from "../../src/saga/Engine.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import { DownstreamLive } from "../../src/sagas/Downstream.ts"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import { type Call, makeFakeServices, type Reply, reply, type Script } from "../saga-fixtures/FakeServices.ts"
import {
  EngineDatabase,
  insertLedgerRow,
  ledgerOf,
  newOrder,
  outboxEvent,
  sagaOf,
  testSettings
} from "../saga-fixtures/fixtures.ts"

type Answer = "unavailable" | "transport" | "timeout" | "rejected" | "keyReused"

/** The forward steps with a compensation, their endpoints and the definite rejection each can get. */
const steps = {
  createOrder: {
    forward: "POST /orders",
    compensation: "POST /orders/cancellation",
    rejected: reply.error(409, { _tag: "OrderConflict", orderId: "00000000-0000-4000-8000-000000000000", message: "x" })
  },
  reserveStock: {
    forward: "POST /reservations",
    compensation: "DELETE /reservations",
    rejected: reply.error(409, {
      _tag: "InsufficientStock",
      orderId: "00000000-0000-4000-8000-000000000000",
      sku: "MUG-BLUE",
      requested: 2,
      available: 0,
      message: "x"
    })
  },
  capturePayment: {
    forward: "POST /payments/capture",
    compensation: "POST /payments/refund",
    rejected: reply.error(402, { _tag: "PaymentDeclined", stage: "capture", message: "x" })
  }
} as const
type StepName = keyof typeof steps

/** The last step: no compensation of its own, but its rejection compensates all the others. */
const confirm = {
  forward: "POST /orders/confirmation",
  rejected: reply.error(409, {
    _tag: "OrderTransitionRejected",
    orderId: "00000000-0000-4000-8000-000000000000",
    status: "CANCELLED",
    requested: "CONFIRMED",
    message: "x"
  })
}

const answer = (kind: Answer, rejected: Reply): Reply => {
  switch (kind) {
    case "unavailable":
      return reply.unavailable
    case "transport":
      return reply.transport
    case "timeout":
      return reply.never
    case "rejected":
      return rejected
    case "keyReused":
      return reply.error(422, { _tag: "IdempotencyKeyReused", message: "x" })
  }
}

/** The first answers of one endpoint; calls past the script succeed. */
const forwardScript = FastCheck.array(
  FastCheck.constantFrom<Answer>("unavailable", "transport", "timeout", "rejected", "keyReused"),
  { maxLength: 3 }
)
/** Compensations retry without end, so only transient failures: each still ends in a success. */
const compensationScript = FastCheck.array(FastCheck.constantFrom<Answer>("unavailable", "transport"), {
  maxLength: 2
})

// Every retry parks (the test re-delivers at once); a call without an answer costs 100 ms.
const settings = testSettings({ stepTimeoutMs: 100 })

/** Runs the handler as the worker would: again after every Park, until it returns. */
const drive = (handler: EventHandler, event: OutboxEvent) =>
  Effect.gen(function*() {
    for (let run = 0; run < 100; run++) {
      const exit = yield* Effect.exit(handler.run(event))
      if (Exit.isSuccess(exit)) return
      const failure = Cause.failureOption(exit.cause)
      if (Option.isNone(failure) || failure.value._tag !== "Park") {
        return yield* Effect.dieMessage(`handler failed: ${Cause.pretty(exit.cause)}`)
      }
    }
    return yield* Effect.dieMessage("the saga never finished")
  })

layer(EngineDatabase(), { excludeTestServices: true })("OrderPlaced saga model", (it) => {
  it.effect.prop(
    "a step is compensated if and only if it may have been applied, for any failure script",
    {
      createOrder: forwardScript,
      reserveStock: forwardScript,
      capturePayment: forwardScript,
      confirmOrder: forwardScript,
      compensations: compensationScript
    },
    ({ compensations, ...forward }) =>
      Effect.gen(function*() {
        const answered: Array<{ readonly call: Call; readonly kind: Answer | "ok" }> = []
        const scripted = [
          ...(Object.keys(steps) as Array<StepName>).map((name) => ({ ...steps[name], script: forward[name] })),
          { ...confirm, compensation: undefined, script: forward.confirmOrder }
        ]
        const script: Script = (call) => {
          const forwardStep = scripted.find((step) => step.forward === call.endpoint)
          const isCompensation = Object.values(steps).some((step) => step.compensation === call.endpoint) ||
            call.endpoint === "POST /payments/void"
          const kind = forwardStep?.script[call.previous] ?? (isCompensation ? compensations[call.previous] : undefined)
          answered.push({ call, kind: kind ?? "ok" })
          return kind === undefined ? undefined : answer(kind, forwardStep?.rejected ?? reply.unavailable)
        }

        const order = newOrder()
        yield* insertLedgerRow(order)
        const fake = makeFakeServices(order, script)
        const settingsLayer = Layer.succeed(SagaSettings, settings)
        const handler = yield* sagaHandler(OrderPlacedSaga).pipe(
          Effect.provide(DownstreamLive.pipe(Layer.provide(fake.layer), Layer.provide(settingsLayer))),
          Effect.provide(settingsLayer)
        )
        const event = outboxEvent("OrderPlaced", order)
        yield* drive(handler, event)
        const saga = yield* sagaOf(event.eventId)
        const ledger = yield* ledgerOf(order.orderId)

        const callsOf = (endpoint: string) => answered.filter(({ call }) => call.endpoint === endpoint)
        const mayHaveApplied = (name: StepName) => callsOf(steps[name].forward).some(({ kind }) => kind !== "rejected")
        const compensated = (name: StepName) => callsOf(steps[name].compensation).length > 0
        // A forward step failed for good: rejected, or answered IdempotencyKeyReused (outcome unknown).
        const failed = scripted.some((step) =>
          callsOf(step.forward).some(({ kind }) => kind === "rejected" || kind === "keyReused")
        )

        expect(saga.state).toBe(failed ? "compensated" : "completed")
        expect(ledger?.status).toBe(failed ? "CANCELLED" : "CONFIRMED")
        for (const name of Object.keys(steps) as Array<StepName>) {
          expect({ step: name, compensated: compensated(name) }).toEqual({
            step: name,
            compensated: failed && mayHaveApplied(name)
          })
        }
        // The checkout's hold is this order's: voided whenever the saga compensates, never otherwise.
        expect(callsOf("POST /payments/void").length > 0).toBe(failed)
      }),
    { timeout: 240_000, fastCheck: { numRuns: 40 } }
  )
})

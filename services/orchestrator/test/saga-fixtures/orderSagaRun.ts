/** The OrderPlaced saga driven against FakeServices as the worker would drive it, and the call traces it leaves. */
import { OrderId, type OrderPlaced, OrderTransitionRejected, PaymentDeclined } from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import type { EventHandler, OutboxEvent } from "../../src/outbox/EventHandler.ts"
import { sagaHandler } from "../../src/saga/Engine.ts"
import type { SagaDefinition } from "../../src/saga/Saga.ts"
import type { SagaConfig } from "../../src/saga/SagaConfig.ts"
import { SagaSettings } from "../../src/saga/SagaSettings.ts"
import { DownstreamLive } from "../../src/sagas/Downstream.ts"
import { OrderPlacedSaga } from "../../src/sagas/OrderPlacedSaga.ts"
import type { SagaServices } from "../../src/sagas/registry.ts"
import { type Call, makeFakeServices, reply, type Script } from "./FakeServices.ts"
import { insertLedgerRow, ledgerOf, newOrder, outboxEvent, sagaOf, testSettings } from "./fixtures.ts"

// Every retry parks: the test re-delivers the event the way the worker would, without waiting.
export const settings = testSettings()

/** Runs the handler like the worker: again after every Park, until it succeeds. */
export const drive = (
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

export type OrderSaga = SagaDefinition<any, any, any, SagaServices> // eslint-disable-line @typescript-eslint/no-explicit-any

export const handlerFor = (
  saga: OrderSaga,
  fake: ReturnType<typeof makeFakeServices>,
  config: SagaConfig = settings
) => {
  const settingsLayer = Layer.succeed(SagaSettings, config)
  return sagaHandler(saga).pipe(
    Effect.provide(DownstreamLive.pipe(Layer.provide(fake.layer), Layer.provide(settingsLayer))),
    Effect.provide(settingsLayer)
  )
}

export const orderPlaced = (order: ReturnType<typeof newOrder>) => outboxEvent("OrderPlaced", order)

export const runOrderSaga = (
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

export const forward = {
  createOrder: "POST /orders createOrder:forward",
  reserveStock: "POST /reservations reserveStock:forward",
  capturePayment: "POST /payments/capture capturePayment:forward",
  confirmOrder: "POST /orders/confirmation confirmOrder:forward"
}
export const undo = {
  cancelOrder: "POST /orders/cancellation createOrder:compensation",
  releaseStock: "DELETE /reservations reserveStock:compensation",
  refund: "POST /payments/refund capturePayment:compensation",
  void: "POST /payments/void authorization:compensation"
}

/** Answers calls to `endpoint` with `replies` in turn, then falls back to the default. */
export const onEndpoint = (endpoint: string, ...replies: ReadonlyArray<ReturnType<Script>>): Script => (call) =>
  call.endpoint === endpoint ? replies[call.previous] : undefined

/** orders refuses to confirm an order that was cancelled meanwhile. */
export const rejectedConfirmation = () =>
  reply.error(
    new OrderTransitionRejected({
      orderId: OrderId.make(randomUUID()),
      status: "CANCELLED",
      requested: "CONFIRMED",
      message: "no"
    })
  )

export const declined = reply.error(new PaymentDeclined({ stage: "capture", message: "declined" }))

import type { AuthorizationId, OrderId } from "@ecommerce/contracts"
import { InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { Context, Effect, Layer } from "effect"
import { makeCircuitBreaker } from "../saga/CircuitBreaker.ts"
import { byStatus, type Classifier, classify, type ClientError } from "../saga/Classification.ts"
import { SagaSettings } from "../saga/SagaSettings.ts"
import type { StepFailure } from "../saga/StepFailure.ts"

type Orders = Context.Tag.Service<OrdersClient>
type Inventory = Context.Tag.Service<InventoryClient>
type Payments = Context.Tag.Service<PaymentsClient>

/**
 * What each error of each client means to a saga. These records must name every error the
 * contracts declare (see `Classifier`): a new error in packages/contracts fails the build here.
 * Typed 4xx errors are `rejected`: the services roll back with the error, so nothing was applied.
 * Except `IdempotencyKeyReused`: the key (this step and phase of this saga) was already used for a
 * request with another body, which WAS applied (e.g. code that builds the body changed between a
 * crash and the resume), so its outcome is `unknown` and the step is compensated.
 * `Unauthorized` is transient: a wrong SERVICE_TOKEN is fixed by an operator, and the sagas
 * (parked meanwhile) should then carry on rather than compensate every order.
 */
const common = {
  Unauthorized: "transient",
  HttpApiDecodeError: "rejected",
  RequestError: "transient",
  ResponseError: byStatus,
  ParseError: "unknown"
} as const

export const ordersErrors: Classifier<ClientError<Orders>> = {
  ...common,
  OrderConflict: "rejected",
  OrderNotFound: "rejected",
  OrderTransitionRejected: "rejected",
  IdempotencyKeyReused: "unknown"
}

export const inventoryErrors: Classifier<ClientError<Inventory>> = {
  ...common,
  InsufficientStock: "rejected",
  ReservationConflict: "rejected",
  ReservationNotFound: "rejected",
  StockNotFound: "rejected",
  StockBelowReserved: "rejected",
  IdempotencyKeyReused: "unknown"
}

export const paymentsErrors: Classifier<ClientError<Payments>> = {
  ...common,
  PaymentDeclined: "rejected",
  AuthorizationNotFound: "rejected",
  AuthorizationConflict: "rejected",
  AuthorizationMismatch: "rejected",
  OrderAuthorizationNotFound: "rejected",
  PaymentStateConflict: "rejected",
  IdempotencyKeyReused: "unknown"
}

export interface Downstream {
  readonly orders: <A>(call: (client: Orders) => Effect.Effect<A, ClientError<Orders>>) => Effect.Effect<A, StepFailure>
  readonly inventory: <A>(
    call: (client: Inventory) => Effect.Effect<A, ClientError<Inventory>>
  ) => Effect.Effect<A, StepFailure>
  readonly payments: <A>(
    call: (client: Payments) => Effect.Effect<A, ClientError<Payments>>
  ) => Effect.Effect<A, StepFailure>
}

/**
 * The three services as sagas see them: each call classified into a StepFailure and guarded by
 * the service's circuit breaker (one per service per replica).
 */
export const Downstream = Context.GenericTag<Downstream>("@ecommerce/orchestrator/Downstream")

export const DownstreamLive = Layer.effect(
  Downstream,
  Effect.gen(function*() {
    const settings = yield* SagaSettings
    const circuit = { failureThreshold: settings.circuitFailureThreshold, cooldownMs: settings.circuitCooldownMs }
    const orders = yield* OrdersClient
    const inventory = yield* InventoryClient
    const payments = yield* PaymentsClient
    const ordersCircuit = yield* makeCircuitBreaker("orders", circuit)
    const inventoryCircuit = yield* makeCircuitBreaker("inventory", circuit)
    const paymentsCircuit = yield* makeCircuitBreaker("payments", circuit)
    return {
      orders: (call) =>
        ordersCircuit.protect(
          Effect.mapError(Effect.suspend(() => call(orders)), (e) => classify("orders", ordersErrors, e))
        ),
      inventory: (call) =>
        inventoryCircuit.protect(
          Effect.mapError(Effect.suspend(() => call(inventory)), (e) => classify("inventory", inventoryErrors, e))
        ),
      payments: (call) =>
        paymentsCircuit.protect(
          Effect.mapError(Effect.suspend(() => call(payments)), (e) => classify("payments", paymentsErrors, e))
        )
    } satisfies Downstream
  })
)

/**
 * Whether the authorization is the order's own (false when payments has no such authorization).
 * Events come from producers, so an event's authorizationId may name another order's payment, which
 * a void or refund must never touch; payments never moves an authorization to another order, so the
 * answer holds for the call that follows.
 */
export const ownsAuthorization = (d: Downstream, authorizationId: AuthorizationId, orderId: OrderId) =>
  d.payments((client) =>
    client.payments.get({ path: { authorization_id: authorizationId } }).pipe(
      Effect.map((payment) => payment.orderId === orderId),
      Effect.catchTag("AuthorizationNotFound", () => Effect.succeed(false))
    )
  )

import {
  CancelOrder,
  CaptureTerms,
  CreateOrder,
  IdempotencyKey,
  OrderPlaced,
  ReservationLine,
  ReserveStock
} from "@ecommerce/contracts"
import { Effect } from "effect"
import { type Outcome, type SagaDefinition, type Step, step } from "../saga/Saga.ts"
import { Downstream, ownsAuthorization } from "./Downstream.ts"
import { LedgerRepo } from "./LedgerRepo.ts"
import { orderDiscrepancies, refuseOrder } from "./OrderChecks.ts"

const key = (value: string) => IdempotencyKey.make(value)
const orderStep = (definition: Omit<Step<OrderPlaced, Downstream | LedgerRepo>, "_tag">) => step(definition)

/** The ledger's reason for a cancelled order, from the root cause of the compensation. */
export const cancellationReason = (outcome: Outcome): string => {
  switch (outcome.error?.details.errorTag) {
    case "PaymentDeclined":
      return "payment declined"
    case "InsufficientStock":
      return "out of stock"
    case "SagaTimeout":
      return "timed out"
    default:
      return `failed at ${outcome.error?.details.saga.step ?? "?"}: ${outcome.error?.message ?? "unknown"}`
  }
}

/**
 * OrderPlaced: check the event, create the order, reserve the stock, capture the checkout's
 * authorization, confirm. `verifyOrder` refuses an event that disagrees with its ledger row, its
 * aggregate or its authorization (see OrderChecks.ts): nothing is created or captured, the hold is
 * voided if it is this order's, and the saga ends needs_attention with the reasons.
 * `authorization` does nothing forward (the edge API authorized at checkout); it is a step so that
 * its compensation, voiding the authorization, runs whenever the saga fails, last of all. After a
 * capture, the capture's own compensation refunds first, and the void then finds nothing open.
 */
export const OrderPlacedSaga: SagaDefinition<
  OrderPlaced,
  typeof OrderPlaced.Encoded,
  OrderPlaced,
  Downstream | LedgerRepo
> = {
  type: "OrderPlaced",
  eventType: OrderPlaced.eventType,
  payload: OrderPlaced,
  context: OrderPlaced,
  initialContext: (payload) => payload,
  units: [
    orderStep({
      name: "authorization",
      service: "payments",
      action: () => Effect.void,
      // Only the order's own hold: a forged event may name another order's, still open.
      compensation: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.payments((client) =>
            Effect.gen(function*() {
              // Void only a hold of this order: a forged event may name another order's authorization.
              const payment = yield* client.payments.get({ path: { authorization_id: context.authorizationId } })
              if (payment.orderId !== context.orderId) return
              yield* client.payments.void({
                path: { authorization_id: context.authorizationId },
                headers: { "idempotency-key": key(idempotencyKey) }
              })
            }).pipe(
              // Refunded (after a capture) or never stored: nothing left open.
              Effect.catchTag("PaymentStateConflict", (e) => e.status === "REFUNDED" ? Effect.void : Effect.fail(e)),
              Effect.catchTag("AuthorizationNotFound", () => Effect.void)
            )
          ))
    }),
    orderStep({
      name: "verifyOrder",
      service: "payments",
      // Before any effect: the event must agree with its ledger row, its aggregate and its authorization.
      action: ({ aggregateId, context }) =>
        Effect.gen(function*() {
          const ledger = yield* Effect.orDie(Effect.flatMap(LedgerRepo, (repo) => repo.find(context.orderId)))
          const payment = yield* Effect.flatMap(Downstream, (d) =>
            d.payments((client) =>
              client.payments.get({ path: { authorization_id: context.authorizationId } }).pipe(
                Effect.catchTag("AuthorizationNotFound", () =>
                  Effect.succeed(undefined))
              )
            ))
          const problems = orderDiscrepancies({ event: context, aggregateId, ledger, payment })
          if (problems.length > 0) {
            return yield* refuseOrder(context.orderId, problems)
          }
        })
    }),
    orderStep({
      name: "createOrder",
      service: "orders",
      action: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.orders((client) =>
            client.orders.create({
              headers: { "idempotency-key": key(idempotencyKey) },
              payload: new CreateOrder({
                orderId: context.orderId,
                customerId: context.customerId,
                items: context.items,
                amount: context.amount,
                currency: context.currency
              })
            })
          )).pipe(Effect.asVoid),
      compensation: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.orders((client) =>
            client.orders.cancel({
              path: { order_id: context.orderId },
              headers: { "idempotency-key": key(idempotencyKey) },
              payload: new CancelOrder({ reason: "the order saga compensated" })
            }).pipe(Effect.catchTag("OrderNotFound", () => Effect.void), Effect.asVoid)
          ))
    }),
    orderStep({
      name: "reserveStock",
      service: "inventory",
      action: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.inventory((client) =>
            client.reservations.reserve({
              headers: { "idempotency-key": key(idempotencyKey) },
              payload: new ReserveStock({
                orderId: context.orderId,
                items: [
                  new ReservationLine({ sku: context.items[0].sku, quantity: context.items[0].quantity }),
                  ...context.items.slice(1).map(({ quantity, sku }) => new ReservationLine({ sku, quantity }))
                ]
              })
            })
          )).pipe(Effect.asVoid),
      compensation: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.inventory((client) =>
            client.reservations.release({
              path: { order_id: context.orderId },
              headers: { "idempotency-key": key(idempotencyKey) }
            })
          )).pipe(Effect.asVoid)
    }),
    orderStep({
      name: "capturePayment",
      service: "payments",
      action: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.payments((client) =>
            client.payments.capture({
              path: { authorization_id: context.authorizationId },
              headers: { "idempotency-key": key(idempotencyKey) },
              payload: new CaptureTerms({
                orderId: context.orderId,
                amount: context.amount,
                currency: context.currency
              })
            })
          )).pipe(Effect.asVoid),
      // Also runs when the capture's outcome is unknown: if it never happened, there is nothing to refund.
      // Only the order's own payment, like the void: never refund another order's capture.
      compensation: ({ context, idempotencyKey }) =>
        Effect.flatMap(
          Downstream,
          (d) =>
            Effect.flatMap(ownsAuthorization(d, context.authorizationId, context.orderId), (owned) =>
              owned ?
                d.payments((client) =>
                  client.payments.refund({
                    path: { authorization_id: context.authorizationId },
                    headers: { "idempotency-key": key(idempotencyKey) }
                  }).pipe(
                    Effect.catchTag(
                      "PaymentStateConflict",
                      (e) => e.status === "AUTHORIZED" || e.status === "VOIDED" ? Effect.void : Effect.fail(e)
                    ),
                    Effect.asVoid
                  )
                ) :
                Effect.void)
        )
    }),
    orderStep({
      name: "confirmOrder",
      service: "orders",
      action: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.orders((client) =>
            client.orders.confirm({
              path: { order_id: context.orderId },
              headers: { "idempotency-key": key(idempotencyKey) }
            })
          )).pipe(Effect.asVoid)
    })
  ],
  finish: (context, outcome) =>
    Effect.flatMap(LedgerRepo, (ledger) =>
      ledger.settlePending({
        orderId: context.orderId,
        ...(outcome.state === "completed"
          ? { status: "CONFIRMED", reason: null }
          : outcome.state === "compensated"
          ? { status: "CANCELLED", reason: cancellationReason(outcome) }
          : { status: "NEEDS_ATTENTION", reason: outcome.error?.message ?? "needs attention" })
      }))
}

import { CancelOrder, CaptureTerms, CreateOrder, IdempotencyKey, OrderPlaced, ReservationLine, ReserveStock } from "@ecommerce/contracts"
import { Effect } from "effect"
import { type Outcome, type SagaDefinition, type Step, step } from "../saga/Saga.ts"
import { Downstream, ownsAuthorization } from "./Downstream.ts"
import { settlePending } from "./Ledger.ts"

const key = (value: string) => IdempotencyKey.make(value)
const orderStep = (definition: Omit<Step<OrderPlaced, Downstream>, "_tag">) => step(definition)

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
 * OrderPlaced: create the order, reserve the stock, capture the checkout's authorization, confirm.
 * `authorization` does nothing forward (the edge API authorized at checkout); it is a step so that
 * its compensation, voiding the authorization, runs whenever the saga fails, last of all. After a
 * capture, the capture's own compensation refunds first, and the void then finds nothing open.
 */
export const OrderPlacedSaga: SagaDefinition<OrderPlaced, typeof OrderPlaced.Encoded, OrderPlaced, Downstream> = {
  type: "OrderPlaced",
  eventType: OrderPlaced.eventType,
  payload: OrderPlaced,
  context: OrderPlaced,
  initialContext: (payload) => payload,
  units: [
    orderStep({
      name: "authorization",
      action: () => Effect.void,
      // Only the order's own hold: a forged event may name another order's, still open.
      compensation: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          Effect.flatMap(ownsAuthorization(d, context.authorizationId, context.orderId), (owned) =>
            owned ? d.payments((client) =>
              client.payments.void({
              path: { authorization_id: context.authorizationId },
              headers: { "idempotency-key": key(idempotencyKey) }
            }).pipe(
              // Refunded (after a capture) or never stored: nothing left open.
              Effect.catchTag("PaymentStateConflict", (e) => e.status === "REFUNDED" ? Effect.void : Effect.fail(e)),
                Effect.catchTag("AuthorizationNotFound", () => Effect.void),
                Effect.asVoid
              )
            ) : Effect.void))
    }),
    orderStep({
      name: "createOrder",
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
      action: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          d.payments((client) =>
            client.payments.capture({
              path: { authorization_id: context.authorizationId },
              headers: { "idempotency-key": key(idempotencyKey) },
              payload: new CaptureTerms({ orderId: context.orderId, amount: context.amount, currency: context.currency })
            })
          )).pipe(Effect.asVoid),
      // Also runs when the capture's outcome is unknown: if it never happened, there is nothing to refund.
      // Only the order's own payment, like the void: never refund another order's capture.
      compensation: ({ context, idempotencyKey }) =>
        Effect.flatMap(Downstream, (d) =>
          Effect.flatMap(ownsAuthorization(d, context.authorizationId, context.orderId), (owned) =>
            owned ? d.payments((client) =>
              client.payments.refund({
                path: { authorization_id: context.authorizationId },
                headers: { "idempotency-key": key(idempotencyKey) }
              }).pipe(
                Effect.catchTag("PaymentStateConflict", (e) =>
                  e.status === "AUTHORIZED" || e.status === "VOIDED" ? Effect.void : Effect.fail(e)),
                Effect.asVoid
              )
            ) : Effect.void))
    }),
    orderStep({
      name: "confirmOrder",
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
  finish: (context, outcome) => {
    switch (outcome.state) {
      case "completed":
        return settlePending(context.orderId, "CONFIRMED", null)
      case "compensated":
        return settlePending(context.orderId, "CANCELLED", cancellationReason(outcome))
      case "needs_attention":
        return settlePending(context.orderId, "NEEDS_ATTENTION", outcome.error?.message ?? "needs attention")
    }
  }
}

import { CancelOrder, IdempotencyKey, OrderCancellationRequested } from "@ecommerce/contracts"
import { Effect, Schema } from "effect"
import { type SagaDefinition, type Step, step } from "../saga/Saga.ts"
import { StepFailure } from "../saga/StepFailure.ts"
import { Downstream, ownsAuthorization } from "./Downstream.ts"
import { LedgerRepo } from "./LedgerRepo.ts"

const key = (value: string) => IdempotencyKey.make(value)

export const CancellationContext = Schema.Struct({
  request: OrderCancellationRequested,
  /** Decided by `checkOrder` from the ledger: cancel a confirmed order, or nothing to do. */
  plan: Schema.optional(Schema.Literal("cancel", "already_cancelled"))
})
export type CancellationContext = typeof CancellationContext.Type

const cancellationStep = (definition: Omit<Step<CancellationContext, Downstream | LedgerRepo>, "_tag">) =>
  step(definition)

const customerReason = (context: CancellationContext) =>
  context.request.reason.length > 0 ? context.request.reason : "cancelled by the customer"

const whenCancelling = <E, R>(context: CancellationContext, effect: Effect.Effect<void, E, R>) =>
  context.plan === "cancel" ? effect : Effect.void

/**
 * OrderCancellationRequested runs after the order saga of the same order has ended (per-aggregate
 * ordering). A confirmed order is cancelled, its stock released and its payment refunded; an
 * order already cancelled is left alone. It is a forward-recovery saga: steps retry until they
 * succeed, and a permanent refusal needs an operator (ledger NEEDS_ATTENTION).
 */
export const OrderCancellationSaga: SagaDefinition<
  CancellationContext,
  typeof CancellationContext.Encoded,
  OrderCancellationRequested,
  Downstream | LedgerRepo
> = {
  type: "OrderCancellationRequested",
  eventType: OrderCancellationRequested.eventType,
  payload: OrderCancellationRequested,
  context: CancellationContext,
  initialContext: (request) => ({ request }),
  recovery: "forward",
  units: [
    cancellationStep({
      name: "checkOrder",
      action: ({ context }) =>
        Effect.flatMap(LedgerRepo, (ledger) => ledger.status(context.request.orderId)).pipe(
          Effect.orDie,
          Effect.flatMap((status): Effect.Effect<CancellationContext, StepFailure, Downstream> => {
            // The event names the payment to refund; a forged one may name another order's. Checked
            // before anything is undone, so a refusal leaves the order whole.
            if (status === "CONFIRMED") {
              const { authorizationId, orderId } = context.request
              return Effect.flatMap(Downstream, (d) => ownsAuthorization(d, authorizationId, orderId)).pipe(
                Effect.flatMap((owned) =>
                  owned ? Effect.succeed({ ...context, plan: "cancel" as const }) : Effect.fail(
                    new StepFailure({
                      kind: "permanent",
                      unknownOutcome: false,
                      errorTag: "AuthorizationMismatch",
                      message:
                        `authorization ${authorizationId} is not order ${orderId}'s; refusing to cancel or refund it`
                    })
                  )
                )
              )
            }
            if (status === "CANCELLED") return Effect.succeed({ ...context, plan: "already_cancelled" })
            return Effect.fail(
              new StepFailure({
                kind: "permanent",
                unknownOutcome: false,
                errorTag: "OrderNotCancellable",
                message: `order ${context.request.orderId} is ${
                  status ?? "not in the ledger"
                }; cannot cancel it automatically`
              })
            )
          })
        )
    }),
    cancellationStep({
      name: "cancelOrder",
      service: "orders",
      action: ({ context, idempotencyKey }) =>
        whenCancelling(
          context,
          Effect.flatMap(Downstream, (d) =>
            d.orders((client) =>
              client.orders.cancel({
                path: { order_id: context.request.orderId },
                headers: { "idempotency-key": key(idempotencyKey) },
                payload: new CancelOrder({ reason: customerReason(context) })
              })
            )).pipe(Effect.asVoid)
        )
    }),
    cancellationStep({
      name: "releaseStock",
      service: "inventory",
      action: ({ context, idempotencyKey }) =>
        whenCancelling(
          context,
          Effect.flatMap(Downstream, (d) =>
            d.inventory((client) =>
              client.reservations.release({
                path: { order_id: context.request.orderId },
                headers: { "idempotency-key": key(idempotencyKey) }
              })
            )).pipe(Effect.asVoid)
        )
    }),
    cancellationStep({
      name: "refundPayment",
      service: "payments",
      action: ({ context, idempotencyKey }) =>
        whenCancelling(
          context,
          Effect.flatMap(Downstream, (d) =>
            d.payments((client) =>
              client.payments.refund({
                path: { authorization_id: context.request.authorizationId },
                headers: { "idempotency-key": key(idempotencyKey) }
              }).pipe(
                // Never captured: voiding releases the hold instead.
                Effect.catchTag("PaymentStateConflict", (e) =>
                  e.status === "VOIDED"
                    ? Effect.void
                    : e.status === "AUTHORIZED"
                    ? client.payments.void({
                      path: { authorization_id: context.request.authorizationId },
                      headers: { "idempotency-key": key(`${idempotencyKey}:void`) }
                    })
                    : Effect.fail(e)),
                Effect.asVoid
              )
            ))
        )
    })
  ],
  finish: (context, outcome) =>
    Effect.flatMap(LedgerRepo, (ledger) => {
      const orderId = context.request.orderId
      if (outcome.state === "needs_attention") {
        return ledger.settleCancellation({
          orderId,
          status: "NEEDS_ATTENTION",
          reason: outcome.error?.message ?? "needs attention"
        })
      }
      return context.plan === "cancel"
        ? ledger.settleCancellation({ orderId, status: "CANCELLED", reason: customerReason(context) })
        : Effect.void
    })
}

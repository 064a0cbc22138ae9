import { OrderLine, type OrderPlaced, type Payment } from "@ecommerce/contracts"
import { Effect, Option, Schema } from "effect"
import { StepFailure } from "../saga/StepFailure.ts"
import type { LedgerRow } from "./LedgerRepo.ts"

const decodeLines = Schema.decodeUnknownOption(Schema.Array(OrderLine))

const sameLines = (a: ReadonlyArray<OrderLine>, b: ReadonlyArray<OrderLine>) =>
  a.length === b.length &&
  a.every((line, i) => line.sku === b[i]!.sku && line.quantity === b[i]!.quantity && line.unitPrice === b[i]!.unitPrice)

/**
 * Why an OrderPlaced event cannot be trusted, if it cannot: everything it claims is checked
 * against the edge API's ledger row (written in the same transaction as a genuine event) and
 * against the authorization payments holds. A producer that may insert outbox rows can write any
 * payload; only this check stops it from confirming an order without the money for it, or
 * capturing more than the order says.
 */
export const orderDiscrepancies = (input: {
  readonly event: OrderPlaced
  readonly aggregateId: string
  readonly ledger: LedgerRow | undefined
  readonly payment: Payment | undefined
}): ReadonlyArray<string> => {
  const { event, ledger, payment } = input
  const problems: Array<string> = []
  if (input.aggregateId !== event.orderId) {
    problems.push(`its aggregate_id ${input.aggregateId} is not its orderId ${event.orderId}`)
  }
  const total = event.items.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0)
  if (total !== event.amount) problems.push(`its amount ${event.amount} is not the sum of its lines ${total}`)
  if (ledger === undefined) {
    problems.push(`order ${event.orderId} has no order_ledger row`)
  } else {
    if (ledger.amount !== event.amount) problems.push(`its amount ${event.amount} is not the ledger's ${ledger.amount}`)
    if (ledger.currency !== event.currency) {
      problems.push(`its currency ${event.currency} is not the ledger's ${ledger.currency}`)
    }
    if (ledger.customer_id !== event.customerId) problems.push(`its customer is not the ledger's`)
    if (ledger.authorization_id !== event.authorizationId) problems.push(`its authorization is not the ledger's`)
    const lines = decodeLines(ledger.items)
    if (Option.isNone(lines) || !sameLines(lines.value, event.items)) problems.push("its lines are not the ledger's")
  }
  if (payment === undefined) {
    problems.push(`authorization ${event.authorizationId} does not exist`)
  } else {
    if (payment.orderId !== event.orderId) {
      problems.push(`authorization ${event.authorizationId} belongs to order ${payment.orderId}`)
    }
    if (payment.amount !== event.amount) {
      problems.push(`its amount ${event.amount} is not the authorization's ${payment.amount}`)
    }
    if (payment.currency !== event.currency) {
      problems.push(`its currency ${event.currency} is not the authorization's ${payment.currency}`)
    }
  }
  return problems
}

/** The refusal of an event that failed the checks: compensate, then an operator reads why. */
export const refuseOrder = (orderId: string, problems: ReadonlyArray<string>) =>
  Effect.fail(
    new StepFailure({
      kind: "permanent",
      unknownOutcome: false,
      errorTag: "OrderEventRefused",
      message: `refused OrderPlaced for order ${orderId}: ${problems.join("; ")}`,
      refusal: true
    })
  )

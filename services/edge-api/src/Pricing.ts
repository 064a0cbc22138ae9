import { type Checkout as CheckoutRequest, MinorUnits, OrderLine, Quantity, UnknownSku } from "@ecommerce/contracts"
import { invalidRequest } from "@ecommerce/http-kit"
import { Effect, Schema } from "effect"
import type { LedgerRepo } from "./LedgerRepo.ts"

const isQuantity = Schema.is(Quantity)
const isAmount = Schema.is(MinorUnits)

/**
 * Prices a checkout's lines from the catalogue, refusing what the saga could never carry out: an
 * unknown sku, a sku's lines adding up past one reservation line, an amount past MinorUnits.
 */
export const price = (repo: LedgerRepo, request: CheckoutRequest) =>
  Effect.gen(function*() {
    const prices = new Map(
      (yield* repo.prices(request.currency, request.items.map((item) => item.sku))).map((
        row
      ) => [row.sku, row.unitPrice])
    )
    const lines: Array<OrderLine> = []
    for (const item of request.items) {
      const unitPrice = prices.get(item.sku)
      if (unitPrice === undefined) {
        return yield* new UnknownSku({
          sku: item.sku,
          currency: request.currency,
          message: `no price for ${item.sku} in ${request.currency}`
        })
      }
      lines.push(new OrderLine({ sku: item.sku, quantity: item.quantity, unitPrice }))
    }
    // Inventory sums a sku's lines into one reservation line, itself a Quantity: refuse here what
    // the saga could never reserve.
    const perSku = new Map<string, number>()
    for (const line of lines) perSku.set(line.sku, (perSku.get(line.sku) ?? 0) + line.quantity)
    for (const [sku, quantity] of perSku) {
      if (!isQuantity(quantity)) {
        return yield* invalidRequest(["items"], `the lines of ${sku} add up to ${quantity}; at most 10000 per sku`)
      }
    }
    const amount = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0)
    if (!isAmount(amount)) {
      return yield* invalidRequest(["items"], `the order comes to ${amount} minor units; at most 10^12`)
    }
    return { lines: [lines[0]!, ...lines.slice(1)] as const, amount }
  })

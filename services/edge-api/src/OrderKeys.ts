import { type CustomerId, type IdempotencyKey, OrderId } from "@ecommerce/contracts"
import { createHash } from "node:crypto"

/**
 * Idempotency-Keys are chosen by clients, so they are unique per customer only: the edge scopes each
 * key by the customer before storing it or deriving an order id from it. A customer id cannot hold
 * '/', so two scoped keys are equal only when customer and key both are.
 */
export const customerKey = (customerId: CustomerId, key: IdempotencyKey): string => `${customerId}/${key}`

/**
 * The order id is derived from the customer and the checkout's Idempotency-Key, so a client retrying
 * a checkout whose response it lost reaches the same order, and payments (keyed on the order) the
 * same authorization.
 */
export const orderIdFor = (customerId: CustomerId, key: IdempotencyKey): OrderId => {
  const hex = createHash("sha256").update(`checkout:${customerKey(customerId, key)}`).digest("hex")
  // RFC 9562 layout, version 8 (custom), variant 10xx.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return OrderId.make(
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  )
}

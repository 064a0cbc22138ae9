/**
 * The invariants a chaos run must end with, as a pure function of what the services' APIs (and,
 * where no API exists, the database) report afterwards. Each violation is one line with its evidence.
 */

export interface Line {
  readonly sku: string
  readonly quantity: number
}

export interface OrderSnapshot {
  readonly orderId: string
  /** Whether the run asked the edge API to cancel this order. */
  readonly cancelRequested: boolean
  /** The edge API's view (the ledger); undefined when it does not know the order. */
  readonly ledger: {
    readonly status: string
    readonly reason: string | null
    readonly amount: number
    readonly authorizationId: string
    readonly items: ReadonlyArray<Line>
  } | undefined
  /** The orders service's status; undefined when it has no such order (never created). */
  readonly order: string | undefined
  readonly reservation: { readonly status: string; readonly items: ReadonlyArray<Line> } | undefined
  readonly payment: { readonly status: string; readonly amount: number } | undefined
}

export interface Snapshot {
  readonly orders: ReadonlyArray<OrderSnapshot>
  readonly onHandBefore: Readonly<Record<string, number>>
  readonly stockAfter: Readonly<Record<string, { readonly onHand: number; readonly reserved: number }>>
  /** Checkouts the edge API never answered usably (not a decline), with what it said last. */
  readonly checkoutFailures: ReadonlyArray<string>
  readonly db: {
    /** AUTHORIZED authorizations whose order is neither CONFIRMED nor PENDING in the ledger (or not in it). */
    readonly openHolds: ReadonlyArray<
      { readonly authorizationId: string; readonly orderId: string; readonly ledger: string | null }
    >
    /** Captured minus refunded, over every authorization (also those of orders the run does not know). */
    readonly capturedNet: number
    readonly confirmedTotal: number
    readonly outboxUnfinished: ReadonlyArray<
      { readonly id: string; readonly eventType: string; readonly status: string; readonly lastError: string | null }
    >
    readonly sagasUnfinished: ReadonlyArray<
      { readonly id: string; readonly type: string; readonly state: string; readonly orderId: string | null }
    >
  }
}

const sumBySku = (lines: ReadonlyArray<Line>) => {
  const sums: Record<string, number> = {}
  for (const { quantity, sku } of lines) sums[sku] = (sums[sku] ?? 0) + quantity
  return sums
}

const sameLines = (a: ReadonlyArray<Line>, b: ReadonlyArray<Line>) => {
  const x = sumBySku(a)
  const y = sumBySku(b)
  return Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([sku, n]) => y[sku] === n)
}

const orderViolations = (o: OrderSnapshot): Array<string> => {
  const at = `order ${o.orderId}`
  const l = o.ledger
  if (!l) return [`${at}: accepted at checkout but unknown to the edge API`]
  const found = [
    `ledger=${l.status}${l.reason ? ` (${l.reason})` : ""}`,
    `orders=${o.order ?? "none"}`,
    `reservation=${o.reservation?.status ?? "none"}`,
    `payment=${o.payment ? `${o.payment.status} ${o.payment.amount}` : "none"}`
  ].join(" ")
  const bad = (what: string) => `${at}: ${what} [${found}]`
  switch (l.status) {
    case "CONFIRMED": {
      const out: Array<string> = []
      if (o.cancelRequested) out.push(bad("cancellation requested but the order stayed CONFIRMED"))
      if (o.order !== "CONFIRMED") out.push(bad("confirmed in the ledger but not by the orders service"))
      if (o.payment?.status !== "CAPTURED" || o.payment.amount !== l.amount) {
        out.push(bad("confirmed without a capture of its amount"))
      }
      if (o.reservation?.status !== "HELD" || !sameLines(o.reservation.items, l.items)) {
        out.push(bad("confirmed without its stock held"))
      }
      return out
    }
    case "CANCELLED": {
      const out: Array<string> = []
      if (o.order !== undefined && o.order !== "CANCELLED") {
        out.push(bad("cancelled in the ledger but not by the orders service"))
      }
      if (o.payment?.status !== "VOIDED" && o.payment?.status !== "REFUNDED") {
        out.push(bad("cancelled with money still held or taken"))
      }
      if (o.reservation !== undefined && o.reservation.status !== "RELEASED") {
        out.push(bad("cancelled with stock still held"))
      }
      return out
    }
    case "NEEDS_ATTENTION":
      // Every fault this run injects is transient, so no order should need a person.
      return [bad("needs attention")]
    default:
      return [bad("not terminal")]
  }
}

export const violations = (s: Snapshot): Array<string> => {
  const out = s.orders.flatMap(orderViolations)
  for (const failure of s.checkoutFailures) out.push(`checkout never answered: ${failure}`)

  const heldByConfirmed: Record<string, number> = {}
  for (const o of s.orders) {
    if (o.ledger?.status === "CONFIRMED" && o.reservation?.status === "HELD") {
      for (const [sku, n] of Object.entries(sumBySku(o.reservation.items))) {
        heldByConfirmed[sku] = (heldByConfirmed[sku] ?? 0) + n
      }
    }
  }
  for (const [sku, before] of Object.entries(s.onHandBefore)) {
    const after = s.stockAfter[sku]
    if (!after) {
      out.push(`stock ${sku}: missing after the run`)
      continue
    }
    if (after.onHand !== before) out.push(`stock ${sku}: on_hand ${before} before, ${after.onHand} after`)
    const held = heldByConfirmed[sku] ?? 0
    if (after.reserved !== held) out.push(`stock ${sku}: reserved ${after.reserved}, but confirmed orders hold ${held}`)
  }

  if (s.db.capturedNet !== s.db.confirmedTotal) {
    out.push(`money: captured - refunded = ${s.db.capturedNet}, confirmed orders total ${s.db.confirmedTotal}`)
  }
  for (const h of s.db.openHolds) {
    out.push(
      `open hold: authorization ${h.authorizationId} of order ${h.orderId} is AUTHORIZED, ledger ${
        h.ledger ?? "has no such order"
      }`
    )
  }
  for (const r of s.db.outboxUnfinished) {
    out.push(`outbox row ${r.id} (${r.eventType}) is ${r.status}${r.lastError ? `: ${r.lastError}` : ""}`)
  }
  for (const r of s.db.sagasUnfinished) {
    out.push(`saga ${r.id} (${r.type}, order ${r.orderId ?? "?"}) is ${r.state}`)
  }
  return out
}

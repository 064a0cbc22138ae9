/** The chaos run's invariants catch what they promise to (each seeded violation found, a clean state passes). */
import { describe, expect, it } from "@effect/vitest"
import { type OrderSnapshot, type Snapshot, violations } from "../Checks.ts"

const lines = [{ sku: "MUG-BLUE", quantity: 2 }]
const confirmed: OrderSnapshot = {
  orderId: "o-1",
  cancelRequested: false,
  ledger: { status: "CONFIRMED", reason: null, amount: 1000, authorizationId: "a-1", items: lines },
  order: "CONFIRMED",
  reservation: { status: "HELD", items: lines },
  payment: { status: "CAPTURED", amount: 1000 }
}
const cancelled: OrderSnapshot = {
  orderId: "o-2",
  cancelRequested: true,
  ledger: { status: "CANCELLED", reason: "payment declined", amount: 500, authorizationId: "a-2", items: lines },
  order: "CANCELLED",
  reservation: { status: "RELEASED", items: lines },
  payment: { status: "REFUNDED", amount: 500 }
}
const clean: Snapshot = {
  orders: [confirmed, cancelled],
  onHandBefore: { "MUG-BLUE": 100 },
  stockAfter: { "MUG-BLUE": { onHand: 100, reserved: 2 } },
  checkoutFailures: [],
  db: { openHolds: [], capturedNet: 1000, confirmedTotal: 1000, outboxUnfinished: [], sagasUnfinished: [] }
}

describe("chaos checks", () => {
  it("a consistent end state has no violation", () => {
    expect(violations(clean)).toEqual([])
  })

  const seeded: Array<[string, Snapshot, RegExp]> = [
    ["an order left pending", {
      ...clean,
      orders: [{ ...confirmed, ledger: { ...confirmed.ledger!, status: "PENDING" } }]
    }, /not terminal/],
    ["an order needing attention", {
      ...clean,
      orders: [{ ...cancelled, ledger: { ...cancelled.ledger!, status: "NEEDS_ATTENTION" } }]
    }, /needs attention/],
    ["a confirmed order without its capture", {
      ...clean,
      orders: [{ ...confirmed, payment: { status: "AUTHORIZED", amount: 1000 } }, cancelled]
    }, /without a capture/],
    ["a cancelled order whose stock is held", {
      ...clean,
      orders: [confirmed, { ...cancelled, reservation: { status: "HELD", items: lines } }]
    }, /stock still held/],
    ["a cancelled order whose money is held", {
      ...clean,
      orders: [confirmed, { ...cancelled, payment: { status: "AUTHORIZED", amount: 500 } }]
    }, /money still held/],
    [
      "a cancellation that did not happen",
      { ...clean, orders: [{ ...confirmed, cancelRequested: true }, cancelled] },
      /stayed CONFIRMED/
    ],
    [
      "stock on hand changed",
      { ...clean, stockAfter: { "MUG-BLUE": { onHand: 98, reserved: 2 } } },
      /on_hand 100 before, 98 after/
    ],
    [
      "reserved stock no confirmed order holds",
      { ...clean, stockAfter: { "MUG-BLUE": { onHand: 100, reserved: 4 } } },
      /reserved 4, but confirmed orders hold 2/
    ],
    ["money not conserved", { ...clean, db: { ...clean.db, capturedNet: 1500 } }, /captured - refunded = 1500/],
    ["an open hold", {
      ...clean,
      db: { ...clean.db, openHolds: [{ authorizationId: "a-9", orderId: "o-9", ledger: null }] }
    }, /open hold: authorization a-9/],
    ["a stuck outbox row", {
      ...clean,
      db: {
        ...clean.db,
        outboxUnfinished: [{ id: "7", eventType: "OrderPlaced", status: "processing", lastError: null }]
      }
    }, /outbox row 7/],
    ["an unfinished saga", {
      ...clean,
      db: { ...clean.db, sagasUnfinished: [{ id: "s-1", type: "OrderPlaced", state: "compensating", orderId: "o-3" }] }
    }, /saga s-1/],
    ["a checkout never answered", { ...clean, checkoutFailures: ["checkout 4: 503"] }, /checkout never answered/]
  ]
  for (const [what, snapshot, expected] of seeded) {
    it(`finds ${what}`, () => {
      expect(violations(snapshot).join("\n")).toMatch(expected)
    })
  }
})

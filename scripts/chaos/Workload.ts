/** The chaos run's checkouts: a deterministic mix by position, so a failing run can be replayed. */
export const SCARCE = "HOODIE-GREY-L"
export const SKUS = ["MUG-BLUE", "SOCKS-3PACK", "POSTER-MAP", SCARCE] as const

/** Deterministic mix by position: a card, lines (every fourth wants the scarce sku), and whether to cancel. */
export const workload = (i: number) => ({
  card: i % 10 === 3 ? "tok_declined" : i % 10 === 7 ? "tok_capture_declined" : "tok_visa",
  items: i % 4 === 0
    ? [{ sku: SCARCE, quantity: 1 + (i % 3) }, { sku: "MUG-BLUE", quantity: 1 }]
    : [{ sku: "MUG-BLUE", quantity: 1 + (i % 2) }, { sku: "SOCKS-3PACK", quantity: 1 }, {
      sku: "POSTER-MAP",
      quantity: 1
    }],
  /** Cancelled right after checkout (while the saga runs) or after all checkouts (mostly confirmed by then). */
  cancel: i % 6 === 1 ? "early" as const : i % 6 === 4 ? "late" as const : undefined
})

/**
 * The done-when check: many checkouts through the edge API with declined cards, capture
 * declines, a scarce sku and injected 5xx (before and after the effect) on orders, inventory and
 * payments; every order must end CONFIRMED or CANCELLED with stock and money conserved.
 * In the suite it places SAGA_CHECK_CHECKOUTS (default 40); `npm run check:sagas` places 200.
 */
import { TestCards } from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import { inject } from "vitest"
import { awaitStatus, checkoutOf, placeOrder, SystemLive } from "../saga-fixtures/system.ts"

const checkouts = Number(process.env.SAGA_CHECK_CHECKOUTS ?? "40")
const SCARCE = "HOODIE-GREY-L"
const SCARCE_STOCK = 6

const System = SystemLive({
  adminUrl: inject("adminUrl"),
  template: inject("templateDatabase"),
  chaos: { failBeforeRate: 0.1, failAfterRate: 0.1 },
  worker: {
    POLL_INTERVAL_MS: "500",
    WORKER_CONCURRENCY: "16",
    CIRCUIT_COOLDOWN_MS: "1000",
    SAGA_INLINE_RETRY_MAX_MS: "1000"
  }
})

/** Deterministic mix: index i gets a card and lines from its position in a cycle of ten. */
const requestFor = (i: number) => {
  const card = i % 10 === 3 ? TestCards.declined : i % 10 === 7 ? TestCards.captureDeclined : TestCards.approved
  const skus: readonly [readonly [string, number], ...Array<readonly [string, number]>] = i % 4 === 0
    ? [[SCARCE, 1 + (i % 3)], ["MUG-BLUE", 1]]
    : [["MUG-BLUE", 1 + (i % 2)], ["SOCKS-3PACK", 1], ["POSTER-MAP", 1]]
  return checkoutOf({ card, skus })
}

layer(System, { excludeTestServices: true, timeout: 600_000 })("checkouts under chaos", (it) => {
  it.effect(`${checkouts} checkouts end CONFIRMED or CANCELLED with stock and money conserved`, () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // Plenty of everything but one sku, so out-of-stock comes from that sku, not from exhaustion.
      yield* sql`update inventory.stock set on_hand = case when sku = ${SCARCE} then ${SCARCE_STOCK} else 10000 end`
      const initial = yield* sql<
        { sku: string; onHand: number }
      >`select sku, on_hand as "onHand" from inventory.stock order by sku`
      const started = Date.now()

      const placed = yield* Effect.forEach(
        Array.from({ length: checkouts }, (_, i) => i),
        (i) => Effect.either(placeOrder(requestFor(i))),
        { concurrency: 10 }
      )
      const orderIds = placed.filter(Either.isRight).map((r) => r.right)
      const declined = placed.filter(Either.isLeft).map((r) => r.left._tag)
      expect(declined.every((tag) => tag === "PaymentDeclined")).toBe(true)
      expect(declined).toHaveLength(placed.filter((_, i) => i % 10 === 3).length)

      const finals = yield* Effect.forEach(orderIds, (id) => awaitStatus(id, ["PENDING"], "300 seconds"), {
        concurrency: 20
      })
      const countBy = (values: ReadonlyArray<string>) =>
        values.reduce<Record<string, number>>((counts, value) => ({ ...counts, [value]: (counts[value] ?? 0) + 1 }), {})
      const byStatus = countBy(finals.map((row) => row.status))
      const reasons = countBy(finals.filter((row) => row.status === "CANCELLED").map((row) => row.reason ?? "?"))
      const summary = {
        checkouts,
        declinedAtCheckout: declined.length,
        confirmed: byStatus.CONFIRMED ?? 0,
        cancelled: reasons,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        retriedSteps: (yield* sql<{ n: number }>`select count(*)::int as n from saga_steps where attempts > 1`)[0]!.n
      }
      // The one output of this check: the numbers the note quotes.
      yield* Effect.logWarning(`saga check: ${JSON.stringify(summary)}`)
      expect(finals.every((row) => row.status === "CONFIRMED" || row.status === "CANCELLED")).toBe(true)
      expect(byStatus.CONFIRMED ?? 0).toBeGreaterThan(0)
      expect(reasons["payment declined"] ?? 0).toBeGreaterThan(0)
      expect(reasons["out of stock"] ?? 0).toBeGreaterThan(0)
      // The injected 5xx happened, and were ridden out by retries.
      expect(summary.retriedSteps).toBeGreaterThan(0)

      // Stock: on hand never changes (reservations are not consumed); what is reserved is exactly
      // what confirmed orders hold.
      const stock = yield* sql<{ sku: string; onHand: number; reserved: number; held: number }>`
        select s.sku, s.on_hand as "onHand", s.reserved,
               coalesce((select sum(i.quantity) from inventory.reservation_items i
                         join inventory.reservations r using (order_id)
                         where r.status = 'HELD' and i.sku = s.sku), 0)::int as held
        from inventory.stock s order by s.sku`
      expect(stock.map(({ onHand, sku }) => ({ sku, onHand }))).toEqual(initial)
      for (const row of stock) expect(row.reserved).toBe(row.held)
      const strayReservations = yield* sql`
        select r.order_id from inventory.reservations r left join order_ledger l using (order_id)
        where r.status = 'HELD' and l.status is distinct from 'CONFIRMED'`
      expect(strayReservations).toEqual([])

      // Money: captured minus refunded equals the confirmed total; no cancelled order keeps an open authorization.
      const [money] = yield* sql<{ captured: string; confirmed: string }>`
        select (select coalesce(sum(amount), 0) from payments.authorizations where status = 'CAPTURED')::text as captured,
               (select coalesce(sum(amount), 0) from order_ledger where status = 'CONFIRMED')::text as confirmed`
      expect(money!.captured).toBe(money!.confirmed)
      const open = yield* sql`
        select a.order_id from payments.authorizations a join order_ledger l using (order_id)
        where a.status = 'AUTHORIZED' and l.status = 'CANCELLED'`
      expect(open).toEqual([])
      const stuck = yield* sql`select id, state from saga_instances where state not in ('completed', 'compensated')`
      expect(stuck).toEqual([])
    }))
})

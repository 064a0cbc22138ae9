import { SqlClient } from "@effect/sql"
import { Data, Duration, Effect, Schedule } from "effect"

export class NotSettled extends Data.TaggedError("NotSettled")<{ readonly message: string }> {}

/**
 * Waits until every order of the run has left PENDING and every event of those orders (placement
 * and cancellation) is done or dead, so nothing is still moving when the books are checked.
 */
export const awaitSettled = (orderIds: ReadonlyArray<string>, timeoutMs: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ open: number }>`
      select (select count(*)::int from order_ledger where order_id = any(${orderIds}::uuid[]) and status = 'PENDING')
           + (select count(*)::int from outbox where aggregate_id = any(${orderIds}::text[]) and status in ('pending', 'processing'))
        as open`.pipe(
      Effect.map((rows) => rows[0]!.open),
      Effect.repeat({ until: (open) => open === 0, schedule: Schedule.spaced("250 millis") }),
      Effect.timeoutFail({
        duration: Duration.millis(timeoutMs),
        onTimeout: () => new NotSettled({ message: `orders still open after ${timeoutMs} ms (SETTLE_TIMEOUT_MS)` })
      })
    ))

export interface Books {
  readonly byStatus: Readonly<Record<string, number>>
  readonly problems: ReadonlyArray<string>
}

/**
 * The run's books, read as the superuser across the services' schemas:
 * - money: a CONFIRMED order's authorization is CAPTURED for the ledger's amount and currency; a
 *   CANCELLED one is VOIDED or REFUNDED; no order's authorization is left AUTHORIZED; and no
 *   authorization of this run lacks an order.
 * - stock: a CONFIRMED order holds its reservation and a CANCELLED one holds none; and for every
 *   sku, `reserved` equals the held quantities and on_hand did not move.
 */
export const checkBooks = (orderIds: ReadonlyArray<string>, since: Date, onHandBefore: ReadonlyMap<string, number>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.gen(function*() {
      const problems: Array<string> = []
      const rows = yield* sql<
        {
          order_id: string
          status: string
          amount: string
          currency: string
          payment: string | null
          paid: string | null
          paid_currency: string | null
          reservation: string | null
        }
      >`
        select l.order_id::text as order_id, l.status, l.amount::text as amount, l.currency,
               a.status as payment, a.amount::text as paid, a.currency as paid_currency, r.status as reservation
        from order_ledger l
        left join payments.authorizations a on a.order_id = l.order_id
        left join inventory.reservations r on r.order_id = l.order_id
        where l.order_id = any(${orderIds}::uuid[])`
      const byStatus: Record<string, number> = {}
      for (const row of rows) {
        byStatus[row.status] = (byStatus[row.status] ?? 0) + 1
        if (row.status === "CONFIRMED") {
          if (row.payment !== "CAPTURED" || row.paid !== row.amount || row.paid_currency !== row.currency) {
            problems.push(
              `order ${row.order_id} CONFIRMED but its payment is ${row.payment} ${row.paid} ${row.paid_currency}, ledger ${row.amount} ${row.currency}`
            )
          }
          if (row.reservation !== "HELD") {
            problems.push(`order ${row.order_id} CONFIRMED but its reservation is ${row.reservation}`)
          }
        } else if (row.status === "CANCELLED") {
          if (row.payment !== "VOIDED" && row.payment !== "REFUNDED") {
            problems.push(`order ${row.order_id} CANCELLED but its payment is ${row.payment}`)
          }
          if (row.reservation === "HELD") {
            problems.push(`order ${row.order_id} CANCELLED but still holds its reservation`)
          }
        } else {
          problems.push(`order ${row.order_id} is ${row.status}`)
        }
      }
      if (rows.length !== orderIds.length) {
        problems.push(`${orderIds.length - rows.length} accepted order(s) have no ledger row`)
      }
      const orphans = yield* sql<{ order_id: string }>`
        select a.order_id::text as order_id from payments.authorizations a
        where a.created_at >= ${since} and a.status = 'AUTHORIZED'
          and not exists (select 1 from order_ledger l where l.order_id = a.order_id)`
      for (const row of orphans) problems.push(`authorization of ${row.order_id} is AUTHORIZED with no order`)
      const stock = yield* sql<{ sku: string; on_hand: number; reserved: number; held: number }>`
        select s.sku, s.on_hand, s.reserved,
               coalesce((select sum(i.quantity)::int from inventory.reservation_items i
                         join inventory.reservations r on r.order_id = i.order_id
                         where r.status = 'HELD' and i.sku = s.sku), 0) as held
        from inventory.stock s order by s.sku`
      for (const row of stock) {
        if (row.reserved !== row.held) {
          problems.push(`sku ${row.sku}: reserved ${row.reserved} but reservations hold ${row.held}`)
        }
        const before = onHandBefore.get(row.sku)
        if (before !== undefined && before !== row.on_hand) {
          problems.push(`sku ${row.sku}: on_hand moved from ${before} to ${row.on_hand}`)
        }
      }
      return { byStatus, problems } satisfies Books
    }))

export const onHand = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ sku: string; on_hand: number }>`select sku, on_hand from inventory.stock`.pipe(
      Effect.map((rows) => new Map(rows.map((row) => [row.sku, row.on_hand])))
    )
)

/** The demo's warehouse: everyday skus are restocked when they run low; the scarce one never is. */
export const restock = (scarceSku: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`update inventory.stock set on_hand = on_hand + 100, updated_at = now()
        where sku <> ${scarceSku} and on_hand - reserved < 20`
  )

import type { OrderId, ReservationStatus, Sku } from "@ecommerce/contracts"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export interface StockRow {
  readonly sku: Sku
  readonly onHand: number
  readonly reserved: number
}

export interface ReservationRow {
  readonly orderId: OrderId
  readonly status: ReservationStatus
  readonly items: ReadonlyArray<{ readonly sku: Sku; readonly quantity: number }>
}

/** The inventory schema's SQL, one statement per function. SqlError is a defect past this point. */
export class InventoryRepo extends Effect.Service<InventoryRepo>()("@ecommerce/inventory/InventoryRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * Claims the order's one reservation. A concurrent claim for the same order waits here on the
     * primary key until the first transaction ends, so two requests never both reserve stock.
     */
    const claimReservation = (orderId: OrderId, status: ReservationStatus) =>
      sql<{ orderId: OrderId }>`
        insert into inventory.reservations (order_id, status, released_at)
        values (${orderId}, ${status}, ${status === "RELEASED" ? sql`now()` : null})
        on conflict (order_id) do nothing
        returning order_id as "orderId"`.pipe(Effect.map((rows) => rows.length === 1), Effect.orDie)

    const findReservation = (orderId: OrderId) =>
      sql<ReservationRow>`
        select r.order_id as "orderId", r.status,
               coalesce(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) order by i.sku)
                          filter (where i.sku is not null), '[]') as items
        from inventory.reservations r
        left join inventory.reservation_items i using (order_id)
        where r.order_id = ${orderId}
        group by r.order_id, r.status`.pipe(Effect.map((rows) => rows[0]), Effect.orDie)

    /**
     * Locks the stock rows of a reservation before testing availability. Sorted by sku so that
     * concurrent multi-sku reservations take their locks in one order and cannot deadlock; the
     * conditional update that follows then sees the final committed quantities.
     */
    const lockStock = (skus: ReadonlyArray<Sku>) =>
      sql<StockRow>`
        select sku, on_hand as "onHand", reserved
        from inventory.stock
        where ${sql.in("sku", skus)}
        order by sku
        for update`.pipe(Effect.orDie)

    const addReserved = (sku: Sku, quantity: number) =>
      sql`update inventory.stock set reserved = reserved + ${quantity}, updated_at = now() where sku = ${sku}`.pipe(
        Effect.orDie
      )

    const insertReservationItem = (orderId: OrderId, sku: Sku, quantity: number) =>
      sql`insert into inventory.reservation_items (order_id, sku, quantity) values (${orderId}, ${sku}, ${quantity})`
        .pipe(Effect.orDie)

    /** HELD -> RELEASED, once: a concurrent release waits on the row lock, then matches nothing. */
    const markReleased = (orderId: OrderId) =>
      sql<{ orderId: OrderId }>`
        update inventory.reservations set status = 'RELEASED', released_at = now()
        where order_id = ${orderId} and status = 'HELD'
        returning order_id as "orderId"`.pipe(Effect.map((rows) => rows.length === 1), Effect.orDie)

    /**
     * Locks the stock rows of the order's reservation in sku order, as `lockStock` does. The update
     * below joins against a scan of stock and would lock in heap order, deadlocking with a concurrent
     * reserve that holds one of the skus and waits for another.
     */
    const lockReservedStock = (orderId: OrderId) =>
      sql`
        select sku from inventory.stock
        where sku in (select sku from inventory.reservation_items where order_id = ${orderId})
        order by sku
        for update`.pipe(Effect.orDie)

    const returnReservedStock = (orderId: OrderId) =>
      sql`
        update inventory.stock s
        set reserved = s.reserved - i.quantity, updated_at = now()
        from inventory.reservation_items i
        where i.order_id = ${orderId} and s.sku = i.sku`.pipe(Effect.orDie)

    const findStock = (sku: Sku) =>
      sql<StockRow>`select sku, on_hand as "onHand", reserved from inventory.stock where sku = ${sku}`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.orDie
      )

    /** Sets on-hand, unless that would put it below what is reserved (then no row comes back). */
    const setOnHand = (sku: Sku, onHand: number) =>
      sql<StockRow>`
        insert into inventory.stock (sku, on_hand) values (${sku}, ${onHand})
        on conflict (sku) do update set on_hand = excluded.on_hand, updated_at = now()
          where inventory.stock.reserved <= excluded.on_hand
        returning sku, on_hand as "onHand", reserved`.pipe(Effect.map((rows) => rows[0]), Effect.orDie)

    return {
      claimReservation,
      findReservation,
      lockStock,
      addReserved,
      insertReservationItem,
      markReleased,
      lockReservedStock,
      returnReservedStock,
      findStock,
      setOnHand
    } as const
  })
}) {}

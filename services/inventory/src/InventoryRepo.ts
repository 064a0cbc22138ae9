import { OrderId, Quantity, Reservation, ReservationStatus, Sku, StockLevel } from "@ecommerce/contracts"
import { repository } from "@ecommerce/db"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"

const StockRow = Schema.Struct({ sku: Sku, onHand: StockLevel, reserved: StockLevel })
export type StockRow = typeof StockRow.Type

const Claimed = Schema.Struct({ orderId: OrderId })
const SkuRow = Schema.Struct({ sku: Sku })

/** The inventory schema's SQL, one statement per function. SqlError is a defect past this point. */
export class InventoryRepo extends Effect.Service<InventoryRepo>()("@ecommerce/inventory/InventoryRepo", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's statements, each short and sharing
    // the one `sql`; splitting it would scatter one schema's SQL over files.
    const sql = yield* SqlClient.SqlClient

    /**
     * Claims the order's one reservation. A concurrent claim for the same order waits here on the
     * primary key until the first transaction ends, so two requests never both reserve stock.
     */
    const claimReservation = SqlSchema.findOne({
      Request: Schema.Struct({ orderId: OrderId, status: ReservationStatus }),
      Result: Claimed,
      execute: ({ orderId, status }) =>
        sql`
          insert into inventory.reservations (order_id, status, released_at)
          values (${orderId}, ${status}, ${status === "RELEASED" ? sql`now()` : null})
          on conflict (order_id) do nothing
          returning order_id as "orderId"`
    })

    const findReservation = SqlSchema.findOne({
      Request: OrderId,
      Result: Reservation,
      execute: (orderId) =>
        sql`
          select r.order_id as "orderId", r.status,
                 coalesce(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) order by i.sku)
                            filter (where i.sku is not null), '[]') as items
          from inventory.reservations r
          left join inventory.reservation_items i using (order_id)
          where r.order_id = ${orderId}
          group by r.order_id, r.status`
    })

    /**
     * Locks the stock rows of a reservation before testing availability. Sorted by sku so that
     * concurrent multi-sku reservations take their locks in one order and cannot deadlock; the
     * conditional update that follows then sees the final committed quantities.
     */
    const lockStock = SqlSchema.findAll({
      Request: Schema.Array(Sku),
      Result: StockRow,
      execute: (skus) =>
        sql`
          select sku, on_hand as "onHand", reserved
          from inventory.stock
          where ${sql.in("sku", skus)}
          order by sku
          for update`
    })

    /**
     * Adds a reservation's lines to `reserved` and records them as its items, all lines in one
     * statement (the stock rows are already locked by `lockStock`; the lines have distinct skus).
     */
    const reserveLines = SqlSchema.void({
      Request: Schema.Struct({
        orderId: OrderId,
        lines: Schema.Array(Schema.Struct({ sku: Sku, quantity: Quantity }))
      }),
      execute: ({ lines, orderId }) => {
        const skus = lines.map((line) => line.sku)
        const quantities = lines.map((line) => line.quantity)
        return sql`
          with items as (
            insert into inventory.reservation_items (order_id, sku, quantity)
            select ${orderId}, t.sku, t.quantity from unnest(${skus}::text[], ${quantities}::integer[]) as t(sku, quantity)
          )
          update inventory.stock s set reserved = s.reserved + t.quantity, updated_at = now()
          from unnest(${skus}::text[], ${quantities}::integer[]) as t(sku, quantity)
          where s.sku = t.sku`
      }
    })

    /** HELD -> RELEASED, once: a concurrent release waits on the row lock, then matches nothing. */
    const markReleased = SqlSchema.findOne({
      Request: OrderId,
      Result: Claimed,
      execute: (orderId) =>
        sql`
          update inventory.reservations set status = 'RELEASED', released_at = now()
          where order_id = ${orderId} and status = 'HELD'
          returning order_id as "orderId"`
    })

    /**
     * Locks the stock rows of the order's reservation in sku order, as `lockStock` does. The update
     * below joins against a scan of stock and would lock in heap order, deadlocking with a concurrent
     * reserve that holds one of the skus and waits for another.
     */
    const lockReservedStock = SqlSchema.findAll({
      Request: OrderId,
      Result: SkuRow,
      execute: (orderId) =>
        sql`
          select sku from inventory.stock
          where sku in (select sku from inventory.reservation_items where order_id = ${orderId})
          order by sku
          for update`
    })

    const returnReservedStock = SqlSchema.void({
      Request: OrderId,
      execute: (orderId) =>
        sql`
          update inventory.stock s
          set reserved = s.reserved - i.quantity, updated_at = now()
          from inventory.reservation_items i
          where i.order_id = ${orderId} and s.sku = i.sku`
    })

    const findStock = SqlSchema.findOne({
      Request: Sku,
      Result: StockRow,
      execute: (sku) => sql`select sku, on_hand as "onHand", reserved from inventory.stock where sku = ${sku}`
    })

    /** Sets on-hand, unless that would put it below what is reserved (then no row comes back). */
    const setOnHand = SqlSchema.findOne({
      Request: Schema.Struct({ sku: Sku, onHand: StockLevel }),
      Result: StockRow,
      execute: ({ onHand, sku }) =>
        sql`
          insert into inventory.stock (sku, on_hand) values (${sku}, ${onHand})
          on conflict (sku) do update set on_hand = excluded.on_hand, updated_at = now()
            where inventory.stock.reserved <= excluded.on_hand
          returning sku, on_hand as "onHand", reserved`
    })

    return repository({
      claimReservation: (orderId: OrderId, status: ReservationStatus) =>
        Effect.map(claimReservation({ orderId, status }), Option.isSome),
      findReservation,
      lockStock,
      reserveLines: (orderId: OrderId, lines: ReadonlyArray<{ readonly sku: Sku; readonly quantity: number }>) =>
        reserveLines({ orderId, lines }),
      markReleased: (orderId: OrderId) => Effect.map(markReleased(orderId), Option.isSome),
      lockReservedStock: (orderId: OrderId) => Effect.asVoid(lockReservedStock(orderId)),
      returnReservedStock,
      findStock,
      setOnHand: (sku: Sku, onHand: number) => setOnHand({ sku, onHand })
    })
  })
}) {}

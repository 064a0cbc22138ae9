import { CreateOrder, Order, OrderId } from "@ecommerce/contracts"
import { repository } from "@ecommerce/db"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"

/** A row as selected below: bigint `amount` arrives as a string. */
const OrderRow = Schema.Struct({
  ...Order.fields,
  amount: Schema.compose(Schema.NumberFromString, Order.fields.amount)
})

const toOrder = (row: typeof OrderRow.Type) => new Order(row)

/** The orders schema's SQL, one statement per function. SqlError is a defect past this point. */
export class OrdersRepo extends Effect.Service<OrdersRepo>()("@ecommerce/orders/OrdersRepo", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's statements, each short and sharing
    // the one `sql`; splitting it would scatter one schema's SQL over files.
    const sql = yield* SqlClient.SqlClient
    const columns = sql`order_id as "orderId", customer_id as "customerId", items, amount::text as amount,
      currency, status, reason`

    /**
     * Inserts unless the order id exists, returning the new row (so a create needs no read after
     * it); a concurrent insert of the same id waits for the first.
     */
    const insert = SqlSchema.findOne({
      Request: CreateOrder,
      Result: OrderRow,
      execute: (order) =>
        sql`
          insert into orders.orders (order_id, customer_id, items, amount, currency)
          values (${order.orderId}, ${order.customerId}, ${JSON.stringify(order.items)}::jsonb, ${order.amount},
                  ${order.currency})
          on conflict (order_id) do nothing
          returning ${columns}`
    })

    const find = SqlSchema.findOne({
      Request: OrderId,
      Result: OrderRow,
      execute: (orderId) => sql`select ${columns} from orders.orders where order_id = ${orderId}`
    })

    /** PENDING -> CONFIRMED; matches nothing in any other status. */
    const confirmPending = SqlSchema.findOne({
      Request: OrderId,
      Result: OrderRow,
      execute: (orderId) =>
        sql`update orders.orders set status = 'CONFIRMED', updated_at = now()
            where order_id = ${orderId} and status = 'PENDING'
            returning ${columns}`
    })

    /** PENDING or CONFIRMED -> CANCELLED; matches nothing once cancelled, so the first reason stays. */
    const cancelOpen = SqlSchema.findOne({
      Request: Schema.Struct({ orderId: OrderId, reason: Schema.String }),
      Result: OrderRow,
      execute: ({ orderId, reason }) =>
        sql`update orders.orders set status = 'CANCELLED', reason = ${reason}, updated_at = now()
            where order_id = ${orderId} and status <> 'CANCELLED'
            returning ${columns}`
    })

    /**
     * Create and cancel-of-a-missing-order both decide on a row that does not exist yet, so there
     * is nothing to lock: under read committed a create and a cancel racing on one id could both
     * see nothing and both commit (an orphan PENDING order beside its cancellation mark). A
     * transaction-scoped advisory lock on the id serializes them; it is released at commit.
     */
    const lockOrderId = SqlSchema.void({
      Request: OrderId,
      execute: (orderId) => sql`select pg_advisory_xact_lock(hashtextextended(${orderId}, 0))`
    })

    /** Records that the id was cancelled before any order existed; the first reason stays. */
    const markCancelled = SqlSchema.void({
      Request: Schema.Struct({ orderId: OrderId, reason: Schema.String }),
      execute: ({ orderId, reason }) =>
        sql`insert into orders.cancellation_marks (order_id, reason) values (${orderId}, ${reason})
            on conflict (order_id) do nothing`
    })

    const cancellationMark = SqlSchema.findOne({
      Request: OrderId,
      Result: Schema.Struct({ reason: Schema.String }),
      execute: (orderId) => sql`select reason from orders.cancellation_marks where order_id = ${orderId}`
    })

    return repository({
      insert: (order: CreateOrder) => Effect.map(insert(order), Option.map(toOrder)),
      lockOrderId,
      markCancelled: (orderId: OrderId, reason: string) => markCancelled({ orderId, reason }),
      cancellationMark: (orderId: OrderId) => Effect.map(cancellationMark(orderId), Option.map((mark) => mark.reason)),
      find: (orderId: OrderId) => Effect.map(find(orderId), Option.map(toOrder)),
      confirmPending: (orderId: OrderId) => Effect.map(confirmPending(orderId), Option.map(toOrder)),
      cancelOpen: (orderId: OrderId, reason: string) => Effect.map(cancelOpen({ orderId, reason }), Option.map(toOrder))
    })
  })
}) {}

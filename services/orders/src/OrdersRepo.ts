import { type CreateOrder, Order, OrderId } from "@ecommerce/contracts"
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
    const sql = yield* SqlClient.SqlClient
    const columns = sql`order_id as "orderId", customer_id as "customerId", items, amount::text as amount,
      currency, status, reason`

    /** Inserts unless the order id exists; a concurrent insert of the same id waits for the first. */
    const insert = (order: CreateOrder) =>
      Effect.flatMap(
        Schema.encode(Schema.Array(Order.fields.items.value))(order.items),
        (items) =>
          sql<{ orderId: string }>`
          insert into orders.orders (order_id, customer_id, items, amount, currency)
          values (${order.orderId}, ${order.customerId}, ${
            JSON.stringify(items)
          }::jsonb, ${order.amount}, ${order.currency})
          on conflict (order_id) do nothing
          returning order_id as "orderId"`
      ).pipe(Effect.map((rows) => rows.length === 1), Effect.orDie)

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
    const lockOrderId = (orderId: OrderId) =>
      sql`select pg_advisory_xact_lock(hashtextextended(${orderId}, 0))`.pipe(Effect.asVoid, Effect.orDie)

    /** Records that the id was cancelled before any order existed; the first reason stays. */
    const markCancelled = (orderId: OrderId, reason: string) =>
      sql`insert into orders.cancellation_marks (order_id, reason) values (${orderId}, ${reason})
          on conflict (order_id) do nothing`.pipe(Effect.asVoid, Effect.orDie)

    const cancellationMark = (orderId: OrderId) =>
      sql<{ reason: string }>`select reason from orders.cancellation_marks where order_id = ${orderId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]?.reason)),
        Effect.orDie
      )

    const asOrder = <E>(effect: Effect.Effect<Option.Option<typeof OrderRow.Type>, E>) =>
      effect.pipe(Effect.map(Option.map(toOrder)), Effect.orDie)

    return {
      insert,
      lockOrderId,
      markCancelled,
      cancellationMark,
      find: (orderId: OrderId) => asOrder(find(orderId)),
      confirmPending: (orderId: OrderId) => asOrder(confirmPending(orderId)),
      cancelOpen: (orderId: OrderId, reason: string) => asOrder(cancelOpen({ orderId, reason }))
    } as const
  })
}) {}

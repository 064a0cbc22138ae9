import {
  CatalogueItem,
  Currency,
  OrderAggregateType,
  OrderId,
  OrderLine,
  OrderPlaced,
  OrderView,
  Sku
} from "@ecommerce/contracts"
import { repository } from "@ecommerce/db"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"

/** bigint columns arrive as strings, timestamps as Dates. */
const LedgerRow = Schema.Struct({
  ...OrderView.fields,
  amount: Schema.compose(Schema.NumberFromString, OrderView.fields.amount),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf
})

const PriceRow = Schema.Struct({
  sku: Sku,
  unitPrice: Schema.compose(Schema.NumberFromString, OrderLine.fields.unitPrice)
})

const CatalogueRow = Schema.Struct({
  ...CatalogueItem.fields,
  unitPrice: Schema.compose(Schema.NumberFromString, CatalogueItem.fields.unitPrice)
})

/**
 * The edge API's SQL on the shared tables (catalogue, order_ledger, outbox), one statement per
 * function. SqlError is a defect past this point.
 */
export class LedgerRepo extends Effect.Service<LedgerRepo>()("@ecommerce/edge-api/LedgerRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const prices = SqlSchema.findAll({
      Request: Schema.Struct({ currency: Currency, skus: Schema.Array(Sku) }),
      Result: PriceRow,
      execute: ({ currency, skus }) =>
        sql`select sku, unit_price::text as "unitPrice" from catalogue
            where currency = ${currency} and ${sql.in("sku", skus)}`
    })

    const insertLedger = SqlSchema.void({
      Request: OrderPlaced,
      execute: (order) =>
        sql`
          insert into order_ledger (order_id, customer_id, items, amount, currency, authorization_id)
          values (${order.orderId}, ${order.customerId}, ${JSON.stringify(order.items)}::jsonb, ${order.amount},
                  ${order.currency}, ${order.authorizationId})`
    })

    /**
     * An outbox row for the order aggregate; the statement trigger wakes the orchestrator on commit.
     * Generic in its event schema, which `repository` below would erase, so it dies here itself.
     */
    const insertEvent = <A extends { readonly orderId: OrderId }, I>(
      schema: Schema.Schema<A, I> & { readonly eventType: string },
      event: A,
      headers: Record<string, string>
    ) =>
      SqlSchema.void({
        Request: schema,
        execute: (payload) =>
          sql`
            insert into outbox (aggregate_type, aggregate_id, event_type, payload, headers)
            values (${OrderAggregateType}, ${event.orderId}, ${schema.eventType}, ${JSON.stringify(payload)}::jsonb,
                    ${JSON.stringify(headers)}::jsonb)`
      })(event).pipe(Effect.orDie)

    const find = SqlSchema.findOne({
      Request: OrderId,
      Result: LedgerRow,
      execute: (orderId) =>
        sql`select order_id as "orderId", customer_id as "customerId", items, amount::text as amount, currency,
                   authorization_id as "authorizationId", status, reason, created_at as "createdAt",
                   updated_at as "updatedAt"
            from order_ledger where order_id = ${orderId}`
    })

    const catalogue = SqlSchema.findAll({
      Request: Schema.Void,
      Result: CatalogueRow,
      execute: () =>
        sql`select sku, name, unit_price::text as "unitPrice", currency from catalogue order by sku, currency`
    })

    return {
      ...repository({
        prices: (currency: Currency, skus: ReadonlyArray<Sku>) => prices({ currency, skus }),
        catalogue: Effect.map(catalogue(undefined), (rows) => rows.map((row) => new CatalogueItem(row))),
        insertLedger,
        find: (orderId: OrderId) => Effect.map(find(orderId), Option.map((row) => new OrderView(row)))
      }),
      insertEvent
    }
  })
}) {}

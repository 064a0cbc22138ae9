/**
 * The edge API over HTTP for its test files: the real payments service behind it, a typed client on
 * it, checkouts to send and what the database holds for an order afterwards.
 */
import {
  CardToken,
  Checkout,
  CheckoutLine,
  Currency,
  CustomerId,
  IdempotencyKey,
  type OrderId,
  Sku,
  TestCards
} from "@ecommerce/contracts"
import { type TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { EdgeApiClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { clientOf, testServer } from "@ecommerce/http-kit/testing"
import { PaymentsApiLive } from "@ecommerce/payments"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { EdgeAuth, makeEdgeApi } from "../src/Http.ts"
import { orderIdFor } from "../src/OrderKeys.ts"

/** The real payments service on its own port, seen by the edge API through its typed client. */
export const PaymentsLive = clientOf(PaymentsClient.layer).pipe(
  Layer.provide(testServer({ api: PaymentsApiLive, role: "payments" }))
)

/** What the edge's clients present; the services' `testToken` is refused by the edge. */
export const edgeKey = Redacted.make("test-edge-key")

/** The edge API and its client; `database` overrides where the edge's pool connects. */
export const edgeClientFor = <E, R>(
  payments: Layer.Layer<PaymentsClient, E, R>,
  database: Layer.Layer<never> | Layer.Layer<TestDatabase> = Layer.empty
) =>
  clientOf(EdgeApiClient.layer, edgeKey).pipe(
    Layer.provideMerge(
      testServer({ api: makeEdgeApi(EdgeAuth([edgeKey])).pipe(Layer.provide(payments)), role: "edge_api" }).pipe(
        Layer.provide(database)
      )
    )
  )

/** A fresh database (one per test file's layer), payments, and the edge API with its client. */
export const TestLive = edgeClientFor(PaymentsLive).pipe(
  Layer.provideMerge(NodeHttpClient.layerUndici),
  Layer.provideMerge(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")))
)

export const newKey = () => IdempotencyKey.make(randomUUID())

export const order = (options: { card?: string; customer?: string; skus?: Array<[string, number]> } = {}) => {
  const [first, ...rest] = (options.skus ?? [["MUG-BLUE", 2], ["SOCKS-3PACK", 1]]).map(([sku, quantity]) =>
    new CheckoutLine({ sku: Sku.make(sku), quantity })
  )
  return new Checkout({
    customerId: CustomerId.make(options.customer ?? "cust-42"),
    items: [first!, ...rest],
    currency: Currency.make("EUR"),
    cardToken: CardToken.make(options.card ?? TestCards.approved)
  })
}

/** The order id a checkout by `customer` with `key` gets. */
export const orderOf = (key: IdempotencyKey, customer = "cust-42") => orderIdFor(CustomerId.make(customer), key)

export const checkout = (request: Checkout, key = newKey()) =>
  Effect.flatMap(
    EdgeApiClient,
    (client) => client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
  )

/** Everything the database holds for an order id, read as the superuser. */
export const written = (orderId: OrderId) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const ledger = yield* sql<{ status: string; amount: string; authorizationId: string }>`
      select status, amount::text as amount, authorization_id as "authorizationId"
      from order_ledger where order_id = ${orderId}`
    const outbox = yield* sql<
      { aggregateType: string; eventType: string; payload: unknown; headers: Record<string, string> }
    >`
      select aggregate_type as "aggregateType", event_type as "eventType", payload, headers
      from outbox where aggregate_id = ${orderId} order by id`
    const authorizations = yield* sql<{ status: string; amount: string }>`
      select status, amount::text as amount from payments.authorizations where order_id = ${orderId}`
    return { ledger, outbox, authorizations }
  })

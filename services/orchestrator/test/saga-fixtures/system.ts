/**
 * The whole system in one test process, on loopback and one test database: orders, inventory,
 * payments and edge-api as real HTTP servers (each logged in as its own role, with optional
 * chaos), the typed clients pointed at them, and optionally the real orchestrator worker with the
 * sagas registered (as the `orchestrator` role) — everything but OS processes.
 */
import {
  CancelCheckout,
  CardToken,
  Checkout,
  CheckoutLine,
  Currency,
  CustomerId,
  IdempotencyKey,
  OrderId,
  Sku,
  TestCards
} from "@ecommerce/contracts"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { EdgeAuth, makeEdgeApi } from "@ecommerce/edge-api"
import type { ChaosSettings } from "@ecommerce/http-kit"
import { EdgeApiClient, InventoryClient, OrdersClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { rolePool, serverUrl, testServer, testToken } from "@ecommerce/http-kit/testing"
import { InventoryApiLive } from "@ecommerce/inventory"
import { OrdersApiLive } from "@ecommerce/orders"
import { PaymentsApiLive } from "@ecommerce/payments"
import { HttpClientError } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { ConfigProvider, Context, Duration, Effect, Layer, Redacted, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { SagaWorkerLive } from "../../src/sagas/SagaWorkerLive.ts"

/** Where each in-process service listens, for child processes that must reach them. */
export class ServiceUrls extends Context.Tag("test/ServiceUrls")<ServiceUrls, {
  readonly orders: string
  readonly inventory: string
  readonly payments: string
}>() {}
class OrdersUrl extends Context.Tag("test/OrdersUrl")<OrdersUrl, string>() {}
class InventoryUrl extends Context.Tag("test/InventoryUrl")<InventoryUrl, string>() {}
class PaymentsUrl extends Context.Tag("test/PaymentsUrl")<PaymentsUrl, string>() {}

const edgeKey = Redacted.make("test-edge-key")

const noChaos: ChaosSettings = { failBeforeRate: 0, failAfterRate: 0 }

export interface SystemOptions {
  readonly adminUrl: string
  readonly template: string
  readonly chaos?: ChaosSettings
  /** Settings of the in-process worker (worker and saga settings); no worker when absent. */
  readonly worker?: Readonly<Record<string, string>>
}

export const SystemLive = (options: SystemOptions) => {
  const chaos = options.chaos ?? noChaos
  const client = <I, S, E, R, R2>(
    make: (o: { baseUrl: string; token: typeof testToken }) => Layer.Layer<I, E, R>,
    server: Layer.Layer<S, unknown, R2>
  ) =>
    Layer.unwrapEffect(Effect.map(serverUrl, (baseUrl) => make({ baseUrl, token: testToken }))).pipe(
      Layer.provide(server)
    )
  const withUrl = <U, I, E, R, R2, S>(
    tag: Context.Tag<U, string>,
    make: (o: { baseUrl: string; token: typeof testToken }) => Layer.Layer<I, E, R>,
    server: Layer.Layer<S, unknown, R2>
  ) =>
    Layer.unwrapEffect(
      Effect.map(serverUrl, (baseUrl) => Layer.merge(make({ baseUrl, token: testToken }), Layer.succeed(tag, baseUrl)))
    ).pipe(Layer.provide(server))

  const Orders = withUrl(OrdersUrl, OrdersClient.layer, testServer({ api: OrdersApiLive, role: "orders", chaos }))
  const Inventory = withUrl(
    InventoryUrl,
    InventoryClient.layer,
    testServer({ api: InventoryApiLive, role: "inventory", chaos })
  )
  const Payments = withUrl(
    PaymentsUrl,
    PaymentsClient.layer,
    testServer({ api: PaymentsApiLive, role: "payments", chaos })
  )
  const Urls = Layer.effect(
    ServiceUrls,
    Effect.all({ orders: OrdersUrl, inventory: InventoryUrl, payments: PaymentsUrl })
  )
  // Checkout talks to payments without chaos: the edge API's own retries are not under test here.
  const EdgePayments = client(PaymentsClient.layer, testServer({ api: PaymentsApiLive, role: "payments" }))
  // The edge authenticates its clients with an edge key; the services' token is refused there.
  const Edge = client(
    (o) => EdgeApiClient.layer({ ...o, token: edgeKey }),
    testServer({ api: makeEdgeApi(EdgeAuth([edgeKey])).pipe(Layer.provide(EdgePayments)), role: "edge_api" })
  )
  const Services = Layer.mergeAll(Orders, Inventory, Payments)
  const Clients = Layer.merge(Services, Layer.provide(Urls, Services))

  const Worker = options.worker === undefined ? Layer.empty : Layer.unwrapEffect(
    Effect.map(TestDatabase, (db) =>
      SagaWorkerLive(Clients).pipe(
        Layer.provide(rolePool("orchestrator")),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({ DATABASE_URL: db.url, ...options.worker })))
      ))
  )

  return Layer.mergeAll(Worker, Edge, Clients).pipe(
    Layer.provideMerge(NodeHttpClient.layerUndici),
    Layer.provideMerge(TestDatabaseLive(options.adminUrl, options.template))
  )
}

type Line = readonly [string, number]

const checkoutLine = ([sku, quantity]: Line) => new CheckoutLine({ sku: Sku.make(sku), quantity })

export const checkoutOf = (options: { card?: string; skus?: readonly [Line, ...ReadonlyArray<Line>] } = {}) => {
  const [first, ...rest]: readonly [Line, ...ReadonlyArray<Line>] = options.skus ??
    [["MUG-BLUE", 2], ["SOCKS-3PACK", 1]]
  return new Checkout({
    customerId: CustomerId.make("cust-saga"),
    items: [checkoutLine(first), ...rest.map(checkoutLine)],
    currency: Currency.make("EUR"),
    cardToken: CardToken.make(options.card ?? TestCards.approved)
  })
}

const isUnavailable = (error: { readonly _tag: string }) =>
  error._tag === "UpstreamUnavailable" ||
  (error instanceof HttpClientError.ResponseError && error.response.status >= 500)

/** Places a checkout through the edge API (retrying a 5xx with the same key, as a client would). */
export const placeOrder = (request: Checkout, key = IdempotencyKey.make(randomUUID())) =>
  Effect.flatMap(
    EdgeApiClient,
    (edge) =>
      edge.checkout.checkout({ headers: { "idempotency-key": key }, payload: request }).pipe(
        Effect.retry({ while: isUnavailable, schedule: Schedule.spaced("50 millis"), times: 20 }),
        Effect.map(({ orderId }) => orderId)
      )
  )

export const requestCancellation = (orderId: OrderId, reason: string) =>
  Effect.flatMap(EdgeApiClient, (edge) =>
    edge.checkout.cancelOrder({
      path: { order_id: orderId },
      headers: { "idempotency-key": IdempotencyKey.make(randomUUID()) },
      payload: new CancelCheckout({ reason })
    }))

/** Polls the ledger until the order leaves `from` (generous: the worker polls, services may fail). */
export const awaitStatus = (
  orderId: string,
  from: ReadonlyArray<string> = ["PENDING"],
  timeout: Duration.DurationInput = "60 seconds"
) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<
        { status: string; reason: string | null }
      >`select status, reason from order_ledger where order_id = ${orderId}`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.filterOrFail((row) => row !== undefined && !from.includes(row.status)),
        Effect.retry(Schedule.spaced("100 millis")),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new Error(`order ${orderId} still ${from.join("/")} after ${Duration.format(timeout)}`)
        })
      )
  )

/** What each service holds for an order, read as the superuser. */
export const effectsOf = (orderId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all({
      order: sql<{ status: string }>`select status from orders.orders where order_id = ${orderId}`,
      reservation: sql<{ status: string }>`select status from inventory.reservations where order_id = ${orderId}`,
      payment: sql<{ status: string }>`select status from payments.authorizations where order_id = ${orderId}`
    }).pipe(Effect.map(({ order, payment, reservation }) => ({
      order: order[0]?.status,
      reservation: reservation[0]?.status,
      payment: payment[0]?.status
    }))))

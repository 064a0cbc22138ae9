import {
  CancelCheckout,
  CardToken,
  Checkout,
  CheckoutLine,
  Currency,
  CustomerId,
  IdempotencyKey,
  OrderCancellationRequested,
  OrderId,
  OrderPlaced,
  Sku,
  TestCards
} from "@ecommerce/contracts"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { EdgeApiClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { clientOf, serverUrl, testServer, testToken } from "@ecommerce/http-kit/testing"
import { PaymentsApiLive } from "@ecommerce/payments"
import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { createConnection, createServer, type Socket } from "node:net"
import { inject } from "vitest"
import { EdgeAuth, makeEdgeApi } from "../src/Http.ts"
import { orderIdFor } from "../src/OrderKeys.ts"
import { listenOnLoopback } from "./loopback.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

/** The real payments service on its own port, seen by the edge API through its typed client. */
const PaymentsLive = clientOf(PaymentsClient.layer).pipe(
  Layer.provide(testServer({ api: PaymentsApiLive, role: "payments" }))
)

/** What the edge's clients present; the services' `testToken` is refused by the edge. */
const edgeKey = Redacted.make("test-edge-key")

/** The edge API and its client; `database` overrides where the edge's pool connects. */
const edgeClientFor = <E, R>(
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

/**
 * A TCP proxy to the database that, once armed, passes the next COMMIT to Postgres and then cuts the
 * client's connection before the answer: the transaction commits, the caller sees a lost connection.
 * Only `role`'s connections are cut.
 */
const commitDropper = (databaseUrl: string, role: string) =>
  Effect.gen(function*() {
    const target = new URL(databaseUrl)
    let armed = false
    let dropped = 0
    const sockets = new Set<Socket>()
    const server = createServer((client) => {
      const upstream = createConnection({ host: target.hostname, port: Number(target.port) })
      sockets.add(client).add(upstream)
      upstream.on("data", (chunk) => client.write(chunk))
      let user = ""
      client.on("data", (chunk) => {
        upstream.write(chunk)
        const text = chunk.toString("latin1")
        // The startup message names the user; payments, behind the edge, connects here too.
        if (user === "") user = /user\0([^\0]*)\0/.exec(text)?.[1] ?? ""
        if (armed && user === role && text.includes("COMMIT")) {
          armed = false
          dropped++
          upstream.removeAllListeners("data")
          client.destroy()
          // Give Postgres the time to commit before it sees the end of the stream.
          setTimeout(() => upstream.end(), 200)
        }
      })
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
      client.on("close", () => setTimeout(() => upstream.end(), 200))
    })
    const port = yield* listenOnLoopback(server, sockets)
    const url = new URL(databaseUrl)
    url.hostname = "127.0.0.1"
    url.port = String(port)
    return { url: url.toString(), arm: () => void (armed = true), dropped: () => dropped }
  })

const TestLive = edgeClientFor(PaymentsLive).pipe(
  Layer.provideMerge(NodeHttpClient.layerUndici),
  Layer.provideMerge(TestDatabaseLive(adminUrl, template))
)

const newKey = () => IdempotencyKey.make(randomUUID())

const order = (options: { card?: string; customer?: string; skus?: Array<[string, number]> } = {}) => {
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
const orderOf = (key: IdempotencyKey, customer = "cust-42") => orderIdFor(CustomerId.make(customer), key)

const checkout = (request: Checkout, key = newKey()) =>
  Effect.flatMap(
    EdgeApiClient,
    (client) => client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
  )

/** Everything the database holds for an order id, read as the superuser. */
const written = (orderId: OrderId) =>
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

layer(TestLive, { excludeTestServices: true })("edge API over HTTP", (it) => {
  it.effect("checkout authorizes, then writes the ledger row and the OrderPlaced outbox row: 202", () =>
    Effect.gen(function*() {
      const client = yield* EdgeApiClient
      const { orderId } = yield* checkout(order())
      const rows = yield* written(orderId)
      // 2 x 899 + 1 x 1250 from the seeded EUR catalogue.
      expect(rows.ledger).toEqual([{ status: "PENDING", amount: "3048", authorizationId: expect.any(String) }])
      expect(rows.authorizations).toEqual([{ status: "AUTHORIZED", amount: "3048" }])
      expect(rows.outbox).toHaveLength(1)
      const [event] = rows.outbox
      expect(event).toMatchObject({ aggregateType: "order", eventType: "OrderPlaced" })
      expect(event!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      const payload = yield* Schema.decodeUnknown(OrderPlaced)(event!.payload)
      expect(payload).toMatchObject({
        orderId,
        customerId: "cust-42",
        amount: 3048,
        currency: "EUR",
        authorizationId: rows.ledger[0]!.authorizationId
      })
      expect(payload.items.map((line) => [line.sku, line.quantity, line.unitPrice])).toEqual([
        ["MUG-BLUE", 2, 899],
        ["SOCKS-3PACK", 1, 1250]
      ])
      const view = yield* client.checkout.getOrder({ path: { order_id: orderId } })
      expect(view).toMatchObject({ orderId, status: "PENDING", reason: null, amount: 3048 })
    }))

  it.effect("a declined card answers 402 and writes nothing", () =>
    Effect.gen(function*() {
      const key = newKey()
      const error = yield* Effect.flip(checkout(order({ card: TestCards.declined }), key))
      expect(error).toMatchObject({ _tag: "PaymentDeclined", stage: "authorization" })
      expect(yield* written(orderOf(key))).toEqual({ ledger: [], outbox: [], authorizations: [] })
    }))

  it.effect("an unknown sku answers 422 naming it, before any authorization", () =>
    Effect.gen(function*() {
      const key = newKey()
      const error = yield* Effect.flip(checkout(order({ skus: [["MUG-BLUE", 1], ["NO-SUCH-THING", 1]] }), key))
      expect(error).toMatchObject({ _tag: "UnknownSku", sku: "NO-SUCH-THING", currency: "EUR" })
      expect(yield* written(orderOf(key))).toEqual({ ledger: [], outbox: [], authorizations: [] })
    }))

  it.effect("same key replays the order, concurrent duplicates included; other body is 422", () =>
    Effect.gen(function*() {
      const key = newKey()
      const request = order()
      const results = yield* Effect.all(Array.from({ length: 5 }, () => checkout(request, key)), {
        concurrency: "unbounded"
      })
      expect(new Set(results.map((r) => r.orderId)).size).toBe(1)
      expect((yield* checkout(request, key)).orderId).toBe(results[0]!.orderId)
      const rows = yield* written(results[0]!.orderId)
      expect([rows.ledger.length, rows.outbox.length, rows.authorizations.length]).toEqual([1, 1, 1])
      const reused = yield* Effect.flip(checkout(order({ skus: [["MUG-BLUE", 5]] }), key))
      expect(reused._tag).toBe("IdempotencyKeyReused")
      // Other items, same total: payments cannot tell, the edge's own record can.
      const sameTotal = yield* Effect.flip(checkout(order({ skus: [["SOCKS-3PACK", 1], ["MUG-BLUE", 2]] }), key))
      expect(sameTotal._tag).toBe("IdempotencyKeyReused")
      const after = yield* written(results[0]!.orderId)
      expect([after.ledger.length, after.outbox.length, after.authorizations[0]!.status]).toEqual([1, 1, "AUTHORIZED"])
    }))

  it.effect("a replay answers from the record, even after the price changed; nothing is authorized again", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const key = newKey()
      const request = order({ skus: [["POSTER-MAP", 1]] })
      const first = yield* checkout(request, key)
      yield* sql`update catalogue set unit_price = unit_price + 100 where sku = 'POSTER-MAP' and currency = 'EUR'`
      const again = yield* checkout(request, key).pipe(
        Effect.ensuring(
          Effect.orDie(
            sql`update catalogue set unit_price = unit_price - 100 where sku = 'POSTER-MAP' and currency = 'EUR'`
          )
        )
      )
      expect(again.orderId).toBe(first.orderId)
      const rows = yield* written(first.orderId)
      expect(rows.authorizations).toEqual([{ status: "AUTHORIZED", amount: "2500" }])
      expect(rows.outbox).toHaveLength(1)
    }))

  it.effect("a key already used to cancel is 422 for a checkout, and no card is authorized", () =>
    Effect.gen(function*() {
      const client = yield* EdgeApiClient
      const { orderId } = yield* checkout(order())
      const key = newKey()
      yield* client.checkout.cancelOrder({
        path: { order_id: orderId },
        headers: { "idempotency-key": key },
        payload: new CancelCheckout({})
      })
      const error = yield* Effect.flip(checkout(order(), key))
      expect(error._tag).toBe("IdempotencyKeyReused")
      expect(yield* written(orderOf(key))).toEqual({ ledger: [], outbox: [], authorizations: [] })
    }))

  it.effect("one sku's lines past 10000, or a total past 10^12, are a 400 naming items; nothing is authorized", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const summed = newKey()
      const tooMany = yield* Effect.flip(checkout(order({ skus: [["MUG-BLUE", 6000], ["MUG-BLUE", 6000]] }), summed))
      expect(tooMany._tag).toBe("HttpApiDecodeError")
      expect(tooMany._tag === "HttpApiDecodeError" && tooMany.message).toContain("items")
      expect(yield* written(orderOf(summed))).toEqual({ ledger: [], outbox: [], authorizations: [] })

      yield* sql`insert into catalogue (sku, currency, unit_price, name) values ('YACHT', 'EUR', 200000000, 'Yacht')`
      const costly = newKey()
      const tooMuch = yield* Effect.flip(checkout(order({ skus: [["YACHT", 10000]] }), costly))
      expect(tooMuch._tag).toBe("HttpApiDecodeError")
      expect(tooMuch._tag === "HttpApiDecodeError" && tooMuch.message).toContain("items")
      expect(yield* written(orderOf(costly))).toEqual({ ledger: [], outbox: [], authorizations: [] })
    }))

  it.effect("a transaction killed between the ledger and outbox inserts leaves neither row", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // The outbox refuses this one customer, so the ledger insert succeeds and the outbox insert fails.
      yield* sql`alter table outbox add constraint test_refuse_poison check (payload->>'customerId' <> 'cust-poison')`
      const key = newKey()
      const error = yield* Effect.flip(checkout(order({ customer: "cust-poison" }), key))
      expect(error instanceof HttpClientError.ResponseError && error.response.status).toBe(500)
      const rows = yield* written(orderOf(key, "cust-poison"))
      expect(rows.ledger).toEqual([])
      expect(rows.outbox).toEqual([])
      // The authorization made before the transaction is released, not left open.
      expect(rows.authorizations).toEqual([{ status: "VOIDED", amount: "3048" }])
      const sqlKeys = yield* sql`select 1 from edge.idempotency_keys where position(${key} in key) > 0`
      expect(sqlKeys).toEqual([])
    }))

  it.effect("a retry after a failed checkout answers 422 instead of placing an order on the voided authorization", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`alter table outbox add constraint test_refuse_once check (payload->>'customerId' <> 'cust-retry')`
      const key = newKey()
      const request = order({ customer: "cust-retry" })
      const failed = yield* Effect.flip(checkout(request, key))
      expect(failed instanceof HttpClientError.ResponseError && failed.response.status).toBe(500)
      yield* sql`alter table outbox drop constraint test_refuse_once`
      // Payments replays the same, now voided, authorization for this order id: no order may use it.
      const retried = yield* Effect.flip(checkout(request, key))
      expect(retried._tag).toBe("IdempotencyKeyReused")
      expect(retried.message).toContain("new Idempotency-Key")
      expect(yield* written(orderOf(key, "cust-retry"))).toEqual({
        ledger: [],
        outbox: [],
        authorizations: [{ status: "VOIDED", amount: "3048" }]
      })
      // A new key is a new order with a new authorization.
      const { orderId } = yield* checkout(request)
      expect((yield* written(orderId)).authorizations).toEqual([{ status: "AUTHORIZED", amount: "3048" }])
    }))

  it.scoped("a connection lost during COMMIT does not void the authorization of an order that committed", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const proxy = yield* commitDropper(db.url, "edge_api")
      const context = yield* Layer.buildWithScope(
        edgeClientFor(PaymentsLive, Layer.succeed(TestDatabase, { ...db, url: proxy.url })),
        yield* Effect.scope
      )
      const client = yield* Effect.provide(EdgeApiClient, context)
      const sql = yield* SqlClient.SqlClient
      const key = newKey()
      const request = order({ customer: "cust-lost-commit" })
      proxy.arm()
      const lost = yield* Effect.flip(
        client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
      )
      expect(lost instanceof HttpClientError.ResponseError && lost.response.status).toBe(500)
      expect(proxy.dropped()).toBe(1)
      const [placed] = yield* sql<{ orderId: OrderId }>`
        select order_id as "orderId" from order_ledger where customer_id = 'cust-lost-commit'`
      const rows = yield* written(placed!.orderId)
      expect(rows.ledger).toEqual([{ status: "PENDING", amount: "3048", authorizationId: expect.any(String) }])
      expect(rows.outbox).toHaveLength(1)
      expect(rows.authorizations).toEqual([{ status: "AUTHORIZED", amount: "3048" }])
      // The client's retry gets the order that committed.
      const retried = yield* client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
      expect(retried.orderId).toBe(placed!.orderId)
    }))

  it.effect("two customers using the same Idempotency-Key get two orders", () =>
    Effect.gen(function*() {
      const key = newKey()
      const first = yield* checkout(order({ customer: "cust-ann", skus: [["MUG-BLUE", 1]] }), key)
      const second = yield* checkout(order({ customer: "cust-bob", skus: [["SOCKS-3PACK", 2]] }), key)
      expect(first.orderId).not.toBe(second.orderId)
      expect((yield* written(first.orderId)).ledger).toEqual([{
        status: "PENDING",
        amount: "899",
        authorizationId: expect.any(String)
      }])
      expect((yield* written(second.orderId)).ledger).toEqual([{
        status: "PENDING",
        amount: "2500",
        authorizationId: expect.any(String)
      }])
      // Each customer's replay still reaches their own order.
      expect((yield* checkout(order({ customer: "cust-ann", skus: [["MUG-BLUE", 1]] }), key)).orderId).toBe(
        first.orderId
      )
      expect((yield* checkout(order({ customer: "cust-bob", skus: [["SOCKS-3PACK", 2]] }), key)).orderId).toBe(
        second.orderId
      )
    }))

  it.effect("cancel writes an OrderCancellationRequested row with the order's data: 202", () =>
    Effect.gen(function*() {
      const client = yield* EdgeApiClient
      const { orderId } = yield* checkout(order())
      const accepted = yield* client.checkout.cancelOrder({
        path: { order_id: orderId },
        headers: { "idempotency-key": newKey() },
        payload: new CancelCheckout({ reason: "changed my mind" })
      })
      expect(accepted.orderId).toBe(orderId)
      const rows = yield* written(orderId)
      expect(rows.outbox.map((row) => row.eventType)).toEqual(["OrderPlaced", "OrderCancellationRequested"])
      const payload = yield* Schema.decodeUnknown(OrderCancellationRequested)(rows.outbox[1]!.payload)
      expect(payload).toMatchObject({
        orderId,
        amount: 3048,
        reason: "changed my mind",
        authorizationId: rows.ledger[0]!.authorizationId
      })
    }))

  it.effect("an unknown order is OrderNotFound for get and cancel, and cancel writes nothing", () =>
    Effect.gen(function*() {
      const client = yield* EdgeApiClient
      const orderId = OrderId.make(randomUUID())
      expect((yield* Effect.flip(client.checkout.getOrder({ path: { order_id: orderId } })))._tag).toBe("OrderNotFound")
      const error = yield* Effect.flip(client.checkout.cancelOrder({
        path: { order_id: orderId },
        headers: { "idempotency-key": newKey() },
        payload: new CancelCheckout({})
      }))
      expect(error._tag).toBe("OrderNotFound")
      expect((yield* written(orderId)).outbox).toEqual([])
    }))

  it.scoped("payments unreachable answers 503 UpstreamUnavailable and writes nothing", () =>
    Effect.gen(function*() {
      const nowhere = PaymentsClient.layer({ baseUrl: "http://127.0.0.1:1", token: testToken })
      const context = yield* Layer.buildWithScope(edgeClientFor(nowhere), yield* Effect.scope)
      const client = yield* Effect.provide(EdgeApiClient, context)
      const key = newKey()
      const error = yield* Effect.flip(
        client.checkout.checkout({ headers: { "idempotency-key": key }, payload: order() })
      )
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", service: "payments" })
      expect(yield* written(orderOf(key))).toEqual({ ledger: [], outbox: [], authorizations: [] })
    }))

  it.effect("a checkout that continues a client's trace stores its traceparent and tracestate in the outbox row", () =>
    Effect.gen(function*() {
      const baseUrl = yield* serverUrl
      const traceId = randomUUID().replaceAll("-", "")
      const key = randomUUID()
      // The headers below, not the test's own span.
      const client = HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false)
      const response = yield* client.execute(
        HttpClientRequest.post(`${baseUrl}/checkout`).pipe(
          HttpClientRequest.bearerToken(edgeKey),
          HttpClientRequest.setHeaders({
            "idempotency-key": key,
            traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
            tracestate: "shop=web,vendor=7"
          }),
          HttpClientRequest.bodyUnsafeJson(Schema.encodeSync(Checkout)(order()))
        )
      )
      expect(response.status).toBe(202)
      const [event] = (yield* written(orderOf(IdempotencyKey.make(key)))).outbox
      expect(event!.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
      expect(event!.headers.tracestate).toBe("shop=web,vendor=7")
      // Without a client trace the edge starts one, and stores no vendor state.
      const { orderId } = yield* checkout(order())
      expect((yield* written(orderId)).outbox[0]!.headers.tracestate).toBeUndefined()
    }))

  it.effect("401 without or with a wrong token; 400 naming the field", () =>
    Effect.gen(function*() {
      const baseUrl = yield* serverUrl
      const wrong = yield* Effect.flip(
        checkout(order()).pipe(Effect.provide(EdgeApiClient.layer({ baseUrl, token: Redacted.make("nope") })))
      )
      expect(wrong._tag).toBe("Unauthorized")
      const none = yield* HttpClient.execute(HttpClientRequest.get(`${baseUrl}/orders/${randomUUID()}`))
      expect(none.status).toBe(401)
      const bad = yield* HttpClient.execute(
        HttpClientRequest.post(`${baseUrl}/checkout`).pipe(
          HttpClientRequest.bearerToken(edgeKey),
          HttpClientRequest.setHeader("idempotency-key", randomUUID()),
          HttpClientRequest.bodyUnsafeJson({ customerId: "c-1", items: [], currency: "EUR", cardToken: "tok_visa" })
        )
      )
      expect(bad.status).toBe(400)
      expect(((yield* bad.json) as { message: string }).message).toContain("items")
    }))
})

/**
 * A checkout over HTTP: what it writes (ledger, authorization, outbox row with the client's trace),
 * and the requests refused before anything is written (card, sku, bounds, token, body).
 */
import { Checkout, IdempotencyKey, OrderPlaced, TestCards } from "@ecommerce/contracts"
import { EdgeApiClient } from "@ecommerce/http-kit/clients"
import { serverUrl } from "@ecommerce/http-kit/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { checkout, edgeKey, newKey, order, orderOf, TestLive, written } from "./checkoutFixtures.ts"

layer(TestLive, { excludeTestServices: true })("edge API over HTTP: checkout", (it) => {
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

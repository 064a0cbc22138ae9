import {
  AuthorizationId,
  Authorize,
  CaptureTerms,
  CardToken,
  Currency,
  MinorUnits,
  OrderId,
  type Payment,
  TestCards
} from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import {
  clientOf,
  freshKey,
  rawRequest,
  serviceTestLayer,
  testServer,
  withTestToken
} from "@ecommerce/http-kit/testing"
import { HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { PaymentsApiLive } from "../src/Http.ts"

const TestLive = serviceTestLayer({ api: PaymentsApiLive, role: "payments", client: PaymentsClient.layer })

const terms = (card: string = TestCards.approved, orderId = OrderId.make(randomUUID())) =>
  new Authorize({
    orderId,
    amount: MinorUnits.make(2500),
    currency: Currency.make("EUR"),
    cardToken: CardToken.make(card)
  })

const authorize = (request: Authorize, headers = freshKey()) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.authorize({ headers, payload: request }))
/** Captures with the payment's own terms unless `terms` says otherwise. */
const capture = (
  payment: Pick<Payment, "authorizationId" | "orderId" | "amount" | "currency">,
  headers = freshKey(),
  terms: Partial<CaptureTerms> = {}
) =>
  Effect.flatMap(PaymentsClient, (client) =>
    client.payments.capture({
      path: { authorization_id: payment.authorizationId },
      headers,
      payload: new CaptureTerms({
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
        ...terms
      })
    }))
const voidIt = (id: AuthorizationId, headers = freshKey()) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.void({ path: { authorization_id: id }, headers }))
const refund = (id: AuthorizationId, headers = freshKey()) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.refund({ path: { authorization_id: id }, headers }))
const get = (id: AuthorizationId) =>
  Effect.flatMap(PaymentsClient, (client) => client.payments.get({ path: { authorization_id: id } }))

const capturedAt = (id: AuthorizationId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ capturedAt: Date | null }>`
      select captured_at as "capturedAt" from payments.authorizations where authorization_id = ${id}`)

layer(TestLive, { excludeTestServices: true })("payments over HTTP", (it) => {
  it.effect("authorize, capture, refund; each repeat is a no-op", () =>
    Effect.gen(function*() {
      const payment = yield* authorize(terms())
      expect(payment).toMatchObject({ status: "AUTHORIZED", amount: 2500, currency: "EUR" })
      expect((yield* capture(payment)).status).toBe("CAPTURED")
      const [first] = yield* capturedAt(payment.authorizationId)
      // Double capture under a new key: succeeds and changes nothing.
      expect((yield* capture(payment)).status).toBe("CAPTURED")
      expect(yield* capturedAt(payment.authorizationId)).toEqual([first])
      expect((yield* refund(payment.authorizationId)).status).toBe("REFUNDED")
      expect((yield* refund(payment.authorizationId)).status).toBe("REFUNDED")
      expect((yield* get(payment.authorizationId)).status).toBe("REFUNDED")
    }))

  it.effect("void after capture and refund before capture are PaymentStateConflict", () =>
    Effect.gen(function*() {
      const captured = yield* authorize(terms())
      yield* capture(captured)
      const voidAfter = yield* Effect.flip(voidIt(captured.authorizationId))
      expect(voidAfter).toMatchObject({ _tag: "PaymentStateConflict", status: "CAPTURED", action: "void" })

      const authorized = yield* authorize(terms())
      const refundBefore = yield* Effect.flip(refund(authorized.authorizationId))
      expect(refundBefore).toMatchObject({ _tag: "PaymentStateConflict", status: "AUTHORIZED", action: "refund" })
      expect((yield* voidIt(authorized.authorizationId)).status).toBe("VOIDED")
      expect((yield* voidIt(authorized.authorizationId)).status).toBe("VOIDED")
      const captureAfterVoid = yield* Effect.flip(capture(authorized))
      expect(captureAfterVoid).toMatchObject({ _tag: "PaymentStateConflict", status: "VOIDED", action: "capture" })
    }))

  it.effect("test cards: tok_declined is declined at authorization and stores nothing", () =>
    Effect.gen(function*() {
      const request = terms(TestCards.declined)
      const declined = yield* Effect.flip(authorize(request))
      expect(declined).toMatchObject({ _tag: "PaymentDeclined", stage: "authorization" })
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`select 1 from payments.authorizations where order_id = ${request.orderId}`).toHaveLength(0)
    }))

  it.effect("test cards: tok_capture_declined authorizes, its capture is declined, it can be voided", () =>
    Effect.gen(function*() {
      const payment = yield* authorize(terms(TestCards.captureDeclined))
      const declined = yield* Effect.flip(capture(payment))
      expect(declined).toMatchObject({ _tag: "PaymentDeclined", stage: "capture" })
      expect((yield* get(payment.authorizationId)).status).toBe("AUTHORIZED")
      expect((yield* voidIt(payment.authorizationId)).status).toBe("VOIDED")
    }))

  it.effect("one authorization per order: same terms return it, other terms conflict", () =>
    Effect.gen(function*() {
      const request = terms()
      const first = yield* authorize(request)
      expect(yield* authorize(request)).toEqual(first)
      const other = new Authorize({ ...request, amount: MinorUnits.make(1) })
      expect((yield* Effect.flip(authorize(other)))._tag).toBe("AuthorizationConflict")
    }))

  it.effect("unknown authorization ids are AuthorizationNotFound", () =>
    Effect.gen(function*() {
      const id = AuthorizationId.make(randomUUID())
      expect((yield* Effect.flip(get(id)))._tag).toBe("AuthorizationNotFound")
      expect((yield* Effect.flip(capture({ ...terms(), authorizationId: id })))._tag).toBe("AuthorizationNotFound")
      expect((yield* Effect.flip(voidIt(id)))._tag).toBe("AuthorizationNotFound")
      expect((yield* Effect.flip(refund(id)))._tag).toBe("AuthorizationNotFound")
    }))

  it.effect("same key replays; same key with another body is 422", () =>
    Effect.gen(function*() {
      const headers = freshKey()
      const request = terms()
      const first = yield* authorize(request, headers)
      expect(yield* authorize(request, headers)).toEqual(first)
      const reused = yield* Effect.flip(authorize(terms(), headers))
      expect(reused._tag).toBe("IdempotencyKeyReused")
      const sql = yield* SqlClient.SqlClient
      const [count] = yield* sql<{ n: number }>`
        select count(*)::int as n from payments.authorizations where order_id = ${request.orderId}`
      expect(count!.n).toBe(1)
    }))

  it.effect("captures and voids racing under different keys: one side wins, the other is refused", () =>
    Effect.gen(function*() {
      for (let round = 0; round < 5; round++) {
        const payment = yield* authorize(terms())
        const id = payment.authorizationId
        const outcomes = yield* Effect.all(
          Array.from({ length: 10 }, (_, i) => Effect.either(i % 2 === 0 ? capture(payment) : voidIt(id))),
          { concurrency: "unbounded" }
        )
        const final = (yield* get(id)).status
        expect(["CAPTURED", "VOIDED"]).toContain(final)
        const [row] = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ captured: boolean; voided: boolean }>`
            select captured_at is not null as captured, voided_at is not null as voided
            from payments.authorizations where authorization_id = ${id}`)
        // Never both: a payment captured and voided would have both timestamps.
        expect([row!.captured, row!.voided]).toEqual([final === "CAPTURED", final === "VOIDED"])
        outcomes.forEach((outcome, i) => {
          const action = i % 2 === 0 ? "capture" : "void"
          const wins = (action === "capture") === (final === "CAPTURED")
          if (wins) expect(outcome._tag === "Right" && outcome.right.status).toBe(final)
          else {expect(outcome._tag === "Left" && outcome.left).toMatchObject({
              _tag: "PaymentStateConflict",
              status: final,
              action
            })}
        })
      }
    }))

  it.effect("a capture whose order, amount or currency differs is AuthorizationMismatch (422) and changes nothing", () =>
    Effect.gen(function*() {
      const payment = yield* authorize(terms())
      const otherOrder = yield* Effect.flip(capture(payment, freshKey(), { orderId: OrderId.make(randomUUID()) }))
      expect(otherOrder).toMatchObject({ _tag: "AuthorizationMismatch", mismatch: ["orderId"] })
      const more = yield* Effect.flip(capture(payment, freshKey(), { amount: MinorUnits.make(1) }))
      expect(more).toMatchObject({ _tag: "AuthorizationMismatch", mismatch: ["amount"] })
      const zz = yield* Effect.flip(capture(payment, freshKey(), { currency: Currency.make("ZZZ") }))
      expect(zz).toMatchObject({ _tag: "AuthorizationMismatch", mismatch: ["currency"] })
      expect((yield* get(payment.authorizationId)).status).toBe("AUTHORIZED")
      // Another order pointing at this, already captured, authorization gets no "no-op" success.
      expect((yield* capture(payment)).status).toBe("CAPTURED")
      const borrowed = yield* Effect.flip(capture(payment, freshKey(), { orderId: OrderId.make(randomUUID()) }))
      expect(borrowed._tag).toBe("AuthorizationMismatch")
      const raw = yield* rawRequest(
        HttpClientRequest.post(`/payments/capture/${payment.authorizationId}`).pipe(
          withTestToken,
          HttpClientRequest.setHeader("idempotency-key", randomUUID()),
          HttpClientRequest.bodyUnsafeJson({ orderId: payment.orderId, amount: 1, currency: "EUR" })
        )
      )
      expect(raw.status).toBe(422)
    }))

  it.effect("an order's authorization is found by the order id; an order without one is 404", () =>
    Effect.gen(function*() {
      const client = yield* PaymentsClient
      const payment = yield* authorize(terms())
      expect(yield* client.payments.getByOrder({ path: { order_id: payment.orderId } })).toEqual(payment)
      const none = yield* Effect.flip(client.payments.getByOrder({ path: { order_id: OrderId.make(randomUUID()) } }))
      expect(none._tag).toBe("OrderAuthorizationNotFound")
    }))

  it.scoped(
    "holds older than AUTHORIZATION_TTL are voided as expired; captured ones are left alone",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const short = testServer({
          api: PaymentsApiLive.pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({ AUTHORIZATION_TTL: "2 seconds" })))
          ),
          role: "payments"
        })
        const context = yield* Layer.buildWithScope(
          clientOf(PaymentsClient.layer).pipe(Layer.provide(short)),
          yield* Effect.scope
        )
        const scoped = <A, E>(effect: Effect.Effect<A, E, PaymentsClient>) => Effect.provide(effect, context)
        const open = yield* scoped(authorize(terms()))
        const captured = yield* scoped(authorize(terms()))
        yield* scoped(capture(captured))
        const statusOf = (id: AuthorizationId) =>
          sql<{ status: string; voidReason: string | null }>`
          select status, void_reason as "voidReason" from payments.authorizations where authorization_id = ${id}`
        yield* statusOf(open.authorizationId).pipe(
          Effect.filterOrFail((rows) => rows[0]?.status === "VOIDED"),
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("30 seconds")))
        )
        expect(yield* statusOf(open.authorizationId)).toEqual([{ status: "VOIDED", voidReason: "expired" }])
        expect(yield* statusOf(captured.authorizationId)).toEqual([{ status: "CAPTURED", voidReason: null }])
        const late = yield* Effect.flip(scoped(capture(open)))
        expect(late).toMatchObject({ _tag: "PaymentStateConflict", status: "VOIDED" })
      }),
    60_000
  )

  it.effect("401 without or with a wrong token; 400 naming the field", () =>
    Effect.gen(function*() {
      const wrong = yield* Effect.flip(
        authorize(terms()).pipe(Effect.provide(clientOf(PaymentsClient.layer, Redacted.make("nope"))))
      )
      expect(wrong._tag).toBe("Unauthorized")
      expect((yield* rawRequest(HttpClientRequest.get(`/payments/${randomUUID()}`))).status).toBe(401)
      const bad = yield* rawRequest(
        HttpClientRequest.post("/payments/authorizations").pipe(
          withTestToken,
          HttpClientRequest.setHeader("idempotency-key", randomUUID()),
          HttpClientRequest.bodyUnsafeJson({ ...terms(), amount: 12.5 })
        )
      )
      expect(bad.status).toBe(400)
      expect(bad.body.message).toContain("amount")
    }))
})

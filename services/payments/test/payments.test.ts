/**
 * An authorization's life over HTTP: authorize, capture, refund or void (each once), the test cards,
 * one authorization per order, and captures whose terms differ.
 */
import { AuthorizationId, Authorize, Currency, MinorUnits, OrderId, TestCards } from "@ecommerce/contracts"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { freshKey, rawRequest, withTestToken } from "@ecommerce/http-kit/testing"
import { HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { authorize, capture, capturedAt, get, refund, terms, TestLive, voidIt } from "./paymentsFixtures.ts"

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
})

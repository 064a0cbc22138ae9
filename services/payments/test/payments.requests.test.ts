/**
 * What payments answers before it does anything: 401 without a valid token, 400 for a malformed
 * request.
 */
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { clientOf, rawRequest, withTestToken } from "@ecommerce/http-kit/testing"
import { HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { authorize, terms, TestLive } from "./paymentsFixtures.ts"

layer(TestLive, { excludeTestServices: true })("payments over HTTP: requests", (it) => {
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

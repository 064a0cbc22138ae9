/**
 * What inventory answers before it does anything: health without a token, 401 without a valid one,
 * 400 for a malformed request.
 */
import { OrderId } from "@ecommerce/contracts"
import { InventoryClient } from "@ecommerce/http-kit/clients"
import { clientOf, rawRequest, withTestToken } from "@ecommerce/http-kit/testing"
import { HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { stockOf, TestLive, uniqueSku } from "./inventoryFixtures.ts"

layer(TestLive, { excludeTestServices: true })("inventory over HTTP: requests", (it) => {
  it.effect("health answers without a token", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      expect(yield* client.health.health()).toMatchObject({ status: "ok", service: "inventory" })
    }))

  it.effect("401 without a token and with a wrong one", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("AUTH")
      const none = yield* rawRequest(HttpClientRequest.get(`/stock/${sku}`))
      expect(none).toMatchObject({ status: 401, body: { _tag: "Unauthorized" } })
      const wrong = yield* Effect.flip(
        stockOf(sku).pipe(Effect.provide(clientOf(InventoryClient.layer, Redacted.make("wrong-token"))))
      )
      expect(wrong._tag).toBe("Unauthorized")
    }))

  it.effect("malformed requests answer 400 naming the field, never 500", () =>
    Effect.gen(function*() {
      const post = (body: unknown, headers: Record<string, string> = { "idempotency-key": randomUUID() }) =>
        rawRequest(
          HttpClientRequest.post("/reservations").pipe(
            withTestToken,
            HttpClientRequest.setHeaders(headers),
            HttpClientRequest.bodyUnsafeJson(body)
          )
        )
      const missing = yield* post({ orderId: randomUUID() })
      expect(missing.status).toBe(400)
      expect(missing.body._tag).toBe("HttpApiDecodeError")
      expect(missing.body.message).toContain("items")
      const negative = yield* post({ orderId: randomUUID(), items: [{ sku: "A", quantity: -1 }] })
      expect(negative.status).toBe(400)
      expect(negative.body.message).toContain("quantity")
      const badId = yield* post({ orderId: "not-a-uuid", items: [{ sku: "A", quantity: 1 }] })
      expect(badId.status).toBe(400)
      expect(badId.body.message).toContain("orderId")
      const noKey = yield* post({ orderId: randomUUID(), items: [{ sku: "A", quantity: 1 }] }, {})
      expect(noKey.status).toBe(400)
      expect(noKey.body.message).toContain("idempotency-key")
      const notJson = yield* rawRequest(
        HttpClientRequest.post("/reservations").pipe(
          withTestToken,
          HttpClientRequest.setHeaders({ "idempotency-key": randomUUID() }),
          HttpClientRequest.bodyText("{not json", "application/json")
        )
      )
      expect(notJson).toMatchObject({ status: 400, body: { _tag: "HttpApiDecodeError" } })
      // Each line is a valid quantity, but one sku's lines add up past the largest: 400, not 500.
      const orderId = randomUUID()
      const summed = yield* post({
        orderId,
        items: [{ sku: "MUG-BLUE", quantity: 6000 }, { sku: "MUG-BLUE", quantity: 6000 }]
      })
      expect(summed.status).toBe(400)
      expect(summed.body._tag).toBe("HttpApiDecodeError")
      expect(summed.body.message).toContain("items")
      expect(summed.body.message).toContain("MUG-BLUE")
      const client = yield* InventoryClient
      const none = yield* Effect.flip(client.reservations.get({ path: { order_id: OrderId.make(orderId) } }))
      expect(none._tag).toBe("ReservationNotFound")
      const badPath = yield* rawRequest(HttpClientRequest.get("/reservations/xyz").pipe(withTestToken))
      expect(badPath.status).toBe(400)
      expect(badPath.body.message).toContain("order_id")
    }))
})

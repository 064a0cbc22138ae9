/**
 * The Idempotency-Key of a checkout: a replay answers the same order (concurrent duplicates, a changed
 * price included), another body or a key used to cancel is 422, and keys are per customer.
 */
import { CancelCheckout } from "@ecommerce/contracts"
import { EdgeApiClient } from "@ecommerce/http-kit/clients"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { checkout, newKey, order, orderOf, TestLive, written } from "./checkoutFixtures.ts"

layer(TestLive, { excludeTestServices: true })("edge API over HTTP: idempotency", (it) => {
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
})

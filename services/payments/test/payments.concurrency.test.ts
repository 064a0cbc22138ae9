/**
 * Payments under repeats and races: a key's replay, and captures and voids racing under different
 * keys.
 */
import { freshKey } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { authorize, capture, get, terms, TestLive, voidIt } from "./paymentsFixtures.ts"

layer(TestLive, { excludeTestServices: true })("payments over HTTP: repeats and races", (it) => {
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
})

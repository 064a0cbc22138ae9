/**
 * Inventory under repeats and races: idempotent replays, concurrent duplicates, 50 reservations
 * for the last 10 units, and a release that cannot deadlock with a reserve.
 */
import { SetStock, Sku } from "@ecommerce/contracts"
import { InventoryClient } from "@ecommerce/http-kit/clients"
import { freshKey } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { line, newOrder, reserve, setStock, stockOf, TestLive, uniqueSku } from "./inventoryFixtures.ts"

layer(TestLive, { excludeTestServices: true })("inventory over HTTP: repeats and races", (it) => {
  it.effect("idempotent replay: same key and body return the first response; the effect happens once", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("IDEM")
      yield* setStock(sku, 10)
      const headers = freshKey()
      const orderId = newOrder()
      const first = yield* reserve(orderId, [line(sku, 3)], headers)
      const second = yield* reserve(orderId, [line(sku, 3)], headers)
      expect(second).toEqual(first)
      expect(yield* stockOf(sku)).toMatchObject({ reserved: 3 })
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql`select 1 from inventory.idempotency_keys where key = ${headers["idempotency-key"]}`
      expect(rows).toHaveLength(1)
      // Same key, different body: 422, and nothing changes.
      const reused = yield* Effect.flip(reserve(orderId, [line(sku, 4)], headers))
      expect(reused._tag).toBe("IdempotencyKeyReused")
      // The same key on another endpoint is another request, too.
      const client = yield* InventoryClient
      const otherEndpoint = yield* Effect.flip(
        client.stock.set({ path: { sku }, headers, payload: new SetStock({ onHand: 50 }) })
      )
      expect(otherEndpoint._tag).toBe("IdempotencyKeyReused")
      expect(yield* stockOf(sku)).toMatchObject({ onHand: 10, reserved: 3 })
    }))

  it.effect("concurrent duplicates with one key apply once and all get the same answer", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("DUP")
      yield* setStock(sku, 100)
      const headers = freshKey()
      const orderId = newOrder()
      const results = yield* Effect.all(
        Array.from({ length: 10 }, () => reserve(orderId, [line(sku, 7)], headers)),
        { concurrency: "unbounded" }
      )
      expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1)
      expect(yield* stockOf(sku)).toMatchObject({ reserved: 7, available: 93 })
    }))

  it.effect("50 concurrent reservations race for the last 10 units: exactly 10 succeed", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("RACE")
      yield* setStock(sku, 10)
      const outcomes = yield* Effect.all(
        Array.from({ length: 50 }, () => Effect.either(reserve(newOrder(), [line(sku, 1)]))),
        { concurrency: "unbounded" }
      )
      const won = outcomes.filter((o) => o._tag === "Right")
      const lost = outcomes.filter((o) => o._tag === "Left")
      expect(won).toHaveLength(10)
      expect(lost).toHaveLength(40)
      for (const o of lost) expect(o._tag === "Left" && o.left._tag).toBe("InsufficientStock")
      expect(yield* stockOf(sku)).toMatchObject({ onHand: 10, reserved: 10, available: 0 })
      const sql = yield* SqlClient.SqlClient
      const [held] = yield* sql<{ n: number }>`
        select coalesce(sum(quantity), 0)::int as n from inventory.reservation_items where sku = ${sku}`
      expect(held!.n).toBe(10)
    }))

  it.effect("a release takes its stock locks in sku order, so it cannot deadlock with a reserve", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const sql = yield* SqlClient.SqlClient
      const suffix = randomUUID().slice(0, 8).toUpperCase()
      const [a, b] = [Sku.make(`LOCK-A-${suffix}`), Sku.make(`LOCK-B-${suffix}`)]
      yield* setStock(a, 10)
      yield* setStock(b, 10)
      const orderId = newOrder()
      yield* reserve(orderId, [line(a, 1), line(b, 1)])
      // Rewrite b, then a: their newest row versions now lie in the heap as b before a.
      yield* setStock(b, 11)
      yield* setStock(a, 11)
      yield* sql.withTransaction(
        Effect.gen(function*() {
          // Stand in for a reserve of [a, b]: it holds a and is about to lock b.
          yield* sql`select 1 from inventory.stock where sku = ${a} for update`
          const release = yield* Effect.fork(
            client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
          )
          yield* sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where application_name = 'inventory' and wait_event_type = 'Lock'`.pipe(
            Effect.repeat({ until: (rows) => rows[0]!.n > 0, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("5 seconds")
          )
          yield* sql`set local lock_timeout = '5s'`
          yield* sql`select 1 from inventory.stock where sku = ${b} for update`
          return release
        })
      ).pipe(
        Effect.flatMap(Fiber.join),
        Effect.map((released) => expect(released.status).toBe("RELEASED"))
      )
      expect(yield* stockOf(a)).toMatchObject({ onHand: 11, reserved: 0 })
      expect(yield* stockOf(b)).toMatchObject({ onHand: 11, reserved: 0 })
    }))
})

import { OrderId, ReservationLine, ReserveStock, SetStock, Sku } from "@ecommerce/contracts"
import { InventoryClient } from "@ecommerce/http-kit/clients"
import { clientOf, freshKey, rawRequest, serviceTestLayer, withTestToken } from "@ecommerce/http-kit/testing"
import { HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Redacted, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { InventoryApiLive } from "../src/Http.ts"

const TestLive = serviceTestLayer({ api: InventoryApiLive, role: "inventory", client: InventoryClient.layer })

const newOrder = () => OrderId.make(randomUUID())
const line = (sku: string, quantity: number) => new ReservationLine({ sku: Sku.make(sku), quantity })
const uniqueSku = (prefix: string) => Sku.make(`${prefix}-${randomUUID().slice(0, 8).toUpperCase()}`)

const setStock = (sku: Sku, onHand: number) =>
  Effect.flatMap(
    InventoryClient,
    (client) => client.stock.set({ path: { sku }, headers: freshKey(), payload: new SetStock({ onHand }) })
  )

const reserve = (orderId: OrderId, items: Array<ReservationLine>, headers = freshKey()) =>
  Effect.flatMap(
    InventoryClient,
    (client) =>
      client.reservations.reserve({
        headers,
        payload: new ReserveStock({ orderId, items: [items[0]!, ...items.slice(1)] })
      })
  )

const stockOf = (sku: Sku) => Effect.flatMap(InventoryClient, (client) => client.stock.get({ path: { sku } }))

layer(TestLive, { excludeTestServices: true })("inventory over HTTP", (it) => {
  it.effect("health answers without a token", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      expect(yield* client.health.health()).toMatchObject({ status: "ok", service: "inventory" })
    }))

  it.effect("sets and reads stock; an unknown sku is StockNotFound", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("SET")
      expect(yield* setStock(sku, 7)).toMatchObject({ sku, onHand: 7, reserved: 0, available: 7 })
      expect(yield* stockOf(sku)).toMatchObject({ onHand: 7, available: 7 })
      const error = yield* Effect.flip(stockOf(uniqueSku("NOPE")))
      expect(error._tag).toBe("StockNotFound")
    }))

  it.effect("reserves all lines, and releases them back exactly once", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const [a, b] = [uniqueSku("A"), uniqueSku("B")]
      yield* setStock(a, 10)
      yield* setStock(b, 5)
      const orderId = newOrder()
      // Two lines of the same sku are summed.
      const reservation = yield* reserve(orderId, [line(a, 2), line(b, 5), line(a, 1)])
      expect(reservation.status).toBe("HELD")
      expect(reservation.items.map((item) => [item.sku, item.quantity])).toEqual([[a, 3], [b, 5]].sort())
      expect(yield* stockOf(a)).toMatchObject({ onHand: 10, reserved: 3, available: 7 })
      expect(yield* stockOf(b)).toMatchObject({ reserved: 5, available: 0 })
      expect((yield* client.reservations.get({ path: { order_id: orderId } })).status).toBe("HELD")

      const released = yield* client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
      expect(released.status).toBe("RELEASED")
      // A second release under another key changes nothing.
      yield* client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
      expect(yield* stockOf(a)).toMatchObject({ reserved: 0, available: 10 })
      expect(yield* stockOf(b)).toMatchObject({ reserved: 0, available: 5 })
    }))

  it.effect("InsufficientStock names the sku and reserves nothing", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const [a, b] = [uniqueSku("A"), uniqueSku("B")]
      yield* setStock(a, 10)
      yield* setStock(b, 1)
      const orderId = newOrder()
      const error = yield* Effect.flip(reserve(orderId, [line(a, 4), line(b, 2)]))
      expect(error).toMatchObject({ _tag: "InsufficientStock", sku: b, requested: 2, available: 1 })
      expect(yield* stockOf(a)).toMatchObject({ reserved: 0 })
      const missing = yield* Effect.flip(client.reservations.get({ path: { order_id: orderId } }))
      expect(missing._tag).toBe("ReservationNotFound")
      // A sku inventory has never heard of has no stock.
      const unknown = yield* Effect.flip(reserve(newOrder(), [line(uniqueSku("GHOST"), 1)]))
      expect(unknown).toMatchObject({ _tag: "InsufficientStock", available: 0 })
    }))

  it.effect("one reservation per order: the same lines again return it, other lines conflict", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("ONE")
      yield* setStock(sku, 10)
      const orderId = newOrder()
      yield* reserve(orderId, [line(sku, 2)])
      const again = yield* reserve(orderId, [line(sku, 2)])
      expect(again.status).toBe("HELD")
      expect(yield* stockOf(sku)).toMatchObject({ reserved: 2 })
      const conflict = yield* Effect.flip(reserve(orderId, [line(sku, 3)]))
      expect(conflict).toMatchObject({ _tag: "ReservationConflict", status: "HELD" })
    }))

  it.effect("releasing an order that reserved nothing succeeds and blocks a late reserve", () =>
    Effect.gen(function*() {
      const client = yield* InventoryClient
      const sku = uniqueSku("LATE")
      yield* setStock(sku, 10)
      const orderId = newOrder()
      const released = yield* client.reservations.release({ path: { order_id: orderId }, headers: freshKey() })
      expect(released).toMatchObject({ status: "RELEASED", items: [] })
      const late = yield* Effect.flip(reserve(orderId, [line(sku, 1)]))
      expect(late).toMatchObject({ _tag: "ReservationConflict", status: "RELEASED" })
      expect(yield* stockOf(sku)).toMatchObject({ reserved: 0 })
    }))

  it.effect("on-hand cannot go below what is reserved", () =>
    Effect.gen(function*() {
      const sku = uniqueSku("LOW")
      yield* setStock(sku, 10)
      yield* reserve(newOrder(), [line(sku, 6)])
      const error = yield* Effect.flip(setStock(sku, 5))
      expect(error).toMatchObject({ _tag: "StockBelowReserved", reserved: 6, onHand: 5 })
      expect(yield* setStock(sku, 6)).toMatchObject({ onHand: 6, available: 0 })
    }))

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

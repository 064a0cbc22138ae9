/**
 * A checkout that fails after the authorization: the transaction is all or nothing, the hold is
 * voided unless the order committed (a lost COMMIT answer), and payments down is a 503.
 */
import type { OrderId } from "@ecommerce/contracts"
import { TestDatabase } from "@ecommerce/db/testing"
import { EdgeApiClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { testToken } from "@ecommerce/http-kit/testing"
import { HttpClientError } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createConnection, createServer, type Socket } from "node:net"
import { checkout, edgeClientFor, newKey, order, orderOf, PaymentsLive, TestLive, written } from "./checkoutFixtures.ts"
import { listenOnLoopback } from "./loopback.ts"

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

layer(TestLive, { excludeTestServices: true })("edge API over HTTP: failed checkouts", (it) => {
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
})

/**
 * The checkout-recovery test files' fixtures: the real payments service, an HTTP proxy in front of it
 * that holds or drops the edge's check of an authorization, in-process edges with their own settings,
 * and what the database holds for an order.
 */
import {
  CardToken,
  Checkout,
  CheckoutLine,
  Currency,
  CustomerId,
  type EdgeAuthorization,
  type OrderId,
  Sku,
  TestCards
} from "@ecommerce/contracts"
import { TestDatabaseLive } from "@ecommerce/db/testing"
import { EdgeApiClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { serverUrl, testServer, testToken } from "@ecommerce/http-kit/testing"
import { PaymentsApiLive } from "@ecommerce/payments"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { type ConfigError, ConfigProvider, Context, Effect, Layer, Schedule } from "effect"
import { createServer, request as httpRequest, type Server } from "node:http"
import type { Socket } from "node:net"
import { inject } from "vitest"
import { EdgeAuth, makeEdgeApi } from "../src/Http.ts"
import { edgeKey } from "./checkoutFixtures.ts"
import { listenOnLoopback } from "./loopback.ts"

/** The real payments service, and its URL for proxies and child processes. */
export class PaymentsUrl extends Context.Tag("test/PaymentsUrl")<PaymentsUrl, string>() {}
export const PaymentsServer = Layer.effect(PaymentsUrl, serverUrl).pipe(
  Layer.provide(testServer({ api: PaymentsApiLive, role: "payments" }))
)

type ProxyMode = "pass" | "hold" | "drop"

/**
 * An HTTP proxy in front of payments that acts on the edge's check of an authorization
 * (`GET /payments/<id>`, between authorize and commit): `hold` keeps it until `release`, `drop`
 * lets payments answer and then cuts the edge's connection instead of passing the answer on.
 */
export const paymentsProxy = Effect.gen(function*() {
  const target = yield* PaymentsUrl
  let mode: ProxyMode = "pass"
  let checks = 0
  const held: Array<() => void> = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const isCheck = req.method === "GET" && /^\/payments\/[0-9a-f-]{36}$/.test(req.url ?? "")
    const drop = isCheck && mode === "drop"
    const forward = () => {
      const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        if (drop) {
          answer.resume()
          return req.socket.destroy()
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      upstream.on("error", () => res.destroy())
      req.pipe(upstream)
    }
    if (isCheck) checks++
    if (isCheck && mode === "hold") held.push(forward)
    else forward()
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  const port = yield* listenOnLoopback(server, sockets)
  return {
    url: `http://127.0.0.1:${port}`,
    setMode: (next: ProxyMode) => void (mode = next),
    release: () => held.splice(0).forEach((forward) => forward()),
    checks: () => checks
  }
})

/**
 * An in-process edge API whose payments calls go to `paymentsUrl`, with its own settings (a short
 * recovery window in these tests); returns a client on it and its URL.
 */
export const startEdge = (
  paymentsUrl: string,
  settings: Record<string, string>,
  auth: Layer.Layer<EdgeAuthorization, ConfigError.ConfigError> = EdgeAuth([edgeKey])
) =>
  Effect.gen(function*() {
    const payments = PaymentsClient.layer({ baseUrl: paymentsUrl, token: testToken })
    const server = testServer({
      api: makeEdgeApi(auth).pipe(
        Layer.provide(payments),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson(settings)))
      ),
      role: "edge_api"
    })
    const context = yield* Layer.buildWithScope(
      Layer.unwrapEffect(
        Effect.map(serverUrl, (baseUrl) =>
          Layer.merge(EdgeApiClient.layer({ baseUrl, token: edgeKey }), Layer.succeed(PaymentsUrl, baseUrl)))
      ).pipe(Layer.provide(server)),
      yield* Effect.scope
    )
    return { client: Context.get(context, EdgeApiClient), url: Context.get(context, PaymentsUrl) }
  })

export const order = (customer: string) =>
  new Checkout({
    customerId: CustomerId.make(customer),
    items: [new CheckoutLine({ sku: Sku.make("MUG-BLUE"), quantity: 2 })],
    currency: Currency.make("EUR"),
    cardToken: CardToken.make(TestCards.approved)
  })

/** The ledger rows and the authorization of an order, read as the superuser. */
export const stateOf = (orderId: OrderId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all({
      ledger: sql`select 1 from order_ledger where order_id = ${orderId}`.pipe(Effect.map((rows) => rows.length)),
      payment: sql<{ status: string }>`select status from payments.authorizations where order_id = ${orderId}`.pipe(
        Effect.map((rows) => rows[0]?.status)
      ),
      attempt: sql<{ status: string }>`select status from edge.checkout_attempts where order_id = ${orderId}`.pipe(
        Effect.map((rows) => rows[0]?.status)
      )
    }))

/**
 * Waits (generously: the machine is shared) until the order's authorization has left AUTHORIZED and
 * the attempt has settled: the void is written to payments before the attempt row says `voided`.
 */
export const awaitReleased = (orderId: OrderId) =>
  stateOf(orderId).pipe(
    Effect.filterOrFail((state) =>
      state.payment !== undefined && state.payment !== "AUTHORIZED" && state.attempt !== "open" &&
      state.attempt !== "voiding"
    ),
    Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds")))
  )

export const awaitChecks = (proxy: { readonly checks: () => number }, count: number) =>
  Effect.sleep("50 millis").pipe(
    Effect.repeat({ until: () => proxy.checks() >= count }),
    Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new Error(`fewer than ${count} checks reached the proxy`)
    })
  )

export const shortWindow = { CHECKOUT_RECOVERY_MS: "1000", PAYMENTS_TIMEOUT: "3 seconds" }

/** A fresh database (one per test file's layer) and the real payments service. */
export const TestLive = PaymentsServer.pipe(
  Layer.provideMerge(NodeHttpClient.layerUndici),
  Layer.provideMerge(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")))
)

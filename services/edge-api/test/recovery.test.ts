/**
 * No card hold without an order: whatever stops a checkout between the authorization and the commit
 * (payments' answer lost, the client gone, the edge process SIGKILLed), the attempt recorded before
 * the authorization lets the recovery loop void the hold once CHECKOUT_RECOVERY_MS has passed. Real
 * payments and edge servers on loopback, a real HTTP proxy between them, a real edge OS process.
 */
import {
  CardToken,
  Checkout,
  CheckoutLine,
  Currency,
  CustomerId,
  type EdgeAuthorization,
  IdempotencyKey,
  type OrderId,
  Sku,
  TestCards
} from "@ecommerce/contracts"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { EdgeApiClient, PaymentsClient } from "@ecommerce/http-kit/clients"
import { serverUrl, testServer, testToken } from "@ecommerce/http-kit/testing"
import { PaymentsApiLive } from "@ecommerce/payments"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { type ConfigError, ConfigProvider, Context, Effect, Fiber, Layer, Redacted, Schedule } from "effect"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createServer, request as httpRequest, type Server } from "node:http"
import { createServer as createNetServer, type Socket } from "node:net"
import { fileURLToPath } from "node:url"
import { inject } from "vitest"
import { orderIdFor } from "../src/Checkout.ts"
import { EdgeApiKeys, EdgeAuth, EdgeAuthLive, makeEdgeApi } from "../src/Http.ts"
import { listenOnLoopback } from "./loopback.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")
const edgeKey = Redacted.make("test-edge-key")
const mainEntry = fileURLToPath(new URL("../src/main.ts", import.meta.url))

/** The real payments service, and its URL for proxies and child processes. */
class PaymentsUrl extends Context.Tag("test/PaymentsUrl")<PaymentsUrl, string>() {}
const PaymentsServer = Layer.effect(PaymentsUrl, serverUrl).pipe(
  Layer.provide(testServer({ api: PaymentsApiLive, role: "payments" }))
)

type ProxyMode = "pass" | "hold" | "drop"

/**
 * An HTTP proxy in front of payments that acts on the edge's check of an authorization
 * (`GET /payments/<id>`, between authorize and commit): `hold` keeps it until `release`, `drop`
 * lets payments answer and then cuts the edge's connection instead of passing the answer on.
 */
const paymentsProxy = Effect.gen(function*() {
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
const startEdge = (
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

const freePort = Effect.async<number>((resume) => {
  const probe = createNetServer()
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

const order = (customer: string) =>
  new Checkout({
    customerId: CustomerId.make(customer),
    items: [new CheckoutLine({ sku: Sku.make("MUG-BLUE"), quantity: 2 })],
    currency: Currency.make("EUR"),
    cardToken: CardToken.make(TestCards.approved)
  })

/** The ledger rows and the authorization of an order, read as the superuser. */
const stateOf = (orderId: OrderId) =>
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

/** Waits (generously: the machine is shared) until the order's authorization has left AUTHORIZED. */
const awaitReleased = (orderId: OrderId) =>
  stateOf(orderId).pipe(
    Effect.filterOrFail((state) => state.payment !== undefined && state.payment !== "AUTHORIZED"),
    Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds")))
  )

const awaitChecks = (proxy: { readonly checks: () => number }, count: number) =>
  Effect.sleep("50 millis").pipe(
    Effect.repeat({ until: () => proxy.checks() >= count }),
    Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new Error(`fewer than ${count} checks reached the proxy`)
    })
  )

const shortWindow = { CHECKOUT_RECOVERY_MS: "1000", PAYMENTS_TIMEOUT: "3 seconds" }

const TestLive = PaymentsServer.pipe(
  Layer.provideMerge(NodeHttpClient.layerUndici),
  Layer.provideMerge(TestDatabaseLive(adminUrl, template))
)

layer(TestLive, { excludeTestServices: true })("checkout recovery", (it) => {
  it.scoped(
    "payments' answer to the check is lost: 503, then the hold is voided and no order exists",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, shortWindow)
        proxy.setMode("drop")
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-lost-answer")
        const error = yield* Effect.flip(
          edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        )
        expect(error).toMatchObject({ _tag: "UpstreamUnavailable", service: "payments" })
        const orderId = orderIdFor(request.customerId, key)
        expect(yield* awaitReleased(orderId)).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
        // The key's retry learns that the hold is gone instead of placing an order on it.
        proxy.setMode("pass")
        const retried = yield* Effect.flip(
          edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        )
        expect(retried._tag).toBe("IdempotencyKeyReused")
        expect(yield* stateOf(orderId)).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
      }),
    90_000
  )

  it.scoped(
    "a 503 leaves the hold for a retry with the same key within the window; the retry places the order",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, { CHECKOUT_RECOVERY_MS: "120000" })
        proxy.setMode("drop")
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-retry-same-key")
        yield* Effect.flip(edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request }))
        proxy.setMode("pass")
        const placed = yield* edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        expect(yield* stateOf(placed.orderId)).toEqual({ ledger: 1, payment: "AUTHORIZED", attempt: "placed" })
      }),
    90_000
  )

  it.scoped(
    "the client disconnects mid-checkout: the hold is voided and no order exists, or the order exists",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, shortWindow)
        proxy.setMode("hold")
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-walks-away")
        const orderId = orderIdFor(request.customerId, key)
        const inFlight = yield* Effect.fork(
          edge.client.checkout.checkout({ headers: { "idempotency-key": key }, payload: request })
        )
        yield* awaitChecks(proxy, 1)
        // Interrupting the client fiber aborts its request: the edge sees the connection close.
        yield* Fiber.interrupt(inFlight)
        proxy.setMode("pass")
        proxy.release()
        const settled = yield* stateOf(orderId).pipe(
          Effect.filterOrFail((state) =>
            (state.ledger === 1 && state.payment === "AUTHORIZED") || state.payment === "VOIDED"
          ),
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds")))
        )
        if (settled.ledger === 0) expect(settled).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
        else expect(settled).toEqual({ ledger: 1, payment: "AUTHORIZED", attempt: "placed" })
      }),
    90_000
  )

  it.scoped(
    "the edge process is SIGKILLed between authorize and commit: another edge voids the hold",
    () =>
      Effect.gen(function*() {
        const db = yield* TestDatabase
        const proxy = yield* paymentsProxy
        proxy.setMode("hold")
        const port = yield* freePort
        const output: Array<string> = []
        const child = yield* Effect.acquireRelease(
          Effect.sync(() => {
            const child = spawn(process.execPath, ["--import", "tsx", mainEntry], {
              env: {
                ...process.env,
                DATABASE_URL: db.url,
                PAYMENTS_SERVICE_URL: proxy.url,
                SERVICE_TOKEN: Redacted.value(testToken),
                EDGE_API_KEYS: Redacted.value(edgeKey),
                EDGE_API_PORT: String(port),
                CHECKOUT_RECOVERY_MS: "120000"
              },
              stdio: ["ignore", "pipe", "pipe"]
            })
            child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()))
            child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()))
            return child
          }),
          (child) =>
            Effect.sync(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")))
        )
        const baseUrl = `http://127.0.0.1:${port}`
        yield* HttpClient.get(`${baseUrl}/health`).pipe(
          Effect.filterOrFail((response) => response.status === 200),
          // Generous: tsx transpiles the whole service at start, on a machine other tests share.
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("150 seconds"))),
          Effect.mapError((error) => new Error(`the edge process never answered: ${error}; ${output.join("")}`))
        )
        const key = IdempotencyKey.make(randomUUID())
        const request = order("cust-edge-killed")
        const orderId = orderIdFor(request.customerId, key)
        yield* Effect.fork(
          HttpClient.execute(
            HttpClientRequest.post(`${baseUrl}/checkout`).pipe(
              HttpClientRequest.bearerToken(edgeKey),
              HttpClientRequest.setHeader("idempotency-key", key),
              HttpClientRequest.bodyUnsafeJson(request)
            )
          )
        )
        yield* awaitChecks(proxy, 1)
        expect(yield* stateOf(orderId)).toEqual({ ledger: 0, payment: "AUTHORIZED", attempt: "open" })
        child.kill("SIGKILL")
        yield* Effect.async<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
        })
        // The survivor (another replica, or the restarted edge) runs the recovery loop.
        const payments = yield* PaymentsUrl
        yield* startEdge(payments, shortWindow)
        expect(yield* awaitReleased(orderId)).toEqual({ ledger: 0, payment: "VOIDED", attempt: "voided" })
      }),
    300_000
  )

  it.scoped(
    "checkouts waiting on payments hold no database connection: /health answers while 12 wait",
    () =>
      Effect.gen(function*() {
        const proxy = yield* paymentsProxy
        const edge = yield* startEdge(proxy.url, { CHECKOUT_RECOVERY_MS: "120000", PAYMENTS_TIMEOUT: "60 seconds" })
        proxy.setMode("hold")
        // The edge's test pool has 10 connections; each of these waits on payments after authorizing.
        const waiting = yield* Effect.fork(Effect.all(
          Array.from({ length: 12 }, (_, i) =>
            edge.client.checkout.checkout({
              headers: { "idempotency-key": IdempotencyKey.make(randomUUID()) },
              payload: order(`cust-slow-${i}`)
            })),
          { concurrency: "unbounded" }
        ))
        yield* awaitChecks(proxy, 12)
        const health = yield* edge.client.health.health().pipe(Effect.timeout("20 seconds"))
        expect(health.status).toBe("ok")
        proxy.setMode("pass")
        proxy.release()
        const placed = yield* Fiber.join(waiting)
        expect(placed).toHaveLength(12)
      }),
    120_000
  )
})

layer(TestLive, { excludeTestServices: true })("edge authentication", (it) => {
  it.scoped(
    "an edge key is accepted (202), the SERVICE_TOKEN is refused (401); keys rotate",
    () =>
      Effect.gen(function*() {
        const payments = yield* PaymentsUrl
        const edge = yield* startEdge(payments, {})
        const post = (token: Redacted.Redacted<string>) =>
          HttpClient.execute(
            HttpClientRequest.post(`${edge.url}/checkout`).pipe(
              HttpClientRequest.bearerToken(token),
              HttpClientRequest.setHeader("idempotency-key", randomUUID()),
              HttpClientRequest.bodyUnsafeJson(order("cust-auth"))
            )
          ).pipe(Effect.map((response) => response.status))
        expect(yield* post(edgeKey)).toBe(202)
        expect(yield* post(testToken)).toBe(401)
        const catalogue = (token: Redacted.Redacted<string>) =>
          HttpClient.execute(HttpClientRequest.get(`${edge.url}/catalogue`).pipe(HttpClientRequest.bearerToken(token)))
            .pipe(
              Effect.map((response) => response.status)
            )
        expect(yield* catalogue(testToken)).toBe(401)

        // Rotation: both keys of EDGE_API_KEYS are accepted, and nothing else.
        const rotating = yield* startEdge(payments, { EDGE_API_KEYS: " old-key , new-key," }, EdgeAuthLive)
        const postTo = (url: string, token: string) =>
          HttpClient.execute(
            HttpClientRequest.post(`${url}/checkout`).pipe(
              HttpClientRequest.bearerToken(token),
              HttpClientRequest.setHeader("idempotency-key", randomUUID()),
              HttpClientRequest.bodyUnsafeJson(order("cust-rotation"))
            )
          ).pipe(Effect.map((response) => response.status))
        expect(yield* postTo(rotating.url, "old-key")).toBe(202)
        expect(yield* postTo(rotating.url, "new-key")).toBe(202)
        expect(yield* postTo(rotating.url, Redacted.value(edgeKey))).toBe(401)
        expect(yield* postTo(rotating.url, Redacted.value(testToken))).toBe(401)
      }),
    60_000
  )

  it.scoped("GET /catalogue lists every sku with its name, unit price and currency", () =>
    Effect.gen(function*() {
      const payments = yield* PaymentsUrl
      const edge = yield* startEdge(payments, {})
      const listing = yield* edge.client.catalogue.list()
      expect(listing.items).toHaveLength(10)
      expect(listing.items[0]).toEqual({
        sku: "HOODIE-GREY-L",
        name: "Grey hoodie, L",
        unitPrice: 4900,
        currency: "EUR"
      })
      expect(listing.items.find((item) => item.sku === "MUG-BLUE" && item.currency === "USD")?.unitPrice).toBe(999)
      const sql = yield* SqlClient.SqlClient
      const [count] = yield* sql<{ n: number }>`select count(*)::int as n from catalogue`
      expect(listing.items).toHaveLength(count!.n)
      const raw = yield* HttpClient.execute(
        HttpClientRequest.get(`${edge.url}/catalogue`).pipe(HttpClientRequest.bearerToken(edgeKey))
      )
      expect(raw.status).toBe(200)
      expect(((yield* raw.json) as { items: Array<unknown> }).items[0]).toEqual({
        sku: "HOODIE-GREY-L",
        name: "Grey hoodie, L",
        unitPrice: 4900,
        currency: "EUR"
      })
    }))

  it.effect("EDGE_API_KEYS that hold the SERVICE_TOKEN, or no key, refuse to load and name the setting", () =>
    Effect.gen(function*() {
      const load = (settings: Record<string, string>) =>
        Effect.flip(EdgeApiKeys.pipe(Effect.withConfigProvider(ConfigProvider.fromJson(settings)))).pipe(
          Effect.map(String)
        )
      expect(yield* load({ EDGE_API_KEYS: "a,svc", SERVICE_TOKEN: "svc" })).toMatch(/EDGE_API_KEYS.*SERVICE_TOKEN/)
      expect(yield* load({ EDGE_API_KEYS: " , " })).toMatch(/EDGE_API_KEYS.*at least one key/)
      const defaults = yield* EdgeApiKeys.pipe(Effect.withConfigProvider(ConfigProvider.fromJson({})))
      expect(defaults.map(Redacted.value)).toEqual(["dev-edge-key"])
    }))
})

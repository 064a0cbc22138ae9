/**
 * The system of otlp.process.test.ts: every process as operators run it (five real OS processes on
 * one database), exporting to a loopback OTLP receiver, and the work that makes each of them speak.
 */
import { withCredentials } from "@ecommerce/db"
import { freePort } from "@ecommerce/db/embedded"
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomBytes, randomUUID } from "node:crypto"
import { spawnWorker, type WorkerProcess } from "../../../services/orchestrator/test/fixtures/processes.ts"
import { OtlpReceiver } from "../test-support/OtlpReceiver.ts"

const secret = (prefix: string) => `${prefix}-${randomBytes(9).toString("hex")}`
export const serviceToken = secret("token")
export const orchestratorPassword = secret("orchestrator-pw")
export const wrongOrdersPassword = secret("orders-pw")
export const edgeKey = secret("edge-key")
const loginRole = `otel_${randomBytes(4).toString("hex")}`

export const services = ["orchestrator", "orders", "inventory", "payments", "edge-api"] as const

export const receiver = Effect.acquireRelease(
  Effect.promise(() => OtlpReceiver.start()),
  (r) => Effect.promise(() => r.stop())
)

/** A login role with a password of our own, member of `orchestrator`, dropped afterwards. */
export const orchestratorLogin = Effect.acquireRelease(
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql.unsafe(`create role ${loginRole} login password '${orchestratorPassword}' in role orchestrator`)
  ),
  () => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`drop role if exists ${loginRole}`)).pipe(Effect.orDie)
)

export const started = (env: Record<string, string>, entry: string) =>
  Effect.acquireRelease(Effect.sync(() => spawnWorker(env, entry)), (p) => Effect.promise(() => p.stop("SIGKILL")))

export const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, body: await response.text() }
  })

export type Processes = Record<(typeof services)[number], WorkerProcess>

/**
 * The five processes, JSON logs, exporting every 200/500 ms to `otlpUrl`; the orchestrator logs in
 * as `orchestratorLogin`'s role. Waits until each is ready; `common` is their shared environment.
 */
export const startSystem = (databaseUrl: string, otlpUrl: string) =>
  Effect.gen(function*() {
    const [orders, inventory, payments, edge] = yield* Effect.promise(() =>
      Promise.all([freePort(), freePort(), freePort(), freePort()])
    )
    const common = {
      DATABASE_URL: databaseUrl,
      SERVICE_TOKEN: serviceToken,
      EDGE_API_KEYS: edgeKey,
      LOG_FORMAT: "json",
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
      OTEL_BSP_SCHEDULE_DELAY: "200",
      OTEL_BLRP_SCHEDULE_DELAY: "200",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test,team=saga%20ops",
      ORDERS_PORT: String(orders),
      INVENTORY_PORT: String(inventory),
      PAYMENTS_PORT: String(payments),
      EDGE_API_PORT: String(edge),
      ORDERS_SERVICE_URL: `http://127.0.0.1:${orders}`,
      INVENTORY_SERVICE_URL: `http://127.0.0.1:${inventory}`,
      PAYMENTS_SERVICE_URL: `http://127.0.0.1:${payments}`
    }
    const processes: Processes = {
      orchestrator: yield* started({
        ...common,
        DATABASE_URL: withCredentials(databaseUrl, loginRole, Redacted.make(orchestratorPassword)),
        WORKER_ID: "otel-replica-1"
      }, "services/orchestrator/src/main.ts"),
      orders: yield* started(common, "services/orders/src/main.ts"),
      inventory: yield* started(common, "services/inventory/src/main.ts"),
      payments: yield* started(common, "services/payments/src/main.ts"),
      "edge-api": yield* started(common, "services/edge-api/src/main.ts")
    }
    yield* Effect.promise(() =>
      Promise.all([
        processes.orchestrator.waitFor(/LISTEN order_events established/, 420_000),
        ...(["orders", "inventory", "payments", "edge-api"] as const).map((name) =>
          processes[name].waitFor(/Listening on http/, 420_000)
        )
      ])
    )
    return { processes, common, orders, edge }
  })

/** A service that cannot log in: its failure report must not carry the password it was given. */
export const startRefused = (common: Record<string, string>) =>
  Effect.flatMap(Effect.promise(() => freePort()), (port) =>
    started(
      {
        ...common,
        ORDERS_PORT: String(port),
        ORDERS_DATABASE_PASSWORD: wrongOrdersPassword,
        STARTUP_TIMEOUT_MS: "1000"
      },
      "services/orders/src/main.ts"
    ))

/** What the checkouts paid with: 3 that complete and 2 whose capture is declined (they compensate). */
export const cards = ["tok_visa", "tok_capture_declined", "tok_visa", "tok_capture_declined", "tok_visa"]

/**
 * Work for every process: checkouts (edge-api -> payments; each saga: orders, inventory, payments),
 * a refused call, a Ping the worker handles and a row no handler knows (dead-lettered at once).
 * Yields the orders placed and the dead-lettered event's id.
 */
export const placeWork = ({ edge, orders }: { readonly edge: number; readonly orders: number }) =>
  Effect.gen(function*() {
    const checkoutWith = (cardToken: string) =>
      call(`http://127.0.0.1:${edge}/checkout`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${edgeKey}`,
          "content-type": "application/json",
          "idempotency-key": randomUUID()
        },
        body: JSON.stringify({
          customerId: "cust-otel",
          items: [{ sku: "MUG-BLUE", quantity: 1 }],
          currency: "EUR",
          cardToken
        })
      }).pipe(Effect.map((response) => {
        expect(response.status, response.body).toBe(202)
        return JSON.parse(response.body).orderId as string
      }))
    const orderIds = yield* Effect.forEach(cards, checkoutWith)
    expect(
      (yield* call(`http://127.0.0.1:${orders}/orders/${randomUUID()}`, {
        headers: { authorization: "Bearer wrong" }
      })).status
    ).toBe(401)
    const sql = yield* SqlClient.SqlClient
    const [dead] = yield* sql<{ eventId: string }>`
      insert into outbox (aggregate_type, aggregate_id, event_type, payload)
      values ('health', 'otel-ping', 'Ping', '{}'), ('health', 'otel-dead', 'NoSuchEvent', '{}')
      returning event_id::text as "eventId"`.pipe(Effect.map((rows) => rows.slice(1)))
    return { orderIds, deadEventId: dead!.eventId }
  })

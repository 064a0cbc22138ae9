/**
 * Every process as operators run it (five real OS processes, real Postgres, real HTTP on loopback),
 * exporting through the real OTLP/HTTP exporters to a loopback receiver: traces, metrics and logs
 * arrive from each, `LOG_FORMAT=json` output is JSON line by line, and no configured secret appears
 * anywhere, neither in any process's output nor in anything exported.
 */
import { withCredentials } from "@ecommerce/db"
import { freePort } from "@ecommerce/db/embedded"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted, Schedule } from "effect"
import { randomBytes, randomUUID } from "node:crypto"
import { inject } from "vitest"
import { spawnWorker, type WorkerProcess } from "../../../services/orchestrator/test/fixtures/processes.ts"
import { OtlpReceiver } from "../test-support/OtlpReceiver.ts"

const secret = (prefix: string) => `${prefix}-${randomBytes(9).toString("hex")}`
const serviceToken = secret("token")
const orchestratorPassword = secret("orchestrator-pw")
const wrongOrdersPassword = secret("orders-pw")
const edgeKey = secret("edge-key")
const loginRole = `otel_${randomBytes(4).toString("hex")}`

const services = ["orchestrator", "orders", "inventory", "payments", "edge-api"] as const

const receiver = Effect.acquireRelease(
  Effect.promise(() => OtlpReceiver.start()),
  (r) => Effect.promise(() => r.stop())
)

/** A login role with a password of our own, member of `orchestrator`, dropped afterwards. */
const orchestratorLogin = Effect.acquireRelease(
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql.unsafe(`create role ${loginRole} login password '${orchestratorPassword}' in role orchestrator`)
  ),
  () => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`drop role if exists ${loginRole}`)).pipe(Effect.orDie)
)

const started = (env: Record<string, string>, entry: string) =>
  Effect.acquireRelease(Effect.sync(() => spawnWorker(env, entry)), (p) => Effect.promise(() => p.stop("SIGKILL")))

const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, body: await response.text() }
  })

layer(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")), { excludeTestServices: true })(
  "telemetry of real processes",
  (it) => {
    it.effect(
      "traces, metrics and logs reach an OTLP receiver from every process; JSON logs; no secret anywhere",
      () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const otlp = yield* receiver
          yield* orchestratorLogin
          const [orders, inventory, payments, edge] = yield* Effect.promise(() =>
            Promise.all([freePort(), freePort(), freePort(), freePort()])
          )
          const common = {
            DATABASE_URL: db.url,
            SERVICE_TOKEN: serviceToken,
            EDGE_API_KEYS: edgeKey,
            LOG_FORMAT: "json",
            OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
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
          const processes: Record<(typeof services)[number], WorkerProcess> = {
            orchestrator: yield* started({
              ...common,
              DATABASE_URL: withCredentials(db.url, loginRole, Redacted.make(orchestratorPassword)),
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

          // A service that cannot log in: its failure report must not carry the password it was given.
          const refused = yield* started(
            {
              ...common,
              ORDERS_PORT: String(yield* Effect.promise(() => freePort())),
              ORDERS_DATABASE_PASSWORD: wrongOrdersPassword,
              STARTUP_TIMEOUT_MS: "1000"
            },
            "services/orders/src/main.ts"
          )
          // Work for every process: checkouts (edge-api -> payments; each saga: orders, inventory,
          // payments), 3 that complete and 2 whose capture is declined (they compensate), a refused
          // call, a Ping the worker handles and a row no handler knows (dead-lettered at once).
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
          const cards = ["tok_visa", "tok_capture_declined", "tok_visa", "tok_capture_declined", "tok_visa"]
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
          const finals = yield* sql<{ orderId: string; status: string }>`
            select order_id::text as "orderId", status from order_ledger where order_id in ${sql.in(orderIds)}`.pipe(
            Effect.filterOrFail((rows) => rows.length === orderIds.length && rows.every((r) => r.status !== "PENDING")),
            Effect.retry(Schedule.spaced("200 millis")),
            Effect.timeout("300 seconds")
          )
          const statusOf = new Map(finals.map((row) => [row.orderId, row.status]))
          expect(orderIds.map((id) => statusOf.get(id))).toEqual(
            cards.map((card) => card === "tok_visa" ? "CONFIRMED" : "CANCELLED")
          )
          // Metrics are exported every 500 ms: wait for the five outcomes before stopping anything.
          const finishedTotal = (r: OtlpReceiver) =>
            r.latestPoints("orchestrator", "saga.finished").reduce((sum, point) => sum + point.value, 0)
          yield* Effect.promise(() =>
            otlp.waitFor("five finished sagas in the metrics", (r) => finishedTotal(r) === 5, 120_000)
          )
          yield* Effect.promise(() =>
            otlp.waitFor("spans, metrics and logs from all five processes", (r) =>
              services.every((name) =>
                r.spans().some((span) =>
                  span.service === name
                ) &&
                r.logs().some((log) => log.service === name) &&
                r.metricResources().some((resource) => resource["service.name"] === name)
              ), 420_000)
          )
          yield* Effect.promise(() =>
            refused.exited
          ).pipe(Effect.map((code) => expect(code).toBe(1)))
          // SIGTERM: each process flushes what it still holds before exiting 0.
          const codes = yield* Effect.promise(() =>
            Promise.all(services.map((name) => processes[name].stop("SIGTERM")))
          )
          expect(codes).toEqual(services.map(() => 0))

          // Resources: the replica's WORKER_ID is its service.instance.id; OTEL_RESOURCE_ATTRIBUTES applies everywhere.
          const resources = otlp.spans().map((span) => span.resource)
          expect(resources.find((r) => r["service.name"] === "orchestrator")).toMatchObject({
            "service.instance.id": "otel-replica-1",
            "deployment.environment.name": "test",
            team: "saga ops"
          })
          for (const name of services) {
            expect(resources.find((r) => r["service.name"] === name)?.["service.instance.id"]).toEqual(
              expect.any(String)
            )
          }

          // The services' HTTP server spans (kind 2) are exported, and each of their log lines inside a
          // request carries that request's trace: logs and traces correlate by trace id.
          for (const name of ["orders", "inventory", "payments", "edge-api"] as const) {
            const serverSpans = otlp.spans().filter((span) => span.service === name && span.kind === 2)
            expect(serverSpans.length, `${name} server spans`).toBeGreaterThan(0)
          }
          const edgeTraces = new Set(
            otlp.spans().filter((span) => span.service === "edge-api").map((span) => span.traceId)
          )
          const correlated = otlp.logs().filter((log) => log.service === "edge-api" && edgeTraces.has(log.traceId))
          expect(correlated.length).toBeGreaterThan(0)

          // Every line each process wrote is one JSON object with the shared fields.
          for (const name of services) {
            const lines = processes[name].output().trim().split("\n")
            expect(lines.length, `${name} wrote log lines`).toBeGreaterThan(0)
            for (const line of lines) {
              const parsed = JSON.parse(line)
              expect(parsed, line).toMatchObject({
                timestamp: expect.any(String),
                level: expect.any(String),
                service: name,
                message: expect.any(String)
              })
            }
          }
          const refusal = refused.output().trim().split("\n").map((line) => JSON.parse(line))
          expect(refusal.at(-1)).toMatchObject({
            level: "ERROR",
            service: "orders",
            message: expect.stringMatching(/^cannot start: /)
          })

          // One trace per checkout: the trace id of the `traceparent` the edge API wrote into the order's
          // outbox row is the trace of the edge's, orders', inventory's and payments' server spans for
          // that order and of the saga's spans.
          const spans = otlp.spans()
          const outboxHeaders = yield* sql<{ orderId: string; headers: { traceparent?: string } }>`
            select aggregate_id as "orderId", headers from outbox
            where event_type = 'OrderPlaced' and aggregate_id in ${sql.in(orderIds)}`
          const traceOf = new Map(outboxHeaders.map((row) => [row.orderId, row.headers.traceparent?.split("-")[1]]))
          for (const [index, orderId] of orderIds.entries()) {
            const traceId = traceOf.get(orderId)
            expect(traceId, `traceparent of ${orderId}`).toMatch(/^[0-9a-f]{32}$/)
            const inTrace = spans.filter((span) => span.traceId === traceId)
            const serverRoutes = (service: string) =>
              inTrace.filter((span) => span.service === service && span.kind === 2).map((span) =>
                `${span.attributes["http.request.method"]} ${span.attributes["http.route"]}`
              ).sort()
            const compensated = cards[index] !== "tok_visa"
            expect(serverRoutes("edge-api"), orderId).toEqual(["POST /checkout"])
            expect(serverRoutes("orders"), orderId).toEqual(
              compensated
                ? ["POST /orders", "POST /orders/:order_id/cancellation"]
                : ["POST /orders", "POST /orders/:order_id/confirmation"]
            )
            expect(serverRoutes("inventory"), orderId).toEqual(
              compensated ? ["DELETE /reservations/:order_id", "POST /reservations"] : ["POST /reservations"]
            )
            // Payments also answers the saga's reads (GET /payments/:authorization_id) before it acts.
            expect(serverRoutes("payments"), orderId).toEqual(expect.arrayContaining([
              "POST /payments/authorizations",
              "POST /payments/capture/:authorization_id",
              ...(compensated ? ["POST /payments/void/:authorization_id"] : [])
            ]))
            const saga = inTrace.filter((span) => span.service === "orchestrator" && span.name === "saga.OrderPlaced")
            expect(saga.map((span) => [span.attributes["order.id"], span.attributes["saga.state"]]), orderId).toEqual([
              [orderId, compensated ? "compensated" : "completed"]
            ])
            const steps = inTrace.filter((span) =>
              span.service === "orchestrator" && /^saga\.(step|compensate)\./.test(span.name)
            )
            expect(steps.every((span) => span.parentSpanId === saga[0]!.spanId)).toBe(true)
            expect(steps.map((span) => span.name)).toEqual(expect.arrayContaining([
              "saga.step.createOrder",
              "saga.step.reserveStock",
              "saga.step.capturePayment",
              ...(compensated
                ? ["saga.compensate.reserveStock", "saga.compensate.createOrder"]
                : ["saga.step.confirmOrder"])
            ]))
          }

          // The exported saga metrics say exactly what happened: 5 started, 3 completed, 2 compensated.
          const series = (name: string) =>
            otlp.latestPoints("orchestrator", name).map((point): Record<string, unknown> => ({
              ...point.attributes,
              n: point.count ?? point.value
            }))
          expect(series("saga.started")).toEqual([{ "saga.type": "OrderPlaced", n: 5 }])
          expect(series("saga.finished")).toEqual(expect.arrayContaining([
            { "saga.type": "OrderPlaced", "saga.outcome": "completed", n: 3 },
            { "saga.type": "OrderPlaced", "saga.outcome": "compensated", n: 2 }
          ]))
          expect(series("saga.finished")).toHaveLength(2)
          expect(series("saga.duration")).toEqual(expect.arrayContaining([
            { "saga.type": "OrderPlaced", "saga.outcome": "completed", n: 3 },
            { "saga.type": "OrderPlaced", "saga.outcome": "compensated", n: 2 }
          ]))
          const stepCounts = Object.fromEntries(
            series("saga.step.duration").map((
              p
            ) => [`${p["saga.step"]}/${p["saga.phase"]}/${p["saga.step.outcome"]}`, p.n])
          )
          expect(stepCounts).toEqual({
            "authorization/forward/succeeded": 5,
            "verifyOrder/forward/succeeded": 5,
            "createOrder/forward/succeeded": 5,
            "reserveStock/forward/succeeded": 5,
            "capturePayment/forward/succeeded": 3,
            "capturePayment/forward/rejected": 2,
            "confirmOrder/forward/succeeded": 3,
            "reserveStock/compensate/succeeded": 2,
            "createOrder/compensate/succeeded": 2,
            "authorization/compensate/succeeded": 2
          })
          expect(otlp.latestPoints("orchestrator", "saga.step.retries")).toEqual([])

          // Logs: every line inside a saga carries the saga's id, its order's id and its trace; a
          // finished saga logs its outcome and duration; a dead-lettered event a warning with its id,
          // type and reason.
          const orchestratorLines = processes.orchestrator.output().trim().split("\n").map((line) =>
            JSON.parse(line) as Record<string, unknown>
          )
          const sagaLines = orchestratorLines.filter((line) => line["saga.type"] !== undefined)
          for (const line of sagaLines) {
            expect(line, JSON.stringify(line)).toMatchObject({
              "saga.id": expect.any(String),
              "order.id": expect.any(String),
              trace_id: traceOf.get(line["order.id"] as string)
            })
          }
          for (const [index, orderId] of orderIds.entries()) {
            const outcome = cards[index] === "tok_visa" ? "completed" : "compensated"
            const finished = sagaLines.filter((line) =>
              line["order.id"] === orderId && line["saga.outcome"] !== undefined
            )
            expect(finished, orderId).toEqual([
              expect.objectContaining({
                level: "INFO",
                message: expect.stringMatching(new RegExp(`^saga ${outcome} after \\d+ ms`)),
                "saga.outcome": outcome,
                "saga.duration_ms": expect.any(Number)
              })
            ])
          }
          expect(orchestratorLines.filter((line) => line.event_id === dead!.eventId && line.level === "WARN")).toEqual([
            expect.objectContaining({
              message: expect.stringContaining("event dead-lettered: unknown event_type \"NoSuchEvent\""),
              event_type: "NoSuchEvent"
            })
          ])

          // No secret in any output or export.
          const everything = [...services.map((name) => processes[name].output()), refused.output(), otlp.rawText()]
            .join(
              "\n"
            )
          expect(otlp.rawText().length).toBeGreaterThan(0)
          for (const value of [serviceToken, edgeKey, orchestratorPassword, wrongOrdersPassword]) {
            expect(everything).not.toContain(value)
          }
        }).pipe(Effect.scoped),
      1_500_000
    )
  }
)

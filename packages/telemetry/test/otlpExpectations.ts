/**
 * What otlp.process.test.ts expects of one run of the system (see otlpSystem.ts): of the exports the
 * receiver got, of every process's output, and of the trace each checkout left.
 */
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import type { WorkerProcess } from "../../../services/orchestrator/test/fixtures/processes.ts"
import type { OtlpReceiver, ReceivedSpan } from "../test-support/OtlpReceiver.ts"
import {
  cards,
  edgeKey,
  orchestratorPassword,
  type Processes,
  services,
  serviceToken,
  wrongOrdersPassword
} from "./otlpSystem.ts"

/**
 * Resources: the replica's WORKER_ID is its service.instance.id; OTEL_RESOURCE_ATTRIBUTES applies
 * everywhere.
 */
export const expectResources = (otlp: OtlpReceiver) => {
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
}

/**
 * The services' HTTP server spans (kind 2) are exported, and each of their log lines inside a
 * request carries that request's trace: logs and traces correlate by trace id.
 */
export const expectServerSpans = (otlp: OtlpReceiver) => {
  for (const name of ["orders", "inventory", "payments", "edge-api"] as const) {
    const serverSpans = otlp.spans().filter((span) => span.service === name && span.kind === 2)
    expect(serverSpans.length, `${name} server spans`).toBeGreaterThan(0)
  }
  const edgeTraces = new Set(
    otlp.spans().filter((span) => span.service === "edge-api").map((span) => span.traceId)
  )
  const correlated = otlp.logs().filter((log) => log.service === "edge-api" && edgeTraces.has(log.traceId))
  expect(correlated.length).toBeGreaterThan(0)
}

/** Every line each process wrote is one JSON object with the shared fields. */
export const expectJsonLines = (processes: Processes, refused: WorkerProcess) => {
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
}

/** The trace id of the `traceparent` the edge API wrote into each order's OrderPlaced outbox row. */
export const tracesOf = (orderIds: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const outboxHeaders = yield* sql<{ orderId: string; headers: { traceparent?: string } }>`
      select aggregate_id as "orderId", headers from outbox
      where event_type = 'OrderPlaced' and aggregate_id in ${sql.in(orderIds)}`
    return new Map(outboxHeaders.map((row) => [row.orderId, row.headers.traceparent?.split("-")[1]]))
  })

/**
 * One trace per checkout: the trace id of the `traceparent` the edge API wrote into the order's
 * outbox row is the trace of the edge's, orders', inventory's and payments' server spans for that
 * order and of the saga's spans.
 */
export const expectOneTracePerCheckout = (
  spans: ReadonlyArray<ReceivedSpan>,
  orderIds: ReadonlyArray<string>,
  traceOf: ReadonlyMap<string, string | undefined>
) => {
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
}

/** The exported saga metrics say exactly what happened: 5 started, 3 completed, 2 compensated. */
export const expectSagaMetrics = (otlp: OtlpReceiver) => {
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
}

/**
 * Logs: every line inside a saga carries the saga's id, its order's id and its trace; a finished
 * saga logs its outcome and duration; a dead-lettered event a warning with its id, type and
 * reason.
 */
export const expectSagaLogs = (
  orchestrator: WorkerProcess,
  orderIds: ReadonlyArray<string>,
  traceOf: ReadonlyMap<string, string | undefined>,
  deadEventId: string
) => {
  const orchestratorLines = orchestrator.output().trim().split("\n").map((line) =>
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
    const finished = sagaLines.filter((line) => line["order.id"] === orderId && line["saga.outcome"] !== undefined)
    expect(finished, orderId).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: expect.stringMatching(new RegExp(`^saga ${outcome} after \\d+ ms`)),
        "saga.outcome": outcome,
        "saga.duration_ms": expect.any(Number)
      })
    ])
  }
  expect(orchestratorLines.filter((line) => line.event_id === deadEventId && line.level === "WARN")).toEqual([
    expect.objectContaining({
      message: expect.stringContaining("event dead-lettered: unknown event_type \"NoSuchEvent\""),
      event_type: "NoSuchEvent"
    })
  ])
}

/** No secret in any output or export. */
export const expectNoSecret = (otlp: OtlpReceiver, processes: Processes, refused: WorkerProcess) => {
  const everything = [...services.map((name) => processes[name].output()), refused.output(), otlp.rawText()]
    .join(
      "\n"
    )
  expect(otlp.rawText().length).toBeGreaterThan(0)
  for (const value of [serviceToken, edgeKey, orchestratorPassword, wrongOrdersPassword]) {
    expect(everything).not.toContain(value)
  }
}

import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Metric, Option, Schedule, Tracer } from "effect"
import { afterEach } from "vitest"
import * as Metrics from "../src/outbox/Metrics.ts"
import { expectNoLeakedWorkers, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"

afterEach(expectNoLeakedWorkers)

/** A tracer that keeps every span it starts, on top of Effect's own. */
const recordingTracer = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  return { tracer, spans }
})

const producerTrace = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" }
const traceparent = `00-${producerTrace.traceId}-${producerTrace.spanId}-01`

layer(WorkerTestDatabase, { excludeTestServices: true })("worker telemetry", (it) => {
  it.effect("spans continue the producer's trace on attempt 1, link to it later, and start a root without headers", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const { spans, tracer } = yield* recordingTracer
      const processedBefore = (yield* Metric.value(Metrics.processedFor("Record", "done"))).count
      const retriedBefore = (yield* Metric.value(Metrics.processedFor("FailUntil", "retry"))).count
      const batchesBefore = (yield* Metric.value(Metrics.claimBatchSize)).count
      const lagBefore = (yield* Metric.value(Metrics.lagFor("Record"))).count

      yield* startWorker(db, { WORKER_ID: "telemetry", RETRY_BASE_MS: "50", RETRY_MAX_MS: "50" }, { tracer })
      const headers = JSON.stringify({ traceparent, tracestate: "vendor=1" })
      const rows = yield* sql<{ id: string; event_id: string; event_type: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, headers)
        values ('test', 'otel-1', 'Record', '{}', ${headers}::jsonb),
               ('test', 'otel-2', 'FailUntil', '{"attempt": 2}', ${headers}::jsonb),
               ('test', 'otel-3', 'Record', '{}', '{}')
        returning id::text as id, event_id::text as event_id, event_type`
      yield* sql<
        { n: number }
      >`select count(*)::int as n from outbox where aggregate_id like 'otel-%' and status = 'done'`.pipe(
        Effect.filterOrFail((r) => r[0]!.n === 3),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout("20 seconds")
      )
      const processSpans = (eventId: string) =>
        spans.filter((s) => s.name.startsWith("outbox.process ") && s.attributes.get("outbox.event_id") === eventId)

      const [withHeaders, retried, withoutHeaders] = rows
      const [first] = processSpans(withHeaders!.event_id)
      expect(first!.name).toBe("outbox.process Record")
      expect(first!.traceId).toBe(producerTrace.traceId)
      expect(Option.map(first!.parent, (p) => p.spanId)).toEqual(Option.some(producerTrace.spanId))
      expect(first!.attributes.get("outbox.attempt")).toBe(1)
      expect(first!.attributes.get("outbox.aggregate_id")).toBe("otel-1")

      const attempts = processSpans(retried!.event_id)
      expect(attempts.map((s) => s.attributes.get("outbox.attempt"))).toEqual([1, 2])
      expect(attempts[0]!.traceId).toBe(producerTrace.traceId)
      expect(Option.isNone(attempts[1]!.parent)).toBe(true)
      expect(attempts[1]!.traceId).not.toBe(producerTrace.traceId)
      expect(attempts[1]!.links.map((l) => l.span.spanId)).toEqual([producerTrace.spanId])

      const [root] = processSpans(withoutHeaders!.event_id)
      expect(Option.isNone(root!.parent)).toBe(true)
      expect(root!.links).toEqual([])

      const claims = spans.filter((s) => s.name === "outbox.claim")
      expect(claims.length).toBeGreaterThan(0)
      expect(claims.every((s) => Option.isNone(s.parent))).toBe(true)
      expect(claims.some((s) => (s.attributes.get("outbox.batch_size") as number) > 0)).toBe(true)

      expect((yield* Metric.value(Metrics.processedFor("Record", "done"))).count - processedBefore).toBe(2)
      expect((yield* Metric.value(Metrics.processedFor("FailUntil", "retry"))).count - retriedBefore).toBe(1)
      expect((yield* Metric.value(Metrics.claimBatchSize)).count).toBeGreaterThan(batchesBefore)
      expect((yield* Metric.value(Metrics.lagFor("Record"))).count - lagBefore).toBe(2)
      expect((yield* Metric.value(Metrics.listenerConnected)).value).toBe(1)
      const notifyWakeups = (yield* Metric.value(Metrics.wakeupsFor("notify", true))).count
      const pollWakeups = (yield* Metric.value(Metrics.wakeupsFor("poll", true))).count
      expect(notifyWakeups + pollWakeups).toBeGreaterThan(0)
    }).pipe(Effect.scoped))

  it.effect("outbox.rows counts pending, processing and dead rows, reported by one replica", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* sql`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, available_at)
        values ('test', 'gauge-1', 'Record', '{}', now() + interval '1 day'),
               ('test', 'gauge-2', 'Record', '{}', now() + interval '1 day')`
      yield* sql`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, last_error)
        values ('test', 'gauge-3', 'Record', '{}', 'dead', 'test')`
      const expected = yield* sql<{ pending: number; dead: number }>`
        select count(*) filter (where status = 'pending')::int as pending,
               count(*) filter (where status = 'dead')::int as dead from outbox`
      yield* startWorker(db, { WORKER_ID: "a-gauge" })
      const gauges = Effect.all({
        pending: Metric.value(Metrics.rowsFor("pending")),
        dead: Metric.value(Metrics.rowsFor("dead"))
      })
      const reported = yield* gauges.pipe(
        Effect.filterOrFail((g) => g.pending.value === expected[0]!.pending && g.dead.value === expected[0]!.dead),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout("10 seconds")
      )
      expect(reported.pending.value).toBeGreaterThanOrEqual(2)
      expect(reported.dead.value).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.scoped))
})

/**
 * The spans of OrderPlaced sagas as the real OpenTelemetry SDK exports them: the worker claims
 * the outbox row, runs the saga against test doubles of the services (the real typed HTTP
 * clients, so their client spans are the real ones), and an in-memory exporter keeps every span.
 */
import { OrderPlaced } from "@ecommerce/contracts"
import { TestDatabase } from "@ecommerce/db/testing"
import { rolePool } from "@ecommerce/http-kit/testing"
import { inMemoryTracing, type ReadableSpan, SpanKind, SpanStatusCode } from "@ecommerce/telemetry/test-support"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schedule, Schema } from "effect"
import { SagaWorkerLive } from "../../src/sagas/SagaWorkerLive.ts"
import { makeFakeServices, reply, type Script } from "../saga-fixtures/FakeServices.ts"
import { EngineDatabase, insertLedgerRow, ledgerOf, newOrder, sagaOf } from "../saga-fixtures/fixtures.ts"

const producer = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" }
const traceHeaders = { traceparent: `00-${producer.traceId}-${producer.spanId}-01`, tracestate: "shop=edge,vendor=1" }

const captureDeclined = reply.error(402, { _tag: "PaymentDeclined", stage: "capture", message: "card declined" })

/**
 * One OrderPlaced event through a real worker (in this process, with the sagas registered) whose
 * downstream calls `script` answers, traced by the real SDK; returns once the ledger left PENDING,
 * with every span exported so far.
 */
const traceSaga = (options: {
  readonly script: Script
  readonly headers: Record<string, string>
  readonly worker?: Record<string, string>
}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const db = yield* TestDatabase
    const order = newOrder()
    yield* insertLedgerRow(order)
    const fake = makeFakeServices(order, options.script)
    const tracing = inMemoryTracing("orchestrator")
    yield* Layer.build(
      SagaWorkerLive(fake.layer).pipe(
        Layer.provide(rolePool("orchestrator")),
        Layer.provide(tracing.layer),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({
          DATABASE_URL: db.url,
          WORKER_ID: "trace-test",
          SAGA_INLINE_RETRY_MAX_MS: "0",
          ...options.worker
        })))
      )
    )
    const [row] = yield* sql<{ eventId: string }>`
      insert into outbox (aggregate_type, aggregate_id, event_type, payload, headers)
      values ('order', ${order.orderId}, 'OrderPlaced', ${JSON.stringify(Schema.encodeSync(OrderPlaced)(order))}::jsonb,
              ${JSON.stringify(options.headers)}::jsonb)
      returning event_id::text as "eventId"`
    yield* ledgerOf(order.orderId).pipe(
      Effect.filterOrFail((ledger) => ledger?.status !== "PENDING"),
      Effect.retry(Schedule.spaced("50 millis")),
      Effect.timeout("30 seconds")
    )
    const saga = yield* sagaOf(row!.eventId)
    // The saga span ends after the ledger's transaction; the outbox span after the handler.
    const spans = yield* Effect.sync(() => tracing.exporter.getFinishedSpans()).pipe(
      Effect.filterOrFail((spans) =>
        spans.filter((s) => s.name === "outbox.process OrderPlaced" && s.attributes["outbox.event_id"] === row!.eventId)
          .some((s) => s.status.code === SpanStatusCode.OK)
      ),
      Effect.retry(Schedule.spaced("20 millis")),
      Effect.timeout("10 seconds")
    )
    return { order, saga, eventId: row!.eventId, spans: tree(spans) }
  }).pipe(Effect.scoped)

/** Spans by name and by parent, for assertions on the shape of a trace. */
const tree = (all: ReadonlyArray<ReadableSpan>) => {
  const id = (s: ReadableSpan) => s.spanContext().spanId
  const childrenOf = (span: ReadableSpan) =>
    all.filter((s) => s.parentSpanContext?.spanId === id(span))
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  const named = (name: string) => all.filter((s) => s.name === name)
  const one = (name: string) => {
    const found = named(name)
    expect(found.map((s) => s.name), `exactly one ${name}`).toEqual([name])
    return found[0]!
  }
  return { all, id, childrenOf, named, one }
}

layer(EngineDatabase(), { excludeTestServices: true, timeout: 120_000 })("the trace of a saga", (it) => {
  it.effect("a compensating saga: one span tree under the producer's trace, the failed step in error", () =>
    Effect.gen(function*() {
      const run = yield* traceSaga({
        headers: traceHeaders,
        script: (call) => call.endpoint === "POST /payments/capture" ? captureDeclined : undefined
      })
      expect(run.saga.state).toBe("compensated")
      const { childrenOf, id, one } = run.spans

      const outbox = one("outbox.process OrderPlaced")
      expect(outbox.spanContext().traceId).toBe(producer.traceId)
      expect(outbox.parentSpanContext?.spanId).toBe(producer.spanId)
      expect(outbox.kind).toBe(SpanKind.CONSUMER)
      expect(outbox.spanContext().traceState?.serialize()).toBe(traceHeaders.tracestate)

      const saga = one("saga.OrderPlaced")
      expect(saga.parentSpanContext?.spanId).toBe(id(outbox))
      expect(saga.attributes).toMatchObject({
        "saga.id": run.saga.id,
        "saga.type": "OrderPlaced",
        "order.id": run.order.orderId,
        "event.id": run.eventId,
        "saga.state": "compensated"
      })
      expect(saga.status.code).toBe(SpanStatusCode.OK)

      // Steps and compensations are the saga span's children, in the order they ran.
      const sagaChildren = childrenOf(saga).filter((s) => s.name.startsWith("saga."))
      expect(sagaChildren.map((s) => s.name)).toEqual([
        "saga.step.authorization",
        "saga.step.verifyOrder",
        "saga.step.createOrder",
        "saga.step.reserveStock",
        "saga.step.capturePayment",
        "saga.compensate.reserveStock",
        "saga.compensate.createOrder",
        "saga.compensate.authorization"
      ])
      for (const span of sagaChildren) {
        const [, kind, name] = span.name.split(".")
        const phase = kind === "step" ? "forward" : "compensation"
        expect(span.attributes, span.name).toMatchObject({
          "saga.step.attempt": 1,
          "idempotency.key": `${run.saga.id}:${name}:${phase}`,
          "downstream.service": expect.stringMatching(/^(orders|inventory|payments)$/)
        })
        // Every span of the saga continues the producer's trace, tracestate included.
        expect(span.spanContext().traceId).toBe(producer.traceId)
        expect(span.spanContext().traceState?.serialize()).toBe(traceHeaders.tracestate)
      }
      expect(one("saga.step.reserveStock").attributes["downstream.service"]).toBe("inventory")

      const capture = one("saga.step.capturePayment")
      expect(capture.attributes["saga.step.outcome"]).toBe("rejected")
      expect(capture.status.code).toBe(SpanStatusCode.ERROR)
      expect(capture.status.message).toMatch(/PaymentDeclined/)
      expect(capture.events.map((e) => e.name)).toContain("exception")
      for (const name of ["saga.step.createOrder", "saga.compensate.createOrder", "saga.compensate.authorization"]) {
        expect(one(name).status.code, name).toBe(SpanStatusCode.OK)
        expect(one(name).attributes["saga.step.outcome"], name).toBe("succeeded")
      }

      // The HTTP client spans sit under their step; the declined capture's carries the 402.
      const clientSpans = (step: ReadableSpan) =>
        childrenOf(step).filter((s) => s.kind === SpanKind.CLIENT).map((
          s
        ) => [s.name, s.attributes["http.response.status_code"] ?? s.attributes["http.status"]])
      expect(clientSpans(one("saga.step.createOrder"))).toEqual([["http.client POST", 201]])
      expect(clientSpans(capture)).toEqual([["http.client POST", 402]])
      expect(clientSpans(one("saga.compensate.reserveStock"))).toEqual([["http.client DELETE", 200]])
      expect(clientSpans(one("saga.compensate.authorization"))).toEqual([
        ["http.client GET", 200],
        ["http.client POST", 200]
      ])
    }))

  it.effect("a parked saga's later run starts a new trace that links to the producer's", () =>
    Effect.gen(function*() {
      const run = yield* traceSaga({
        headers: traceHeaders,
        // One 503: the retry is longer than SAGA_INLINE_RETRY_MAX_MS (0), so the saga parks.
        script: (call) =>
          call.endpoint === "POST /payments/capture" && call.previous === 0 ? reply.unavailable : undefined
      })
      expect(run.saga.state).toBe("completed")
      const runs = run.spans.named("outbox.process OrderPlaced")
        .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
      expect(runs).toHaveLength(2)
      const [parked, resumed] = runs as [ReadableSpan, ReadableSpan]
      expect(parked.spanContext().traceId).toBe(producer.traceId)
      expect(parked.status.code).toBe(SpanStatusCode.ERROR)
      expect(parked.status.message).toMatch(/^parked: saga .* waits \d+ ms before attempt 2 of capturePayment/)

      expect(resumed.parentSpanContext).toBeUndefined()
      expect(resumed.spanContext().traceId).not.toBe(producer.traceId)
      expect(resumed.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[
        producer.traceId,
        producer.spanId
      ]])
      expect(resumed.status.code).toBe(SpanStatusCode.OK)

      const sagaRuns = run.spans.named("saga.OrderPlaced")
      expect(sagaRuns.map((s) => s.parentSpanContext?.spanId).sort()).toEqual(
        [run.spans.id(parked), run.spans.id(resumed)].sort()
      )
      // The first run: the capture's transient failure, and the park as an event on its span.
      const captures = run.spans.named("saga.step.capturePayment")
        .sort((a, b) => Number(a.attributes["saga.step.attempt"]) - Number(b.attributes["saga.step.attempt"]))
      expect(captures.map((s) => [s.attributes["saga.step.attempt"], s.attributes["saga.step.outcome"]])).toEqual([
        [1, "transient"],
        [2, "succeeded"]
      ])
      expect(captures[0]!.spanContext().traceId).toBe(producer.traceId)
      expect(captures[0]!.status.code).toBe(SpanStatusCode.ERROR)
      expect(captures[1]!.spanContext().traceId).toBe(resumed.spanContext().traceId)
      // Steps the first run finished are not run again, so the second trace holds only what is left.
      expect(
        run.spans.childrenOf(sagaRuns.find((s) => s.parentSpanContext?.spanId === run.spans.id(resumed))!)
          .map((s) => s.name).filter((name) => name.startsWith("saga."))
      ).toEqual(["saga.step.capturePayment", "saga.step.confirmOrder"])
      const parkEvents = run.spans.all.flatMap((s) => s.events.filter((e) => e.name === "saga.park"))
      expect(parkEvents).toHaveLength(1)
      expect(parkEvents[0]!.attributes).toMatchObject({ "saga.step": "capturePayment", "saga.phase": "forward" })
    }))

  it.effect("a row without headers starts a new root trace", () =>
    Effect.gen(function*() {
      const run = yield* traceSaga({ headers: {}, script: () => undefined })
      expect(run.saga.state).toBe("completed")
      const outbox = run.spans.one("outbox.process OrderPlaced")
      expect(outbox.parentSpanContext).toBeUndefined()
      expect(outbox.links).toEqual([])
      const saga = run.spans.one("saga.OrderPlaced")
      expect(saga.parentSpanContext?.spanId).toBe(run.spans.id(outbox))
      expect(saga.spanContext().traceId).toBe(outbox.spanContext().traceId)
    }))
})

/**
 * A service's telemetry without an exporter: the server span continues an incoming `traceparent`,
 * the SQL spans of the request sit in the same trace under it, and `http.server.request.duration`
 * counts each request under its route pattern and status.
 */
import { TestDatabaseLive } from "@ecommerce/db/testing"
import { requestDuration } from "@ecommerce/http-kit"
import { serverUrl, testServer, testToken } from "@ecommerce/http-kit/testing"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Metric, MetricState, Option, Redacted, Tracer } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { OrdersApiLive } from "../../../services/orders/src/Http.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

const spans: Array<Tracer.Span> = []

/** The default tracer, keeping every span it starts. */
const RecordingTracer = Layer.unwrapEffect(Effect.map(Effect.tracer, (base) =>
  Layer.setTracer(Tracer.make({
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    },
    context: base.context
  }))))

const ancestorIds = (span: Tracer.AnySpan) => {
  const ids: Array<string> = []
  let current = span
  while (current._tag === "Span" && Option.isSome(current.parent)) {
    current = current.parent.value
    ids.push(current.spanId)
  }
  return ids
}

class OrdersUrl extends Context.Tag("test/OrdersUrl")<OrdersUrl, string>() {}

const TestLive = Layer.effect(OrdersUrl, serverUrl).pipe(
  Layer.provide(testServer({ api: OrdersApiLive, role: "orders" })),
  Layer.provide(RecordingTracer),
  Layer.provideMerge(TestDatabaseLive(adminUrl, template))
)

const count = (method: string, route: string, status: string) =>
  Metric.value(requestDuration.pipe(
    Metric.tagged("http.request.method", method),
    Metric.tagged("http.route", route),
    Metric.tagged("http.response.status_code", status)
  )).pipe(Effect.map((state: MetricState.MetricState.Histogram) => state.count))

layer(TestLive, { excludeTestServices: true })("service telemetry", (it) => {
  it.effect("the server span continues traceparent; SQL spans are in the same trace beneath it", () =>
    Effect.gen(function*() {
      const url = yield* OrdersUrl
      const traceId = randomUUID().replaceAll("-", "")
      const orderId = randomUUID()
      const response = yield* Effect.promise(() =>
        fetch(`${url}/orders/${orderId}`, {
          headers: {
            authorization: `Bearer ${Redacted.value(testToken)}`,
            traceparent: `00-${traceId}-00f067aa0ba902b7-01`
          }
        })
      )
      expect(response.status).toBe(404)
      const inTrace = spans.filter((span) => span.traceId === traceId)
      const server = inTrace.find((span) => span.kind === "server")
      expect(server, inTrace.map((s) => s.name).join(", ")).toBeDefined()
      expect(Option.map(server!.parent, (parent) => parent.spanId)).toEqual(Option.some("00f067aa0ba902b7"))
      expect(server!.attributes.get("http.route")).toBe("/orders/:order_id")
      const sqlSpans = inTrace.filter((span) => span.name === "sql.execute")
      expect(sqlSpans.length).toBeGreaterThan(0)
      // Each SQL span descends from the server span.
      for (const sql of sqlSpans) expect(ancestorIds(sql)).toContain(server!.spanId)
    }))

  it.effect("http.server.request.duration counts each request by method, route pattern and status", () =>
    Effect.gen(function*() {
      const url = yield* OrdersUrl
      const before = yield* count("GET", "/orders/:order_id", "404")
      const health = yield* count("GET", "/health", "200")
      for (let i = 0; i < 3; i++) {
        yield* Effect.promise(() =>
          fetch(`${url}/orders/${randomUUID()}`, { headers: { authorization: `Bearer ${Redacted.value(testToken)}` } })
        )
      }
      yield* Effect.promise(() => fetch(`${url}/health`))
      expect(yield* count("GET", "/orders/:order_id", "404")).toBe(before + 3)
      expect(yield* count("GET", "/health", "200")).toBe(health + 1)
    }))
})

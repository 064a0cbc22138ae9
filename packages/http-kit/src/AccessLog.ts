import { HttpServerError, HttpServerRequest } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Clock, Effect, Exit, Metric, Option } from "effect"
import { requestDuration } from "./Metrics.ts"

/** The route pattern the router matched, which it records on the server span; none for a 404. */
const routeOf = (span: Option.Option<{ readonly attributes: ReadonlyMap<string, unknown> }>) =>
  Option.match(span, {
    onNone: () => "unmatched",
    onSome: (s) => {
      const route = s.attributes.get("http.route")
      return typeof route === "string" ? route : "unmatched"
    }
  })

/**
 * The duration histogram tagged for one method, route and status. Tagging builds a new metric key
 * (three tag objects and their hashes) on every call, so each combination is built once; there are
 * few (Node's parser knows a fixed set of methods, routes are patterns), and past `maxTagged` the
 * key is built per request rather than the map growing.
 */
const tagged = new Map<string, Metric.Metric.Histogram<number>>()
const maxTagged = 1024
const durationFor = (method: string, route: string, status: number) => {
  const id = `${method} ${route} ${status}`
  const cached = tagged.get(id)
  if (cached !== undefined) return cached
  const metric = requestDuration.pipe(
    Metric.tagged("http.request.method", method),
    Metric.tagged("http.route", route),
    Metric.tagged("http.response.status_code", String(status))
  )
  if (tagged.size < maxTagged) tagged.set(id, metric)
  return metric
}

/**
 * One log line per request, `POST /orders/:order_id/cancellation 200 3.1ms trace=<trace id>`, and the `http.server.request.duration` metric. Replaces HttpMiddleware.logger,
 * which logs up to four lines per request with the raw URL. Headers are never logged. Runs as the
 * server middleware, inside the server span that @effect/platform opens (and continues from an
 * incoming `traceparent`), so the span and the trace id are in scope.
 */
export const accessLog = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const start = yield* Clock.currentTimeNanos
    const exit = yield* Effect.exit(app)
    const durationMs = Number((yield* Clock.currentTimeNanos) - start) / 1e6
    const span = yield* Effect.option(Effect.currentSpan)
    const route = routeOf(span)
    const status = HttpServerError.exitResponse(exit).status
    yield* Metric.update(durationFor(request.method, route, status), durationMs)
    // Everything in the message, no annotations: the pretty logger prints each annotation on a line
    // of its own, which is how HttpMiddleware.logger came to four lines per request.
    const traceId = Option.match(span, { onNone: () => "none", onSome: (s) => s.traceId })
    const line = `${request.method} ${route} ${status} ${durationMs.toFixed(1)}ms trace=${traceId}`
    yield* status >= 500 && Exit.isFailure(exit) ? Effect.logError(line, exit.cause) : Effect.logInfo(line)
    return yield* exit
  })

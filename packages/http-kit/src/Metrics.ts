import { Metric, MetricBoundaries } from "effect"

/**
 * `http.server.request.duration` (ms), tagged per request with `http.request.method`, `http.route`
 * (the route pattern, e.g. `/orders/:order_id`, so the tag stays bounded) and `http.response.status_code`.
 */
export const requestDuration = Metric.histogram(
  "http.server.request.duration",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 14 }),
  "Duration of HTTP server requests, in milliseconds"
)

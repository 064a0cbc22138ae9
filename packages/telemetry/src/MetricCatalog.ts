/**
 * Every metric the system emits, with its instrument kind, unit and labels: the contract the
 * README documents and the dashboard queries. The metrics themselves are defined with Effect's
 * `Metric.*` beside the code that records them; the exporter (MetricUnits.ts) takes units from here.
 *
 * Units follow OpenTelemetry (UCUM): `ms` for durations; counts carry an annotation in braces such as
 * `{saga}`, which Prometheus drops from names, so a counter is `saga_started_total` and a 0/1 gauge is
 * `outbox_listener_connected`, not `..._ratio` (Prometheus appends `_ratio` to gauges with unit `1`).
 */
export interface MetricSpec {
  readonly name: string
  readonly kind: "counter" | "histogram" | "gauge"
  readonly unit: string
  readonly description: string
  readonly labels: ReadonlyArray<string>
}

export const metricCatalog: ReadonlyArray<MetricSpec> = [
  { name: "saga.started", kind: "counter", unit: "{saga}", description: "Sagas started.", labels: ["saga.type"] },
  {
    name: "saga.finished",
    kind: "counter",
    unit: "{saga}",
    description: "Sagas finished, by outcome: completed, compensated or needs_attention.",
    labels: ["saga.type", "saga.outcome"]
  },
  {
    name: "saga.duration",
    kind: "histogram",
    unit: "ms",
    description: "Time from a saga's start to its outcome.",
    labels: ["saga.type", "saga.outcome"]
  },
  {
    name: "saga.step.duration",
    kind: "histogram",
    unit: "ms",
    description: "One call of a step or compensation, by its outcome: succeeded, rejected, unknown or transient.",
    labels: ["saga.type", "saga.step", "saga.phase", "saga.step.outcome"]
  },
  {
    name: "saga.step.retries",
    kind: "counter",
    unit: "{retry}",
    description: "Retries of a step (phase forward) or compensation (phase compensate).",
    labels: ["saga.type", "saga.step", "saga.phase"]
  },
  {
    name: "circuit.state",
    kind: "gauge",
    unit: "{state}",
    description: "Circuit breaker state per downstream service: 0 closed, 1 half_open, 2 open.",
    labels: ["downstream.service"]
  },
  {
    name: "circuit.transitions",
    kind: "counter",
    unit: "{transition}",
    description: "Circuit breaker state changes, by the state entered.",
    labels: ["downstream.service", "circuit.state"]
  },
  {
    name: "outbox.lag",
    kind: "histogram",
    unit: "ms",
    description: "Claim time minus the row's created_at.",
    labels: ["event.type"]
  },
  {
    name: "outbox.events.processed",
    kind: "counter",
    unit: "{event}",
    description: "Handler runs by result: done, retry, dead or parked.",
    labels: ["event.type", "outbox.result"]
  },
  {
    name: "outbox.rows",
    kind: "gauge",
    unit: "{row}",
    description: "Outbox rows by status (pending, processing, dead), from one query run by one replica at a time.",
    labels: ["outbox.status"]
  },
  {
    name: "outbox.claim.batch_size",
    kind: "histogram",
    unit: "{row}",
    description: "Rows returned by one claim.",
    labels: []
  },
  {
    name: "outbox.wakeups",
    kind: "counter",
    unit: "{wakeup}",
    description: "Times the fetcher woke, by source (notify, poll, retry_timer, capacity) and whether it found work.",
    labels: ["wakeup.source", "wakeup.found_work"]
  },
  {
    name: "outbox.listener.connected",
    kind: "gauge",
    unit: "{connection}",
    description: "1 while this replica's LISTEN connection is up, else 0.",
    labels: []
  },
  {
    name: "http.server.request.duration",
    kind: "histogram",
    unit: "ms",
    description: "Time to answer one HTTP request, in every service.",
    labels: ["http.request.method", "http.route", "http.response.status_code"]
  }
]

const promUnits: Record<string, string> = { ms: "milliseconds", s: "seconds", By: "bytes" }

/**
 * The series names Prometheus stores for a metric received over OTLP with its default translation
 * (`UnderscoreEscapingWithSuffixes`, as in grafana/otel-lgtm): dots become underscores, the unit's
 * Prometheus name is appended unless it is an annotation in braces, counters end in `_total`,
 * histograms are `_bucket`, `_sum` and `_count`.
 */
export const prometheusNames = (spec: Pick<MetricSpec, "name" | "kind" | "unit">): ReadonlyArray<string> => {
  const tokens = spec.name.split(/[^a-zA-Z0-9:]+/).filter((token) => token !== "")
  const unit = /[{}]/.test(spec.unit) || spec.unit === "1" ? "" : (promUnits[spec.unit] ?? spec.unit)
  if (unit !== "" && !tokens.includes(unit)) tokens.push(unit)
  if (spec.kind === "counter") return [[...tokens.filter((token) => token !== "total"), "total"].join("_")]
  if (spec.kind === "gauge" && spec.unit === "1") return [[...tokens, "ratio"].join("_")]
  const base = tokens.join("_")
  return spec.kind === "histogram" ? [`${base}_bucket`, `${base}_sum`, `${base}_count`] : [base]
}

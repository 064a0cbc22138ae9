/**
 * The Grafana dashboard and the code cannot drift: every series the dashboard queries must be the
 * Prometheus name of a metric the code defines (`Metric.counter/histogram/gauge("...")` anywhere in
 * packages/*\/src and services/*\/src), as grafana/otel-lgtm's Prometheus names it after OTLP.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { metricCatalog, type MetricSpec, prometheusNames } from "../src/MetricCatalog.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (entry === "node_modules") return []
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : []
  })

const kinds = { counter: "counter", histogram: "histogram", timer: "histogram", gauge: "gauge" } as const

/** Metrics defined in the code: name and instrument kind, from the `Metric.*("name"` calls. */
const definedInCode = (): Array<Pick<MetricSpec, "name" | "kind">> =>
  ["packages", "services"].flatMap((top) =>
    readdirSync(join(root, top)).flatMap((workspace) => {
      const src = join(root, top, workspace, "src")
      try {
        statSync(src)
      } catch {
        return []
      }
      return sourceFiles(src).flatMap((file) =>
        [...readFileSync(file, "utf8").matchAll(/Metric\.(counter|histogram|timer|gauge)\(\s*"([^"]+)"/g)].map((m) => ({
          name: m[2]!,
          kind: kinds[m[1] as keyof typeof kinds]
        }))
      )
    })
  )

const promqlWords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "le"
])

/** The metric names in a PromQL expression: identifiers that are neither functions, keywords nor labels. */
export const metricNamesIn = (expr: string): Array<string> => {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "\"\"")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
  return [...bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)]
    .map((m) => m[0])
    .filter((word, i, all) => !promqlWords.has(word) && all.indexOf(word) === i && !/^\d/.test(word))
}

interface Panel {
  readonly title?: string
  readonly datasource?: { readonly uid?: string }
  readonly targets?: ReadonlyArray<{ readonly expr?: string; readonly datasource?: { readonly uid?: string } }>
  readonly panels?: ReadonlyArray<Panel>
}

const dashboard = JSON.parse(readFileSync(join(root, "grafana/dashboards/saga-orchestrator.json"), "utf8")) as {
  readonly panels: ReadonlyArray<Panel>
}
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])])
const queried = panels.flatMap((panel) =>
  (panel.targets ?? [])
    .filter((target) => (target.datasource?.uid ?? panel.datasource?.uid) === "prometheus" && target.expr)
    .flatMap((target) => metricNamesIn(target.expr!).map((name) => ({ panel: panel.title ?? "?", name })))
)

const catalogByName = new Map(metricCatalog.map((spec) => [spec.name, spec]))
const unitOf = (metric: Pick<MetricSpec, "name" | "kind">) => catalogByName.get(metric.name)?.unit ?? "1"

describe("the Grafana dashboard", () => {
  it("finds metric names in PromQL", () => {
    expect(metricNamesIn(`sum by (le, saga_type) (rate(saga_duration_milliseconds_bucket{job="x"}[$__rate_interval]))`))
      .toEqual(["saga_duration_milliseconds_bucket"])
    expect(metricNamesIn(`max by (outbox_status) (outbox_rows) / on (instance) up`)).toEqual(["outbox_rows", "up"])
  })

  it("names series as Prometheus does for OTLP metrics (the translator's documented examples)", () => {
    expect(prometheusNames({ name: "http.server.request.duration", kind: "histogram", unit: "s" }))
      .toEqual([
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_sum",
        "http_server_request_duration_seconds_count"
      ])
    expect(prometheusNames({ name: "requests.count", kind: "counter", unit: "1" })).toEqual(["requests_count_total"])
    expect(prometheusNames({ name: "memory.usage", kind: "gauge", unit: "By" })).toEqual(["memory_usage_bytes"])
    expect(prometheusNames({ name: "cpu.utilization", kind: "gauge", unit: "1" })).toEqual(["cpu_utilization_ratio"])
    expect(prometheusNames({ name: "outbox.rows", kind: "gauge", unit: "{row}" })).toEqual(["outbox_rows"])
  })

  it("queries only metrics the code defines", () => {
    const code = definedInCode()
    // Until the instrumented code is merged, no `Metric.*` definition exists: check against the
    // contract's list (MetricCatalog.ts) instead. Once any exists, the code is the reference.
    const reference = code.length > 0 ? code : metricCatalog
    const known = new Set(reference.flatMap((metric) => prometheusNames({ ...metric, unit: unitOf(metric) })))
    expect(queried.length).toBeGreaterThan(10)
    expect(queried.filter(({ name }) => !known.has(name))).toEqual([])
  })

  it("shows every metric of the catalog", () => {
    const names = new Set(queried.map(({ name }) => name))
    expect(
      metricCatalog.filter((spec) => !prometheusNames(spec).some((name) => names.has(name))).map((spec) => spec.name)
    )
      .toEqual([])
  })

  it("the code defines catalog metrics with the catalog's instrument kind", () => {
    const mismatched = definedInCode().filter((metric) =>
      catalogByName.has(metric.name) && catalogByName.get(metric.name)!.kind !== metric.kind
    )
    expect(mismatched).toEqual([])
  })
})

import { barChart } from "./Charts.ts"
import { fmt, type Json, table } from "./Format.ts"

/** Drain throughput, CPU and statements per event against graphile-worker, with its chart. */
export const drainSection = (r: Json, out: Array<string>, charts: Record<string, string>) => {
  const d = r.drain
  out.push("## Drain")
  out.push("")
  out.push(
    `${fmt(d.settings.rows)} no-op events inserted in one statement (graphile-worker's defaults: ${
      fmt(d.settings.defaultRows)
    }), ` +
      `timed from the insert to the last one done; ${d.settings.rounds} interleaved rounds, medians${
        d.settings.settle ? ` (${d.settings.settle})` : ""
      }. Ours: the production build ` +
      "of the orchestrator with default settings (its Ping handler). graphile-worker tuned: `concurrentJobs: 16`, " +
      "`localQueue: { size: 500 }`, `completeJobBatchDelay: 0`, `failJobBatchDelay: 0`; default: concurrency 1, no local queue, no batching. " +
      "CPU: the worker processes' user+system time (/proc), Postgres: every server process's (the postmaster, with reaped " +
      "backends, and its live children). Statements: pg_stat_statements calls of the workers' login (top level, utility included)."
  )
  drainTables(d, out)
  if (d.telemetry) drainTelemetry(d.telemetry, out)
  if (d.telemetrySampled) drainTelemetrySampled(d.telemetrySampled, out)
  charts["drain.svg"] = drainChart(d)
  out.push("![drain throughput](benchmarks/drain.svg)")
  out.push("")
}

/** The medians per system and process count, then ours against graphile-worker's two configurations. */
const drainTables = (d: Json, out: Array<string>) => {
  out.push("")
  out.push(table(
    [
      "system",
      "processes",
      "events/s",
      "worker CPU µs/event",
      "Postgres CPU µs/event",
      "statements / 1,000 events",
      "peak RSS MB"
    ],
    d.medians.map((
      x: Json
    ) => [
      x.system,
      String(x.processes),
      fmt(x.eventsPerSecond),
      fmt(x.workerCpuUsPerEvent, 1),
      fmt(x.postgresCpuUsPerEvent, 1),
      fmt(x.statementsPer1000, 1),
      fmt(x.peakRssMb, 1)
    ])
  ))
  out.push("")
  out.push(table(
    [
      "processes",
      "ours / graphile tuned",
      "ours / graphile default",
      "CPU per event, ours / tuned",
      "statements, ours / tuned"
    ],
    d.ratios.map((
      x: Json
    ) => [
      String(x.processes),
      `${fmt(x.throughputVsTuned, 2)}×`,
      `${fmt(x.throughputVsDefault, 2)}×`,
      `${fmt(x.cpuPerEventVsTuned, 2)}×`,
      `${fmt(x.statementsVsTuned, 2)}×`
    ])
  ))
  out.push("")
}

/** The same-round ratios, when the run recorded rounds. */
const sameRoundText = (t: Json) =>
  t.sameRoundOnVsOff
    ? `; same-round ratios ${fmt(t.sameRoundOnVsOff.median, 2)}× median, ${fmt(t.sameRoundOnVsOff.min, 2)}–${
      fmt(t.sameRoundOnVsOff.max, 2)
    }× over ${t.sameRoundOnVsOff.rounds} rounds`
    : ""

/** The telemetry variant: the same drain with OTLP export on, against off. */
const drainTelemetry = (t: Json, out: Array<string>) => {
  out.push(
    `Telemetry on (\`ours-telemetry\`: traces, metrics and logs over OTLP/HTTP to a loopback receiver, SDK defaults), ` +
      `1 process: ${fmt(t.eventsPerSecondOn)} events/s against ${fmt(t.eventsPerSecondOff)} off, ` +
      `${fmt(t.throughputOnVsOff, 2)}×${sameRoundText(t)} (worker CPU ${fmt(t.workerCpuUsPerEventOn, 1)} against ${
        fmt(t.workerCpuUsPerEventOff, 1)
      } µs/event).`
  )
  out.push("")
}

/** The same with the standard sampler keeping a tenth of new traces. */
const drainTelemetrySampled = (t: Json, out: Array<string>) => {
  out.push(
    `Telemetry on with a tenth of traces sampled (\`ours-sampled\`: OTEL_TRACES_SAMPLER=${t.settings.OTEL_TRACES_SAMPLER}, ` +
      `OTEL_TRACES_SAMPLER_ARG=${t.settings.OTEL_TRACES_SAMPLER_ARG}), 1 process: ${
        fmt(t.eventsPerSecondOn)
      } events/s, ` +
      `${fmt(t.throughputOnVsOff, 2)}× of off${sameRoundText(t)} (worker CPU ${
        fmt(t.workerCpuUsPerEventOn, 1)
      } µs/event).`
  )
  out.push("")
}

/** Throughput by process count, one bar per system. */
const drainChart = (d: Json) => {
  const systems = ["ours", "graphile-tuned", "graphile-default"]
  return barChart(
    "Drain throughput by process count (medians)",
    "events/s",
    ["1 process", "2 processes"],
    systems.map((system) => ({
      name: system,
      values: [1, 2].map((p) =>
        d.medians.find((x: Json) => x.system === system && x.processes === p)?.eventsPerSecond ?? null
      )
    }))
  )
}

/** The drain runs' medians per system and process count, ours against the peers, and telemetry's cost. */
import { median, round, sameRoundRatios } from "../../Harness.ts"
import type { DrainRun } from "./Measure.ts"
import { sampledSettings, type System } from "./Systems.ts"

/** `variant` against `ours`, one process each, round by round: the median and range of those ratios. */
const sameRound = (runs: ReadonlyArray<DrainRun & { readonly round?: number }>, variant: System) => {
  const ratios = sameRoundRatios(
    runs,
    (r) => r.system === variant && r.processes === 1,
    (r) => r.system === "ours" && r.processes === 1,
    (r) => r.eventsPerSecond
  )
  return ratios.length === 0 ? null : {
    median: round(median(ratios), 2),
    min: round(Math.min(...ratios), 2),
    max: round(Math.max(...ratios), 2),
    rounds: ratios.length
  }
}

export const summarize = (runs: ReadonlyArray<DrainRun & { readonly round?: number }>) => {
  const groups = new Map<string, Array<DrainRun>>()
  for (const run of runs) {
    const key = `${run.system}/${run.processes}`
    groups.set(key, [...(groups.get(key) ?? []), run])
  }
  const medians = [...groups.entries()].map(([key, group]) => {
    const pick = (f: (r: DrainRun) => number | null) => round(median(group.map((r) => f(r) ?? NaN)), 1)
    return {
      key,
      system: group[0]!.system,
      processes: group[0]!.processes,
      eventsPerSecond: pick((r) => r.eventsPerSecond),
      workerCpuUsPerEvent: pick((r) => r.workerCpuUsPerEvent),
      postgresCpuUsPerEvent: pick((r) => r.postgresCpuUsPerEvent),
      statementsPer1000: pick((r) => r.statementsPer1000),
      peakRssMb: pick((r) => r.peakRssMb),
      runs: group.length
    }
  })
  const find = (system: System, processes: number) =>
    medians.find((m) => m.system === system && m.processes === processes)
  const ratio = (a: number | null | undefined, b: number | null | undefined) => a && b ? round(a / b, 2) : null
  const ratios = [1, 2].map((processes) => {
    const ours = find("ours", processes)
    const tuned = find("graphile-tuned", processes)
    const plain = find("graphile-default", processes)
    const oursCpu = ours ? (ours.workerCpuUsPerEvent ?? 0) + (ours.postgresCpuUsPerEvent ?? 0) : null
    const tunedCpu = tuned ? (tuned.workerCpuUsPerEvent ?? 0) + (tuned.postgresCpuUsPerEvent ?? 0) : null
    return {
      processes,
      throughputVsTuned: ratio(ours?.eventsPerSecond, tuned?.eventsPerSecond),
      throughputVsDefault: ratio(ours?.eventsPerSecond, plain?.eventsPerSecond),
      cpuPerEventVsTuned: ratio(oursCpu, tunedCpu),
      statementsVsTuned: ratio(ours?.statementsPer1000, tuned?.statementsPer1000)
    }
  })
  // Telemetry's cost, measured in the same interleaved rounds: the issue asks for under 10 %.
  const withTelemetry = find("ours-telemetry", 1)
  const without = find("ours", 1)
  const telemetry = withTelemetry === undefined ? null : {
    processes: 1,
    eventsPerSecondOff: without?.eventsPerSecond ?? null,
    eventsPerSecondOn: withTelemetry.eventsPerSecond,
    throughputOnVsOff: ratio(withTelemetry.eventsPerSecond, without?.eventsPerSecond),
    sameRoundOnVsOff: sameRound(runs, "ours-telemetry"),
    workerCpuUsPerEventOff: without?.workerCpuUsPerEvent ?? null,
    workerCpuUsPerEventOn: withTelemetry.workerCpuUsPerEvent
  }
  const sampled = find("ours-sampled", 1)
  const telemetrySampled = sampled === undefined ? null : {
    processes: 1,
    settings: sampledSettings,
    eventsPerSecondOff: without?.eventsPerSecond ?? null,
    eventsPerSecondOn: sampled.eventsPerSecond,
    throughputOnVsOff: ratio(sampled.eventsPerSecond, without?.eventsPerSecond),
    sameRoundOnVsOff: sameRound(runs, "ours-sampled"),
    workerCpuUsPerEventOff: without?.workerCpuUsPerEvent ?? null,
    workerCpuUsPerEventOn: sampled.workerCpuUsPerEvent
  }
  return { medians, ratios, telemetry, telemetrySampled }
}

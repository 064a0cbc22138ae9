/** One measured round of the sagas part, per system, and the medians the report reads. */
import { median, quantile, round, sameRoundRatios } from "../../Harness.ts"

/** `ours-telemetry`: ours with its orchestrator exporting traces, metrics and logs over OTLP (the services do not). */
export type System = "ours" | "ours-telemetry" | "dbos" | "bare"
/** Steps per saga, the same for every system (see sagas.ts's header). */
export const sagaSteps = 6

export interface Round {
  readonly system: System
  readonly sagas: number
  readonly seconds: number
  readonly sagasPerSecond: number
  readonly runnerCpuMsPerSaga: number | null
  readonly postgresCpuMsPerSaga: number | null
  readonly servicesCpuMsPerSaga: number | null
  readonly statementsPerSaga: number | null
  readonly statementsPerStep: number | null
  /** Ours only: the saga engine's own statements per step, without the outbox worker's (claims, completions, heartbeats, reaper). */
  readonly sagaStatementsPerStep?: number | null
  readonly notConfirmed?: number
  /** Which round of the part (results before the telemetry comparison lack it). */
  readonly round?: number
}

export const perSaga = (
  system: System,
  sagas: number,
  seconds: number,
  cpuMs: number,
  pgCpuMs: number,
  servicesCpuMs: number,
  statements: number,
  notConfirmed?: number
): Round => ({
  system,
  sagas,
  seconds: round(seconds, 3)!,
  sagasPerSecond: round(sagas / seconds, 1)!,
  runnerCpuMsPerSaga: round(cpuMs / sagas, 2),
  postgresCpuMsPerSaga: round(pgCpuMs / sagas, 2),
  servicesCpuMsPerSaga: round(servicesCpuMs / sagas, 2),
  statementsPerSaga: round(statements / sagas, 2),
  statementsPerStep: round(statements / sagas / sagaSteps, 2),
  ...(notConfirmed === undefined ? {} : { notConfirmed })
})

export const summarize = (rounds: ReadonlyArray<Round>, latencies: Record<System, ReadonlyArray<number>>) => {
  const of = (system: System) => {
    const group = rounds.filter((r) => r.system === system)
    const pick = (f: (r: Round) => number | null) => round(median(group.map((r) => f(r) ?? NaN)), 2)
    return {
      sagasPerSecond: pick((r) => r.sagasPerSecond),
      runnerCpuMsPerSaga: pick((r) => r.runnerCpuMsPerSaga),
      postgresCpuMsPerSaga: pick((r) => r.postgresCpuMsPerSaga),
      servicesCpuMsPerSaga: pick((r) => r.servicesCpuMsPerSaga),
      statementsPerSaga: pick((r) => r.statementsPerSaga),
      statementsPerStep: pick((r) => r.statementsPerStep),
      sagaStatementsPerStep: pick((r) => r.sagaStatementsPerStep ?? null),
      unloadedP50Ms: round(quantile(latencies[system], 0.5), 1),
      unloadedP99Ms: round(quantile(latencies[system], 0.99), 1)
    }
  }
  const ours = of("ours")
  const oursTelemetry = of("ours-telemetry")
  const dbos = of("dbos")
  const bare = of("bare")
  const ratio = (a: number | null, b: number | null) => a && b ? round(a / b, 2) : null
  // Telemetry on against off round by round.
  const sameRound = (value: (r: Round) => number | null) => {
    const ratios = sameRoundRatios(rounds, (r) => r.system === "ours-telemetry", (r) => r.system === "ours", value)
    return ratios.length === 0 ? null : round(median(ratios), 2)
  }
  return {
    summary: {
      ours,
      oursTelemetry,
      dbos,
      bare,
      // Telemetry's cost on real sagas, measured in the same interleaved rounds (the drain part has it on no-op events).
      telemetryOnVsOff: ratio(oursTelemetry.sagasPerSecond, ours.sagasPerSecond),
      telemetryRunnerCpuOnVsOff: ratio(oursTelemetry.runnerCpuMsPerSaga, ours.runnerCpuMsPerSaga),
      telemetrySameRoundOnVsOff: sameRound((r) => r.sagasPerSecond),
      telemetrySameRoundRunnerCpuOnVsOff: sameRound((r) => r.runnerCpuMsPerSaga),
      oursVsDbos: ratio(ours.sagasPerSecond, dbos.sagasPerSecond),
      oursVsBare: ratio(ours.sagasPerSecond, bare.sagasPerSecond)
    }
  }
}

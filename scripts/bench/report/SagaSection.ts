import { barChart } from "./Charts.ts"
import { fmt, type Json, table } from "./Format.ts"

/** Sagas end to end against DBOS Transact and bare calls, with its chart. */
export const sagasSection = (r: Json, out: Array<string>, charts: Record<string, string>) => {
  const s = r.sagas.summary
  const st = r.sagas.settings
  out.push("## Sagas end to end")
  out.push("")
  out.push(
    `The real services (production build, one process each) on the same Postgres. Per round ${
      fmt(st.orders)
    } checkouts are ` +
      "placed through the edge API while no saga runner is up; then one system runs all the OrderPlaced sagas (a burst); " +
      `${st.rounds} interleaved rounds, medians. Ours: one orchestrator replica with defaults (events released in one statement ` +
      "after it started). DBOS Transact: a workflow with one step per call (+ the ledger update as a step), on a queue with " +
      `concurrency ${st.concurrency} and a ${st.dbosPollMs} ms polling interval. Bare calls: the same five HTTP calls at the ` +
      "same concurrency with no persistence. Unloaded latency: one saga at a time " +
      `(${
        fmt(st.unloaded)
      }); ours from the outbox row's commit to the saga's last write, DBOS from enqueue to its last step.`
  )
  out.push("")
  const row = (
    name: string,
    x: Json
  ) => [
    name,
    fmt(x.sagasPerSecond, 1),
    fmt(x.runnerCpuMsPerSaga, 2),
    fmt(x.postgresCpuMsPerSaga, 2),
    fmt(x.servicesCpuMsPerSaga, 2),
    fmt(x.statementsPerSaga, 1),
    fmt(x.statementsPerStep, 2),
    fmt(x.unloadedP50Ms, 1),
    fmt(x.unloadedP99Ms, 1)
  ]
  out.push(table(
    [
      "system",
      "sagas/s",
      "runner CPU ms/saga",
      "Postgres CPU ms/saga",
      "services CPU ms/saga",
      "statements/saga",
      "statements/step",
      "unloaded p50 ms",
      "unloaded p99 ms"
    ],
    [
      row("ours", s.ours),
      // Runs before this system existed have no such row.
      ...(s.oursTelemetry?.sagasPerSecond == null ? [] : [row("ours, telemetry on", s.oursTelemetry)]),
      row(`DBOS Transact (${st.dbosPollMs} ms poll)`, s.dbos),
      row("bare calls", s.bare)
    ]
  ))
  out.push("")
  out.push(
    `Ours / DBOS: ${fmt(s.oursVsDbos, 2)}×; ours / bare calls: ${
      fmt(s.oursVsBare, 2)
    }×. Statements per step divide by ${st.sagaSteps} steps for every system (ours: authorization, verifyOrder, createOrder, reserveStock, capturePayment, confirmOrder; DBOS: verifyOrder's GET, the four calls and the ledger update); DBOS's count both its system database and the ledger update.`
  )
  out.push("")
  if (s.oursTelemetry?.sagasPerSecond != null) {
    out.push(
      "Telemetry on (`ours, telemetry on`: the orchestrator exports traces, metrics and logs over OTLP/HTTP with the " +
        "SDK's defaults to a loopback receiver; the services do not export; no unloaded latency measured): " +
        `${fmt(s.telemetryOnVsOff, 2)}× the sagas per second of telemetry off, ${
          fmt(s.telemetryRunnerCpuOnVsOff, 2)
        }× its orchestrator CPU per saga${
          s.telemetrySameRoundOnVsOff == null
            ? ""
            : ` (same-round medians ${fmt(s.telemetrySameRoundOnVsOff, 2)}× and ${
              fmt(s.telemetrySameRoundRunnerCpuOnVsOff, 2)
            }×)`
        }.`
    )
    out.push("")
  }
  charts["sagas.svg"] = barChart("Saga throughput, burst of checkouts (medians)", "sagas/s", ["sagas/s"], [
    { name: "ours", values: [s.ours.sagasPerSecond] },
    { name: `DBOS (${st.dbosPollMs} ms poll)`, values: [s.dbos.sagasPerSecond] },
    { name: "bare calls", values: [s.bare.sagasPerSecond] }
  ])
  out.push("![saga throughput](benchmarks/sagas.svg)")
  out.push("")
}

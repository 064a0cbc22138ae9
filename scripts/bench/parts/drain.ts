/**
 * Drain: N no-op events inserted in one statement (its commit wakes the workers), timed until the
 * last is done, with 1 and 2 worker processes. Ours with default settings (the production build of
 * the real orchestrator, its Ping handler) against graphile-worker tuned and with its defaults,
 * interleaved round by round on the same server, each run starting from a settled server (settleServer).
 * Per run: events/s, worker and Postgres CPU per event, statements per 1,000 events
 * (pg_stat_statements, the workers' login only), peak worker RSS.
 */
import { OtlpReceiver } from "../../../packages/telemetry/test-support/OtlpReceiver.ts"
import { roundOrder, type Server } from "../Harness.ts"
import { graphileSettings } from "./drain/Graphile.ts"
import { drainOnce, type DrainRun } from "./drain/Measure.ts"
import { summarize } from "./drain/Summary.ts"
import {
  closeDrain,
  type DrainContext,
  settleDescription,
  settleServer,
  setupDrain,
  type System
} from "./drain/Systems.ts"

// What the other parts (claim, rss, wake) use of this one.
export { graphileSettings } from "./drain/Graphile.ts"
export { drainOnce, type DrainRun } from "./drain/Measure.ts"
export { closeDrain, type DrainContext, setupDrain, startWorkers, type System } from "./drain/Systems.ts"

export interface DrainOptions {
  readonly rounds: number
  readonly rows: number
  /** graphile-worker's defaults (concurrency 1) drain ~30× slower: fewer rows keep the run short. */
  readonly defaultRows: number
  readonly log: (line: string) => void
}

export const drain = async (server: Server, options: DrainOptions) => {
  // Bodies are counted, not kept or parsed: the receiver costs the machine as little as possible.
  const receiver = await OtlpReceiver.start({ keepBodies: false })
  const context: DrainContext = {
    ...(await setupDrain(server)),
    // The SDK's defaults otherwise (5 s span batches, 60 s metric exports): what an operator gets.
    telemetry: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }
  }
  const runs: Array<DrainRun & { readonly round: number; readonly after: string }> = []
  const plan: Array<[System, number, number]> = [
    ["ours", 1, options.rows],
    ["ours-telemetry", 1, options.rows],
    ["ours-sampled", 1, options.rows],
    ["graphile-tuned", 1, options.rows],
    ["ours", 2, options.rows],
    ["graphile-tuned", 2, options.rows],
    ["graphile-default", 1, options.defaultRows]
  ]
  try {
    let previous = "none"
    for (let r = 1; r <= options.rounds; r++) {
      // Interleaved, in a different order each round, so drift on a shared machine hits every
      // system and none always follows the same one; each run records the one before it.
      for (const [system, processes, rows] of roundOrder(plan, r)) {
        await settleServer(context)
        const run = { ...(await drainOnce(context, system, processes, rows)), round: r, after: previous }
        previous = `${system} ×${processes}`
        runs.push(run)
        options.log(
          `drain round ${r}: ${system} ×${processes}: ${run.eventsPerSecond} ev/s, CPU ${run.workerCpuUsPerEvent}+${run.postgresCpuUsPerEvent} µs/ev, ` +
            `${run.statementsPer1000} stmts/1k, RSS ${run.peakRssMb} MB`
        )
      }
    }
  } finally {
    await closeDrain(context)
    await receiver.stop()
  }
  options.log(`drain: the OTLP receiver got ${JSON.stringify(receiver.counts)}`)
  return {
    settings: {
      rounds: options.rounds,
      rows: options.rows,
      defaultRows: options.defaultRows,
      graphileSettings,
      // How the runs were ordered and settled, for the report (older results lack it).
      settle: settleDescription
    },
    otlpReceived: receiver.counts,
    runs,
    ...summarize(runs)
  }
}

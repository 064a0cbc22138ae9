/** The systems the drain part compares, each on its own database of one server. */
import { type Server, sleep } from "../../Harness.ts"
import { type GraphileSystem, type GraphileTarget, insertGraphile, setupGraphile, startGraphile } from "./Graphile.ts"
import { insertOurs, type OursTarget, setupOurs, startOurs } from "./Ours.ts"

/**
 * `ours-telemetry`: ours exporting traces, metrics and logs over OTLP/HTTP to a loopback receiver;
 * `ours-sampled`: the same with the standard sampler keeping a tenth of new traces.
 */
export type System = "ours" | "ours-telemetry" | "ours-sampled" | GraphileSystem

export const isOurs = (system: System): system is "ours" | "ours-telemetry" | "ours-sampled" =>
  system === "ours" || system === "ours-telemetry" || system === "ours-sampled"

/** The sampler of `ours-sampled`, read by the OpenTelemetry SDK itself. */
export const sampledSettings = {
  OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
  OTEL_TRACES_SAMPLER_ARG: "0.1"
}

export interface DrainContext {
  readonly server: Server
  readonly ours: OursTarget
  readonly graphile: GraphileTarget
  /** The settings that turn ours into `ours-telemetry` (its receiver's endpoint), when that system runs. */
  readonly telemetry?: Record<string, string>
}

export const setupDrain = async (server: Server): Promise<DrainContext> => ({
  server,
  ours: await setupOurs(server),
  graphile: await setupGraphile(server)
})

export const closeDrain = async (context: DrainContext) => {
  await context.ours.harness.end()
  await context.graphile.harness.end()
}

/**
 * Before a run: the previous run's writes checkpointed, no autovacuum worker busy (up to 30 s), and
 * a second's pause, so a run does not pay for the background work its predecessor left (a 50,000-row
 * drain leaves WAL to flush and a table to vacuum). It matters most with the order only rotated,
 * when each system always follows the same one: `ours-sampled`, which exports a tenth of the spans,
 * measured 0.84× and 0.90× of `ours` while following `ours-telemetry`, and 0.94× and 0.95× in the
 * first two settled runs with every other round reversed (drain.ts).
 */
export const settleServer = async (context: DrainContext) => {
  const harness = context.ours.harness
  await harness.query("checkpoint")
  for (let waited = 0; waited < 30_000; waited += 100) {
    const busy = await harness.query(
      "select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker'"
    )
    if (busy.rows[0].n === 0) break
    await sleep(100)
  }
  await sleep(1_000)
}

/** Starts `processes` workers of a system and resolves once each is ready to be woken. */
export const startWorkers = (
  context: DrainContext,
  system: System,
  processes: number,
  env: Record<string, string> = {}
) =>
  isOurs(system)
    ? startOurs(context.server, context.ours, processes, {
      ...(system === "ours-telemetry" || system === "ours-sampled" ? context.telemetry : {}),
      ...(system === "ours-sampled" ? sampledSettings : {}),
      ...env
    })
    : startGraphile(context.server, context.graphile, system, processes, env)

/** Inserts `rows` no-op events for a system in one statement: its commit wakes the workers. */
export const insertRows = (context: DrainContext, system: System, rows: number) =>
  isOurs(system) ? insertOurs(context.ours.harness, rows) : insertGraphile(context.graphile.harness, rows)

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
 * Before a run: VACUUM both systems' databases (what the last run updated or deleted) and a
 * CHECKPOINT (what it wrote), then a second's pause, so a run does not pay for background work its
 * predecessor left: autovacuum would otherwise reach a drained table a minute or two later, during
 * some other run (its busy workers cannot be waited for: right after a run there are none yet).
 * The harness logs in as a superuser (harness/Postgres.ts), which both statements need.
 */
export const settleServer = async (context: DrainContext) => {
  await context.ours.harness.query("vacuum")
  await context.graphile.harness.query("vacuum")
  await context.ours.harness.query("checkpoint")
  await sleep(1_000)
}

/** What the report says of how the runs were taken. */
export const settleDescription =
  "each round in its own shuffled order; before each run, VACUUM of both systems' databases, a CHECKPOINT and 1 s"

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

/** One drain run: start the workers, insert the rows, time them until the last is done. */
import {
  type Child,
  postgresCpuMs,
  processCpuMs,
  resetStatements,
  round,
  rssMb,
  statementCount,
  waitFor
} from "../../Harness.ts"
import { graphileDrained } from "./Graphile.ts"
import { oursDrained, oursRunTwice, resetOurs } from "./Ours.ts"
import { type DrainContext, insertRows, isOurs, startWorkers, type System } from "./Systems.ts"

export interface DrainRun {
  readonly system: System
  readonly processes: number
  readonly rows: number
  readonly seconds: number
  readonly eventsPerSecond: number
  readonly workerCpuUsPerEvent: number | null
  readonly postgresCpuUsPerEvent: number | null
  readonly statementsPer1000: number | null
  readonly peakRssMb: number | null
  readonly rowsRunTwice?: number
}

/** Peak RSS of the workers, sampled every 100 ms until `stop`. */
const sampleRss = (workers: ReadonlyArray<Child>) => {
  let peakRss = 0
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, ...workers.map((w) => rssMb(w.pid)))
  }, 100)
  return { stop: () => clearInterval(sampler), peak: () => peakRss }
}

export const drainOnce = async (
  context: DrainContext,
  system: System,
  processes: number,
  rows: number,
  options: { readonly keepHistory?: boolean } = {}
): Promise<DrainRun> => {
  const target = isOurs(system) ? context.ours : context.graphile
  if (isOurs(system)) await resetOurs(target.harness, options.keepHistory === true)
  const workers = await startWorkers(context, system, processes)
  const cpu = () => workers.reduce((sum, w) => sum + processCpuMs(w.pid), 0)
  const rss = sampleRss(workers)
  if (context.server.statements) await resetStatements(target.harness)
  const cpu0 = cpu()
  const pg0 = postgresCpuMs(context.server.postmaster)
  const started = performance.now()
  await insertRows(context, system, rows)
  const doneQuery = isOurs(system) ? oursDrained : graphileDrained
  await waitFor(
    `${system} to drain ${rows} rows`,
    async () => (await target.harness.query(doneQuery)).rows[0].done,
    600_000,
    20
  )
  const seconds = (performance.now() - started) / 1000
  const workerCpu = cpu() - cpu0
  const postgresCpu = postgresCpuMs(context.server.postmaster) - pg0
  rss.stop()
  const statements = context.server.statements
    ? await statementCount(target.harness, target.database, ["postgres"])
    : NaN
  const rowsRunTwice = isOurs(system) ? await oursRunTwice(target.harness) : undefined
  await Promise.all(workers.map((w: Child) => w.stop()))
  return {
    system,
    processes,
    rows,
    seconds: round(seconds, 3)!,
    eventsPerSecond: round(rows / seconds)!,
    workerCpuUsPerEvent: round((workerCpu * 1000) / rows, 1),
    postgresCpuUsPerEvent: round((postgresCpu * 1000) / rows, 1),
    statementsPer1000: round((statements * 1000) / rows, 1),
    peakRssMb: round(rss.peak(), 1),
    ...(rowsRunTwice === undefined ? {} : { rowsRunTwice })
  }
}

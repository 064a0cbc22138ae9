/**
 * Memory over a long drain: one process drains 100,000 no-op events (ours with defaults, graphile-worker
 * tuned); RSS sampled every 100 ms: idle before, peak, and idle 2 s after the drain.
 */
import { median, round, rssMb, type Server, sleep, waitFor } from "../Harness.ts"
import { closeDrain, setupDrain, startWorkers, type System } from "./drain.ts"

export interface RssOptions {
  readonly rows: number
  readonly log: (line: string) => void
}

export const rss = async (server: Server, options: RssOptions) => {
  const context = await setupDrain(server)
  const measure = async (system: System) => {
    const target = system === "ours" ? context.ours : context.graphile
    if (system === "ours") await target.harness.query("truncate outbox, worker_heartbeats")
    const [worker] = await startWorkers(context, system, 1)
    await sleep(2000)
    const idleMb = rssMb(worker!.pid)
    const samples: Array<number> = []
    const sampler = setInterval(() => samples.push(rssMb(worker!.pid)), 100)
    await (system === "ours"
      ? target.harness.query(
        `insert into outbox (aggregate_type, aggregate_id, event_type, payload)
         select 'bench', 'rss-' || g, 'Ping', '{}'::jsonb from generate_series(1, $1::int) g`,
        [options.rows]
      )
      : target.harness.query(
        `select graphile_worker.add_jobs(array(
           select ('noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec
           from generate_series(1, $1::int)))`,
        [options.rows]
      ))
    const doneQuery = system === "ours"
      ? "select not exists (select 1 from outbox where status in ('pending', 'processing')) as done"
      : "select not exists (select 1 from graphile_worker._private_jobs) as done"
    await waitFor(`${system} to drain`, async () => (await target.harness.query(doneQuery)).rows[0].done, 600_000, 50)
    clearInterval(sampler)
    await sleep(2000)
    const afterMb = rssMb(worker!.pid)
    await worker!.stop()
    const result = {
      idleMb: round(idleMb, 1),
      peakMb: round(Math.max(...samples), 1),
      medianDuringMb: round(median(samples), 1),
      afterMb: round(afterMb, 1)
    }
    options.log(`rss ${system}: ${JSON.stringify(result)}`)
    return result
  }
  try {
    const ours = await measure("ours")
    const graphileTuned = await measure("graphile-tuned")
    return { settings: { rows: options.rows }, summary: { ours, graphileTuned } }
  } finally {
    await closeDrain(context)
  }
}

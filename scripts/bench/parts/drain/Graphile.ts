/**
 * The drain part's peer: graphile-worker (scripts/bench/runners/graphile.ts), tuned and with its
 * defaults, in a database of its own.
 */
import type pg from "pg"
import { compile, connect, freshDatabase, launch, type Server, sleep } from "../../Harness.ts"

export type GraphileSystem = "graphile-tuned" | "graphile-default"

export const graphileSettings: Record<GraphileSystem, Record<string, string>> = {
  "graphile-tuned": { BENCH_GW_CONCURRENCY: "16", BENCH_GW_LOCAL_QUEUE: "500", BENCH_GW_BATCH_DELAY: "0" },
  "graphile-default": {}
}

export interface GraphileTarget {
  readonly database: string
  readonly harness: pg.Client
  readonly runner: string
}

export const setupGraphile = async (server: Server): Promise<GraphileTarget> => {
  await freshDatabase(server, "bench_graphile")
  const runner = await compile("scripts/bench/runners/graphile.ts")
  // The first start installs graphile-worker's schema.
  const first = launch([runner], { DATABASE_URL: server.url("bench_graphile") }, "graphile-worker")
  await first.line(/^ready$/)
  await first.stop()
  return { database: "bench_graphile", harness: await connect(server.harnessUrl("bench_graphile")), runner }
}

/** Starts `processes` workers and resolves once each is ready to be woken. */
export const startGraphile = async (
  server: Server,
  target: GraphileTarget,
  system: GraphileSystem,
  processes: number,
  env: Record<string, string>
) => {
  const workers = Array.from(
    { length: processes },
    () =>
      launch([target.runner], {
        DATABASE_URL: server.url(target.database),
        ...graphileSettings[system],
        ...env
      }, system)
  )
  await Promise.all(workers.map((w) => w.line(/^ready$/)))
  await sleep(200)
  return workers
}

export const insertGraphile = (harness: pg.Client, rows: number) =>
  harness.query(
    `select graphile_worker.add_jobs(array(
       select ('noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec
       from generate_series(1, $1::int)))`,
    [rows]
  )

export const graphileDrained = "select not exists (select 1 from graphile_worker._private_jobs) as done"

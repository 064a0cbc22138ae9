/**
 * Ours in the drain part: the production build of the real orchestrator with default settings (its
 * Ping handler), in a database of its own.
 */
import type pg from "pg"
import { awaitHeartbeat, connect, freshDatabase, launch, ourEntry, runOnce, type Server, sleep } from "../../Harness.ts"

export interface OursTarget {
  readonly database: string
  readonly harness: pg.Client
}

export const setupOurs = async (server: Server): Promise<OursTarget> => {
  await freshDatabase(server, "bench_ours")
  await runOnce(ourEntry.migrate, { DATABASE_URL: server.url("bench_ours") })
  return { database: "bench_ours", harness: await connect(server.harnessUrl("bench_ours")) }
}

let workerSeq = 0

/** Starts `processes` replicas and resolves once each is ready to be woken. */
export const startOurs = async (server: Server, target: OursTarget, processes: number, env: Record<string, string>) => {
  const ids = Array.from({ length: processes }, () => `bench-${++workerSeq}`)
  const workers = ids.map((id) =>
    launch([ourEntry.orchestrator], {
      DATABASE_URL: server.url(target.database),
      LOG_LEVEL: "Warn",
      WORKER_ID: id,
      ...env
    }, id)
  )
  await awaitHeartbeat(target.harness, ids)
  await sleep(500) // the heartbeat comes before LISTEN is up
  return workers
}

/** Before a run: no replica left registered, and (unless `keepHistory`) an empty outbox. */
export const resetOurs = (harness: pg.Client, keepHistory: boolean) =>
  harness.query(keepHistory ? "truncate worker_heartbeats" : "truncate outbox, worker_heartbeats")

export const insertOurs = (harness: pg.Client, rows: number) =>
  harness.query(
    `insert into outbox (aggregate_type, aggregate_id, event_type, payload)
     select 'bench', 'bench-' || g, 'Ping', '{}'::jsonb from generate_series(1, $1::int) g`,
    [rows]
  )

export const oursDrained = "select not exists (select 1 from outbox where status in ('pending', 'processing')) as done"

export const oursRunTwice = async (harness: pg.Client) =>
  Number((await harness.query("select count(*) from outbox where attempts <> 1")).rows[0].count)

/**
 * Our orchestrator in the sagas part: one replica, default settings. The placed events are parked
 * (available_at = infinity) while it starts, and released in one statement (+ NOTIFY);
 * throughput = N / (release → the last saga's final write), server clock.
 */
import { Redacted } from "effect"
import type pg from "pg"
import { withCredentials } from "../../../../packages/db/src/DatabaseUrl.ts"
import {
  awaitHeartbeat,
  launch,
  ourEntry,
  postgresCpuMs,
  processCpuMs,
  resetStatements,
  round,
  sleep,
  statementCount,
  waitFor
} from "../../Harness.ts"
import { database, type Rig } from "./Rig.ts"
import { perSaga, type Round, sagaSteps } from "./Rounds.ts"

/** Starts one replica (default settings, worker id `saga-bench-<seq>`) once it beats. */
const startOrchestrator = async (rig: Rig, seq: number, env: Record<string, string> = {}) => {
  const id = `saga-bench-${seq}`
  const child = launch([ourEntry.orchestrator], {
    DATABASE_URL: withCredentials(rig.url, "orchestrator", Redacted.make("orchestrator-dev-password")),
    LOG_LEVEL: "Warn",
    WORKER_ID: id,
    ...rig.serviceUrls,
    ...env
  }, id)
  await awaitHeartbeat(rig.harness, [id])
  await sleep(500)
  return child
}

/** The orchestrator's statements that are the outbox worker's: every one naming its two tables. */
const workerStatementCount = async (harness: pg.Client) =>
  Number(
    (await harness.query(
      `select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements s
       join pg_database d on d.oid = s.dbid join pg_roles r on r.oid = s.userid
       where d.datname = $1 and r.rolname = 'orchestrator' and s.query ~* '(outbox|worker_heartbeats)'`,
      [database]
    )).rows[0].n
  )

/** Releases the parked events in one statement (+ NOTIFY): when, by the server's clock. */
const releasePlaced = async (harness: pg.Client) =>
  (await harness.query<{ at: Date }>(
    `with released as (
       update outbox set available_at = now() where status = 'pending' and event_type = 'OrderPlaced' returning 1)
     select clock_timestamp() as at, pg_notify('order_events', 'bench') from released limit 1`
  )).rows[0]!.at

/** The sagas' last final write, by the server's clock. */
const lastSagaWrite = async (harness: pg.Client, ids: ReadonlyArray<string>) =>
  (await harness.query<{ at: Date }>(
    "select max(updated_at) as at from saga_instances where aggregate_id = any($1)",
    [ids]
  ))
    .rows[0]!.at

/** One saga placed alone: its checkout's outbox row → the saga's final write, server clock (ms). */
const unloadedLatency = async (rig: Rig) => {
  const [id] = await rig.place(1)
  await waitFor("an unloaded saga", async () => (await rig.pendingOf([id!])) === 0, 60_000, 5)
  const row = (await rig.harness.query<{ ms: number }>(
    `select extract(epoch from (s.updated_at - o.created_at)) * 1000 as ms
     from saga_instances s join outbox o on o.event_id = s.trigger_event_id where s.aggregate_id = $1`,
    [id]
  )).rows[0]!
  return Number(row.ms)
}

/**
 * `telemetry`: the settings that make `ours-telemetry` (an OTLP endpoint); its orchestrator exports
 * traces, metrics and logs with the SDK's defaults, the services stay as they are.
 */
export const makeOurs = (rig: Rig, telemetry: Record<string, string>) => {
  const { harness, server } = rig
  let workerSeq = 0

  const measure = async (n: number, system: "ours" | "ours-telemetry" = "ours"): Promise<Round> => {
    const ids = await rig.place(n)
    await harness.query(
      "update outbox set available_at = 'infinity' where status = 'pending' and event_type = 'OrderPlaced'"
    )
    const orchestrator = await startOrchestrator(rig, ++workerSeq, system === "ours-telemetry" ? telemetry : {})
    const cpu0 = processCpuMs(orchestrator.pid)
    const pg0 = postgresCpuMs(server.postmaster)
    const svc0 = rig.servicesCpu()
    if (server.statements) await resetStatements(harness)
    const released = await releasePlaced(harness)
    await waitFor("our sagas", async () => (await rig.pendingOf(ids)) === 0, 600_000, 50)
    const cpu = processCpuMs(orchestrator.pid) - cpu0
    const pgCpu = postgresCpuMs(server.postmaster) - pg0
    const svcCpu = rig.servicesCpu() - svc0
    const statements = server.statements ? await statementCount(harness, database, ["orchestrator"]) : NaN
    const workerStatements = server.statements ? await workerStatementCount(harness) : NaN
    const last = await lastSagaWrite(harness, ids)
    const notConfirmed = await rig.notConfirmedOf(ids)
    await orchestrator.stop()
    const seconds = (last.getTime() - released.getTime()) / 1000
    return {
      ...perSaga(system, ids.length, seconds, cpu, pgCpu, svcCpu, statements, notConfirmed),
      sagaStatementsPerStep: round((statements - workerStatements) / ids.length / sagaSteps, 2)
    }
  }

  /** One saga at a time: checkout's outbox row → the saga's final write, server clock. */
  const unloaded = async (n: number) => {
    const orchestrator = await startOrchestrator(rig, ++workerSeq)
    const latencies: Array<number> = []
    try {
      for (let i = 0; i < n; i++) latencies.push(await unloadedLatency(rig))
    } finally {
      await orchestrator.stop()
    }
    return latencies
  }

  return { measure, unloaded }
}

/**
 * Pruning cost against history, for the claim part: one pass of the done-row pruner, timed at the
 * history the claim part builds (1,000 and 1,000,000 done rows). A pass is what makePruner
 * (services/orchestrator/src/outbox/Maintenance.ts) runs once a minute: `OutboxRepo.pruneDone`
 * (the repository's own statement, not a copy) repeated while a batch comes back full. Two cases:
 * - idle: every done row is inside the retention window (the usual state: a week of history), so
 *   the pass deletes nothing;
 * - expiring: one batch of rows just past the retention window was added before the pass, which
 *   deletes them (a full batch, then an empty one).
 * Per case: the median wall time of a pass (from this process, loopback round trips included) and,
 * from pg_stat_statements, the statement's mean execution time and shared blocks touched per call.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import type pg from "pg"
import { makeOutboxRepo } from "../../../services/orchestrator/src/outbox/OutboxRepo.ts"
import { median, resetStatements, round, type Server } from "../Harness.ts"

/** makePruner's batch size and DONE_RETENTION_HOURS's default (WorkerConfig). */
const batch = 500
const retentionHours = 168

export interface PruneCase {
  /** Median wall time of one pass, ms. */
  readonly passMs: number | null
  readonly passesMs: ReadonlyArray<number>
  /** Statements per pass and rows deleted per pass (the last sample's). */
  readonly statements: number
  readonly deleted: number
  /** pg_stat_statements over every pass of the case: mean ms and shared blocks per call. */
  readonly statementMeanMs: number | null
  readonly blocksPerCall: number | null
}

export interface PruneAt {
  readonly doneRows: number
  readonly idle: PruneCase
  readonly expiring: PruneCase
}

const pass = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = makeOutboxRepo(sql, { workerId: "bench-prune", leaseMs: 2_000 })
  let statements = 0
  let deleted = 0
  for (;;) {
    const n = yield* repo.pruneDone(retentionHours, batch)
    statements++
    deleted += n
    if (n !== batch) return { statements, deleted }
  }
})

const addExpired = (harness: pg.Client, tag: string) =>
  harness.query(
    `insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, attempts, processed_at)
     select 'history', 'expired-' || $1 || '-' || g, 'Ping', '{}'::jsonb, 'done', 1,
            now() - ($2::int + 1) * interval '1 hour'
     from generate_series(1, $3::int) g`,
    [tag, retentionHours, batch]
  )

const pruneStatement = async (harness: pg.Client, server: Server, database: string) => {
  if (!server.statements) return { statementMeanMs: null, blocksPerCall: null }
  const rows = (await harness.query<{ calls: string; mean: number; blocks: string }>(
    `select s.calls, s.mean_exec_time as mean, s.shared_blks_hit + s.shared_blks_read as blocks
     from pg_stat_statements s join pg_database d on d.oid = s.dbid
     where d.datname = $1 and s.query ~* '^\\s*select\\s+outbox_prune_done\\('`,
    [database]
  )).rows
  const calls = rows.reduce((sum, r) => sum + Number(r.calls), 0)
  if (calls === 0) return { statementMeanMs: null, blocksPerCall: null }
  return {
    statementMeanMs: round(rows.reduce((sum, r) => sum + r.mean * Number(r.calls), 0) / calls, 3),
    blocksPerCall: round(rows.reduce((sum, r) => sum + Number(r.blocks), 0) / calls, 1)
  }
}

/** Times `samples` passes of each case against the outbox as it is now. */
export const measurePrune = async (
  server: Server,
  database: string,
  harness: pg.Client,
  samples: number
): Promise<PruneAt> => {
  await harness.query("analyze outbox")
  const doneRows = Number(
    (await harness.query<{ n: string }>("select count(*) as n from outbox where status = 'done'")).rows[0]!.n
  )
  const runtime = ManagedRuntime.make(
    Layer.orDie(PgClient.layer({ url: Redacted.make(server.url(database)), maxConnections: 1 }))
  )
  try {
    // Connects and plans once, outside the samples.
    await runtime.runPromise(pass)
    const timeCase = async (before: (sample: number) => Promise<unknown>): Promise<PruneCase> => {
      if (server.statements) await resetStatements(harness)
      const passesMs: Array<number> = []
      let last = { statements: 0, deleted: 0 }
      for (let sample = 0; sample < samples; sample++) {
        await before(sample)
        const started = performance.now()
        last = await runtime.runPromise(pass)
        passesMs.push(round(performance.now() - started, 3)!)
      }
      return {
        passMs: round(median(passesMs), 3),
        passesMs,
        ...last,
        ...(await pruneStatement(harness, server, database))
      }
    }
    const idle = await timeCase(async () => {})
    const expiring = await timeCase((sample) => addExpired(harness, `${doneRows}-${sample}`))
    return { doneRows, idle, expiring }
  } finally {
    await runtime.dispose()
  }
}

/** Large over small, for one case's pass time. */
export const pruneRatio = (small: PruneCase, large: PruneCase) =>
  small.passMs && large.passMs ? round(large.passMs / small.passMs, 2) : null

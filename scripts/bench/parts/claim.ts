/**
 * Claim cost against history: the same drain (1 replica, defaults) with 1,000 done rows in the
 * outbox and with 1,000,000, after ANALYZE. Reports the drain rate and, from pg_stat_statements,
 * the mean time of the claim statement and of any statement that deletes from the outbox (the
 * done-row pruner), each at both sizes. One pass of the pruner is also timed at each size (prune.ts),
 * before the small drain and after the large one: "pruning cost independent of history size" is
 * the ratio of the two.
 */
import type pg from "pg"
import {
  connect,
  freshDatabase,
  median,
  ourEntry,
  resetStatements,
  round,
  runOnce,
  type Server,
  topStatements
} from "../Harness.ts"
import { type DrainContext, drainOnce } from "./drain.ts"
import { measurePrune, pruneRatio } from "./prune.ts"

export interface ClaimOptions {
  readonly doneRows: number
  readonly rows: number
  /** Timed prune passes per case at each history size (default 20: a pass takes milliseconds). */
  readonly pruneSamples?: number
  readonly log: (line: string) => void
}

const addDone = (harness: pg.Client, from: number, to: number) =>
  harness.query(
    `insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, attempts, processed_at)
     select 'history', 'history-' || g, 'Ping', '{}'::jsonb, 'done', 1, now() - interval '1 hour'
     from generate_series($1::int, $2::int) g`,
    [from, to]
  )

const claimPattern = /outbox_claim|skip locked/i
const prunePattern = /delete\s+from\s+outbox/i

export const claim = async (server: Server, options: ClaimOptions) => {
  const database = "bench_claim"
  await freshDatabase(server, database)
  await runOnce(ourEntry.migrate, { DATABASE_URL: server.url(database) })
  const harness = await connect(server.harnessUrl(database))
  const context = { server, ours: { database, harness } } as unknown as DrainContext
  const measure = async (label: string) => {
    await harness.query("analyze outbox")
    const rates: Array<number> = []
    let statements: Awaited<ReturnType<typeof topStatements>> = []
    for (let run = 0; run < 2; run++) {
      if (server.statements) await resetStatements(harness)
      const result = await drainOnce(context, "ours", 1, options.rows, { keepHistory: true })
      rates.push(result.eventsPerSecond)
      if (server.statements) statements = await topStatements(harness, database, ["postgres"], 30)
      options.log(`claim ${label}: ${result.eventsPerSecond} ev/s`)
    }
    const meanOf = (pattern: RegExp) => {
      const found = statements.filter((s) => pattern.test(s.query))
      return found.length === 0 ? null : round(Math.max(...found.map((s) => s.meanMs ?? 0)), 3)
    }
    return {
      eventsPerSecond: round(median(rates)),
      claimMeanMs: meanOf(claimPattern),
      pruneMeanMs: meanOf(prunePattern),
      rates
    }
  }
  const pruneSamples = options.pruneSamples ?? 20
  const prunePass = async (label: string) => {
    const result = await measurePrune(server, database, harness, pruneSamples)
    options.log(
      `prune ${label} (${result.doneRows} done): idle pass ${result.idle.passMs} ms, expiring pass ${result.expiring.passMs} ms`
    )
    return result
  }
  try {
    await addDone(harness, 1, 1_000)
    // Pruned at exactly 1,000 done rows, then vacuumed: the drain finds the table as it would
    // have without the passes (their expiring rows are gone, and so are the dead tuples they left).
    const pruneSmall = await prunePass("1k done rows")
    await harness.query("vacuum analyze outbox")
    const small = await measure("1k done rows")
    await addDone(harness, 1_001, options.doneRows)
    const large = await measure(`${options.doneRows} done rows`)
    // After the large drain, so that it runs on the same table as before the passes existed.
    const pruneLarge = await prunePass(`${options.doneRows} done rows`)
    const summary = {
      drainRatio: round((large.eventsPerSecond ?? 0) / (small.eventsPerSecond ?? 1), 2),
      claimRatio: large.claimMeanMs && small.claimMeanMs ? round(large.claimMeanMs / small.claimMeanMs, 2) : null,
      claimMeanMs: { small: small.claimMeanMs, large: large.claimMeanMs },
      pruneMeanMs: { small: small.pruneMeanMs, large: large.pruneMeanMs },
      prunePass: {
        doneRows: { small: pruneSmall.doneRows, large: pruneLarge.doneRows },
        idleMs: { small: pruneSmall.idle.passMs, large: pruneLarge.idle.passMs },
        idleRatio: pruneRatio(pruneSmall.idle, pruneLarge.idle),
        expiringMs: { small: pruneSmall.expiring.passMs, large: pruneLarge.expiring.passMs },
        expiringRatio: pruneRatio(pruneSmall.expiring, pruneLarge.expiring)
      }
    }
    return {
      settings: { doneRows: options.doneRows, rows: options.rows, pruneSamples },
      summary,
      small,
      large,
      prune: { small: pruneSmall, large: pruneLarge }
    }
  } finally {
    await harness.end()
  }
}

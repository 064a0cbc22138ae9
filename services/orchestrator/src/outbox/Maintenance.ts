import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Metric } from "effect"
import type { ReplicaRegistry } from "../replicas/ReplicaRegistry.ts"
import * as Metrics from "./Metrics.ts"
import { errorSummary, makeOutageLog } from "./OutageLog.ts"
import type { OutboxRepo } from "./OutboxRepo.ts"
import { pruneEvery, reaperEvery, rowGaugeEvery } from "./Schedules.ts"
import type { Wakeups } from "./Wakeups.ts"

/**
 * Returns rows with expired leases (their replica crashed or stalled) to the queue, up to 1,000 a
 * statement, as many statements as it takes.
 */
export const makeReaper = (options: {
  readonly repo: OutboxRepo
  readonly wakeups: Wakeups
  readonly leaseMs: number
  readonly maxAttempts: number
}) => {
  const batch = 1_000
  const outage = makeOutageLog("reaping works again")
  const reapBatch = options.repo.reapExpired(options.maxAttempts, batch).pipe(
    Effect.tap((rows) => {
      if (rows.length === 0) return Effect.void
      const dead = rows.filter((r) => r.status === "dead").length
      options.wakeups.wake("poll")
      return Effect.logWarning(
        `recovered ${rows.length} event(s) whose lease expired` + (dead > 0 ? ` (${dead} dead after MAX_ATTEMPTS)` : "")
      )
    })
  )
  const pass = reapBatch.pipe(
    Effect.repeat({ while: (rows) => rows.length === batch }),
    Effect.zipRight(outage.succeeded),
    Effect.catchAll((error) => outage.failed(`reaping expired leases failed (${errorSummary(error)}); retrying`))
  )
  return Effect.repeat(pass, reaperEvery(options.leaseMs))
}

/**
 * Once a minute (and at start): deletes old `done` rows in batches of 500, and forgets replicas silent
 * for ten lease periods (at least a minute), which died without deregistering.
 */
export const makePruner = (options: {
  readonly repo: OutboxRepo
  readonly replicas: ReplicaRegistry
  readonly leaseMs: number
  readonly doneRetentionHours: number
}) => {
  const batch = 500
  const outage = makeOutageLog("pruning works again")
  const pruneDone = options.doneRetentionHours === 0
    ? Effect.void
    : options.repo.pruneDone(options.doneRetentionHours, batch).pipe(
      Effect.repeat({ while: (deleted) => deleted === batch })
    )
  const forgetSilent = options.replicas.forgetSilent(Math.max(60_000, 10 * options.leaseMs)).pipe(
    Effect.flatMap((forgotten) =>
      forgotten === 0 ? Effect.void : Effect.logInfo(`forgot ${forgotten} replica(s) silent for over ten lease periods`)
    )
  )
  const pass = Effect.all([pruneDone, forgetSilent], { discard: true }).pipe(
    Effect.zipRight(outage.succeeded),
    Effect.catchAll((error: SqlError) => outage.failed(`pruning failed (${errorSummary(error)}); retrying`))
  )
  return Effect.repeat(pass, pruneEvery)
}

/** Samples `outbox.rows`; the repository's statement makes only one replica at a time count. */
export const makeRowGauge = (repo: OutboxRepo) => {
  const pass = repo.countRows.pipe(
    Effect.flatMap((counts) =>
      counts === undefined
        ? Effect.void
        : Effect.all([
          Metric.set(Metrics.rowsFor("pending"), counts.pending),
          Metric.set(Metrics.rowsFor("processing"), counts.processing),
          Metric.set(Metrics.rowsFor("dead"), counts.dead)
        ], { discard: true })
    ),
    Effect.catchAll(() => Effect.void)
  )
  return Effect.repeat(pass, rowGaugeEvery)
}

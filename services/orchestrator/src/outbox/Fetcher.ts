import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect, Metric } from "effect"
import * as Metrics from "./Metrics.ts"
import { errorSummary, makeOutageLog } from "./OutageLog.ts"
import type { ClaimedRow, OutboxRepo } from "./OutboxRepo.ts"
import type { RunningSet } from "./RunningSet.ts"
import { claimFailurePause } from "./Schedules.ts"
import type { Wakeups } from "./Wakeups.ts"

export interface FetcherOptions {
  readonly repo: OutboxRepo
  readonly running: RunningSet
  readonly wakeups: Wakeups
  /** Rows held at most: handler slots plus the local queue (Pace.ts sizes it). */
  readonly capacity: () => number
  /** Takes claimed rows into the local queue (the running set holds them from then on). */
  readonly hold: (rows: ReadonlyArray<ClaimedRow>) => Effect.Effect<void>
  /** Starts queued rows while handler slots are free. */
  readonly start: Effect.Effect<void>
  /** Set when the last claim filled its batch (more rows are probably waiting). */
  readonly flags: { mayHaveMore: boolean; stopping: boolean }
}

const recordClaim = (rows: ReadonlyArray<ClaimedRow>, now: number) =>
  Effect.suspend(() => {
    const lags = rows.map((row) =>
      row.created_at instanceof Date
        ? Metric.update(Metrics.lagFor(row.event_type), now - row.created_at.getTime())
        : Effect.void
    )
    return Effect.all([Metric.update(Metrics.claimBatchSize, rows.length), ...lags], { discard: true })
  })

/**
 * The one fetcher for all slots: waits for a wake-up, then claims batches sized to free capacity
 * (free handler slots plus room in the local queue) until a claim comes back short or all is full. A failing claim is logged once per outage
 * and retried after a pause; wake-ups arriving meanwhile do not turn into queries against a sick
 * database.
 */
export const makeFetcher = (options: FetcherOptions) => {
  const { flags, running, wakeups } = options
  const outage = makeOutageLog("claiming works again")

  const claim = (free: number) =>
    Effect.gen(function*() {
      // Uninterruptible from the statement until the rows are held: a claim interrupted after
      // Postgres committed it (shutdown) would leave its rows leased to this replica but unknown to
      // it, so not released, running again only after the lease expired with an attempt counted.
      const rows = yield* Effect.uninterruptible(Effect.tap(options.repo.claim(free), options.hold))
      yield* Effect.annotateCurrentSpan("outbox.batch_size", rows.length)
      const now = yield* Clock.currentTimeMillis
      yield* recordClaim(rows, now)
      yield* options.start
      return rows.length
    }).pipe(Effect.withSpan("outbox.claim", { root: true, attributes: { "outbox.limit": free } }))

  const claimUntilFullOrEmpty = (source: Metrics.WakeupSource) =>
    Effect.gen(function*() {
      let first = true
      while (!flags.stopping) {
        // Let handlers that are finishing right now free their slots first: one larger claim
        // beats several tiny ones.
        yield* Effect.yieldNow()
        const free = options.capacity() - running.size()
        if (free <= 0) {
          // This wake-up is spent; the next finishing handler must bring the fetcher back.
          flags.mayHaveMore = true
          if (first) yield* Metric.increment(Metrics.wakeupsFor(source, false))
          return
        }
        const claimed = yield* claim(free)
        yield* outage.succeeded
        if (first) yield* Metric.increment(Metrics.wakeupsFor(source, claimed > 0))
        first = false
        flags.mayHaveMore = claimed === free
        if (!flags.mayHaveMore) return
      }
    }).pipe(
      Effect.catchAll((error: SqlError) =>
        outage.failed(`claim failed (${errorSummary(error)}); retrying`).pipe(
          Effect.zipRight(Effect.sleep(claimFailurePause)),
          Effect.zipRight(Effect.sync(() => wakeups.wake("retry_timer")))
        )
      )
    )

  return Effect.forever(Effect.flatMap(wakeups.take, claimUntilFullOrEmpty))
}

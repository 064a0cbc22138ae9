import { SqlClient } from "@effect/sql"
import { Config, Duration, Effect, Layer, Schedule } from "effect"

/**
 * `IDEMPOTENCY_RETENTION_HOURS` (default 168, a week): how long a service keeps an Idempotency-Key
 * and its stored response. A retry after that runs as a new request (see docs/services.md).
 */
export const IdempotencyRetentionHours = Config.integer("IDEMPOTENCY_RETENTION_HOURS").pipe(
  Config.validate({ message: "must be a positive number of hours", validation: (n) => n > 0 }),
  Config.withDefault(168)
)

/** Rows deleted per statement: small, so a prune never holds many row locks or a long transaction. */
export const RetentionBatchSize = 500
/** Batches per round at most; what is left waits for the next round. */
const maxBatchesPerRound = 20
/** How often each instance tries to prune (jittered, so replicas of a service do not line up). */
const pruneSchedule = Schedule.spaced("5 minutes").pipe(Schedule.jittered)

export interface RetentionTarget {
  /** Schema-qualified table, a constant (never input), e.g. `orders.idempotency_keys`. */
  readonly table: string
  /** Its `timestamptz` column that says when a row was written. */
  readonly column: string
}

/**
 * One batch: deletes up to `batchSize` rows of `target` older than `hours`, oldest first, if this
 * session gets the table's advisory lock (transaction-scoped, tried without waiting: one instance
 * prunes a table at a time, the others skip). Rows locked by a transaction in flight are skipped.
 * Returns how many rows it deleted (0 when another instance holds the lock).
 */
export const pruneBatch = (target: RetentionTarget, hours: number, batchSize = RetentionBatchSize) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      const [lock] = yield* sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtextextended(${`retention:${target.table}`}, 0)) as locked`
      if (lock?.locked !== true) return 0
      const deleted = yield* sql<{ n: number }>`
        with doomed as (
          select ctid from ${sql(target.table)}
          where ${sql(target.column)} < now() - make_interval(hours => ${hours})
          order by ${sql(target.column)}
          limit ${batchSize}
          for update skip locked
        )
        delete from ${sql(target.table)} where ctid in (select ctid from doomed)
        returning 1 as n`
      return deleted.length
    }))
  }).pipe(Effect.withSpan("Retention.pruneBatch", { attributes: { "retention.table": target.table } }))

/** Batches until one comes back short (or the round's cap); returns the rows deleted. */
export const pruneRound = (target: RetentionTarget, hours: number, batchSize = RetentionBatchSize) =>
  Effect.iterate({ total: 0, batches: 0, last: batchSize }, {
    while: (s) => s.last === batchSize && s.batches < maxBatchesPerRound,
    body: (s) =>
      Effect.map(pruneBatch(target, hours, batchSize), (n) => ({ total: s.total + n, batches: s.batches + 1, last: n }))
  }).pipe(Effect.map((s) => s.total))

/**
 * A loop, forked for the life of the layer, that prunes `targets` every few minutes after
 * `IDEMPOTENCY_RETENTION_HOURS`. A failed round is logged and the next one runs: the loop never
 * dies with the service still up.
 */
export const RetentionLive = (targets: ReadonlyArray<RetentionTarget>) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const hours = yield* IdempotencyRetentionHours
    const round = Effect.forEach(targets, (target) =>
      pruneRound(target, hours).pipe(
        Effect.tap((n) =>
          n > 0 ? Effect.logInfo(`retention: deleted ${n} rows of ${target.table} older than ${hours} h`) : Effect.void
        ),
        Effect.catchAllCause((cause) => Effect.logWarning(`retention: pruning ${target.table} failed`, cause))
      ), { discard: true })
    yield* Effect.forkScoped(
      Effect.sleep(Duration.seconds(30)).pipe(Effect.zipRight(Effect.repeat(round, pruneSchedule)))
    )
  }))

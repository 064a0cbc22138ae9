import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import type { Completion } from "./Completion.ts"

/**
 * A claimed row as the claim statement returns it. Not decoded with Schema: every column is typed by
 * Postgres or written by the worker itself, and the few a producer can fill with odd values
 * (`created_at` = 'infinity', an absurd `attempts`) are checked before the run (see Runner.ts),
 * so one bad row becomes a dead row instead of failing the whole claim.
 */
export interface ClaimedRow {
  readonly id: string
  readonly event_id: string
  readonly aggregate_type: string
  readonly aggregate_id: string
  readonly event_type: string
  readonly payload: unknown
  readonly headers: unknown
  readonly attempts: number
  /**
   * Run before (it has a `last_error`: a park, a retry, a lease that expired), though a park does
   * not count an attempt: its span links to the producer's trace instead of continuing it.
   */
  readonly redelivered: boolean
  readonly lease_token: string
  /** A Date, or a number (±Infinity) when a producer wrote 'infinity'. */
  readonly created_at: Date | number
  /** Size of the payload's JSON text, measured by Postgres (no JSON.stringify on the hot path). */
  readonly payload_bytes: number
}

export interface CompletionResult {
  readonly id: string
  /** A later event of the same aggregate is waiting: worth claiming now. */
  readonly unblocksSuccessor: boolean
}

/**
 * The outbox's processing statements, one statement each. Infrastructure errors are returned
 * (not turned into defects) because the worker's loops decide how to ride out an outage.
 * Longer than 80 lines only because it assembles those statements, each short and sharing `sql`.
 */
export const makeOutboxRepo = (
  sql: SqlClient.SqlClient,
  options: { readonly workerId: string; readonly leaseMs: number }
) => {
  /**
   * Claims up to `limit` runnable events and leases them to this worker, in one statement:
   * `outbox_claim` (migrations/0003, now 0080) holds the SKIP LOCKED query, its fence, the per-aggregate
   * ordering rule (a row runs only when no earlier row of its aggregate is pending, waiting for a
   * retry, or processing; done and dead rows do not block) and the reasons for its shape.
   */
  const claim = (limit: number): Effect.Effect<ReadonlyArray<ClaimedRow>, SqlError> =>
    sql<ClaimedRow>`
      select id::text as id, event_id::text as event_id, aggregate_type, aggregate_id, event_type,
             payload, headers, attempts, lease_token::text as lease_token, created_at,
             octet_length(payload::text) as payload_bytes, last_error is not null as redelivered
      from outbox_claim(${options.workerId}, ${limit}, ${options.leaseMs})`.pipe(
      Effect.map((rows) => [...rows].sort((a, b) => Number(a.id) - Number(b.id)))
    )

  /**
   * Writes the outcome of many runs in one statement. Each row is guarded by its lease token:
   * a worker that lost its lease (expired and re-claimed elsewhere) updates nothing.
   *
   * These writes (and extendLeases, release) find their rows by primary key whatever the
   * statistics say (test/outbox.completionPlan.test.ts): `o.id = any(ids)` is an index condition
   * on the key, so the plan cannot become a join that reads the table (it did, once per batch,
   * after an analyze of an empty table). They name no predicate that a partial index answers:
   * with statistics taken when nothing was processing, `o.status = 'processing'` made Postgres walk
   * the lease index for every row written. The lease token is enough: every statement that changes a
   * row's status sets or clears the token with it, and the check constraint (migrations/0001)
   * refuses a processing row without one. The successor probe names both open statuses, which
   * only outbox_aggregate_open (aggregate_id, id) answers: with `later.status = 'pending'` it
   * walked outbox_claimable from the row to the end of the backlog. A later event of the same
   * aggregate cannot be processing while this one is (a claim takes only an aggregate's head), so
   * the answer is the same.
   */
  const complete = (
    batch: ReadonlyArray<Pick<Completion, "id" | "leaseToken" | "status" | "delayMs" | "error">>
  ): Effect.Effect<ReadonlyArray<CompletionResult>, SqlError> => {
    if (batch.length === 0) return Effect.succeed([])
    const ids = batch.map((c) => c.id)
    return sql<{ id: string; unblocks_successor: boolean }>`
      update outbox o
      set status = case when t.status = 'parked' then 'pending' else t.status end,
          attempts = case when t.status = 'parked' then greatest(o.attempts - 1, 0) else o.attempts end,
          available_at = case when t.status in ('pending', 'parked')
                              then now() + t.delay_ms * interval '1 millisecond'
                              else o.available_at end,
          last_error = coalesce(t.error, o.last_error),
          processed_at = case when t.status in ('pending', 'parked') then null else now() end,
          locked_by = null,
          locked_until = null,
          lease_token = null
      from unnest(
        ${ids}::bigint[],
        ${batch.map((c) => c.leaseToken)}::uuid[],
        ${batch.map((c) => c.status)}::text[],
        ${batch.map((c) => c.delayMs)}::bigint[],
        ${batch.map((c) => c.error)}::text[]
      ) as t(id, lease_token, status, delay_ms, error)
      where o.id = any(${ids}::bigint[])
        and o.id = t.id
        and o.lease_token = t.lease_token
      returning o.id::text as id,
        t.status in ('done', 'dead') and exists (
          select 1 from outbox later
          where later.aggregate_id = o.aggregate_id and later.id > o.id
            and later.status in ('pending', 'processing')
        ) as unblocks_successor`.pipe(
      Effect.map((rows) => rows.map((row) => ({ id: row.id, unblocksSuccessor: row.unblocks_successor })))
    )
  }

  /** `from ... where ...` for the rows of `held` whose lease is still theirs, found by key (see complete). */
  const heldByKey = (held: ReadonlyArray<{ readonly id: string; readonly leaseToken: string }>) => {
    const ids = held.map((h) => h.id)
    return sql`from unnest(${ids}::bigint[], ${held.map((h) => h.leaseToken)}::uuid[]) as t(id, lease_token)
      where o.id = any(${ids}::bigint[]) and o.id = t.id and o.lease_token = t.lease_token`
  }

  /** Keeps the leases of running handlers alive; returns the ids still held. */
  const extendLeases = (
    held: ReadonlyArray<{ readonly id: string; readonly leaseToken: string }>
  ): Effect.Effect<ReadonlySet<string>, SqlError> =>
    held.length === 0
      ? Effect.succeed(new Set())
      : sql<{ id: string }>`
      update outbox o
      set locked_until = now() + ${options.leaseMs} * interval '1 millisecond'
      ${heldByKey(held)}
      returning o.id::text as id`.pipe(Effect.map((rows) => new Set(rows.map((row) => row.id))))

  /**
   * Hands unfinished runs back at shutdown without counting the attempt: the claim counted it,
   * and a run that was cut short by a deploy should not push an event towards `dead`.
   */
  const release = (
    held: ReadonlyArray<{ readonly id: string; readonly leaseToken: string }>
  ): Effect.Effect<number, SqlError> =>
    held.length === 0
      ? Effect.succeed(0)
      : sql`
      update outbox o
      set status = 'pending',
          attempts = greatest(o.attempts - 1, 0),
          available_at = now(),
          locked_by = null,
          locked_until = null,
          lease_token = null
      ${heldByKey(held)}
      returning o.id`.pipe(Effect.map((rows) => rows.length))

  /**
   * Returns rows whose lease expired (their worker crashed or stalled) to `pending`, or to `dead`
   * once they have used MAX_ATTEMPTS: an event that kills its worker every time must not loop forever.
   * The stalled worker, if alive, finds its lease token gone and its writes rejected. Up to `limit`
   * rows a statement, oldest lease first. It asks `locked_until < now()` alone, which only
   * outbox_lease_expiry answers (migrations/0090): with `status = 'processing'` as well, stale
   * statistics made it walk outbox_aggregate_open, the whole backlog, on every pass. A check
   * constraint (0090) sets locked_until exactly on processing rows.
   */
  const reapExpired = (
    maxAttempts: number,
    limit: number
  ): Effect.Effect<ReadonlyArray<{ id: string; status: string }>, SqlError> =>
    sql<{ id: string; status: string }>`
      update outbox o
      set status = case when o.attempts >= ${maxAttempts} then 'dead' else 'pending' end,
          last_error = format('lease held by %s expired during attempt %s of %s (worker crashed or stalled)',
                              o.locked_by, o.attempts, ${maxAttempts}::int),
          processed_at = case when o.attempts >= ${maxAttempts} then now() else null end,
          available_at = now(),
          locked_by = null,
          locked_until = null,
          lease_token = null
      where o.id = any(array(
        select id from outbox
        where locked_until < now()
        order by locked_until
        limit ${limit}
        for update skip locked
      ))
      returning o.id::text as id, o.status`

  /**
   * Deletes up to `limit` `done` rows finished more than `retentionHours` ago, so the hot table
   * stays small: outbox_prune_done (migrations/0090) walks `outbox_done_processed` (0031) from the
   * oldest and stops at the limit, a plan fixed whatever the statistics say, so the cost of a
   * batch does not depend on how much history is kept. SKIP LOCKED keeps replicas pruning side by
   * side from waiting on each other. Dead rows are kept: an operator decides about those.
   */
  const pruneDone = (retentionHours: number, limit: number): Effect.Effect<number, SqlError> =>
    sql<{ deleted: number }>`
      select outbox_prune_done(now() - ${retentionHours} * interval '1 hour', ${limit}) as deleted`.pipe(
      Effect.map((rows) => rows[0]!.deleted)
    )

  /**
   * Counts for the `outbox.rows` gauge, or nothing when this replica is not the one that reports:
   * the live replica with the smallest worker_id does, so the counts cost one query per period
   * for the whole fleet, not one per replica (the condition gates the function: it does not run
   * elsewhere). outbox_row_counts (migrations/0090) counts each status through the one index that
   * holds only it, whatever the statistics say.
   */
  const countRows: Effect.Effect<{ pending: number; processing: number; dead: number } | undefined, SqlError> = sql<
    { pending: number; processing: number; dead: number }
  >`
      select c.pending, c.processing, c.dead from outbox_row_counts() c
      where ${options.workerId} = (
        select min(worker_id) from worker_heartbeats
        where last_seen_at > now() - ${3 * options.leaseMs} * interval '1 millisecond'
      )`.pipe(Effect.map((rows) => rows[0]))

  return { claim, complete, extendLeases, release, reapExpired, pruneDone, countRows } as const
}

export type OutboxRepo = ReturnType<typeof makeOutboxRepo>

import { SqlClient } from "@effect/sql"
import { Data, Duration, Effect, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { isUuid } from "./Queries.ts"

/** An operator action that cannot go ahead; the message says why and what to do. Exit code 1. */
export class Refused extends Data.TaggedError("Refused")<{ readonly message: string }> {}

/** The channel the worker listens on; the payload is only a hint (BRIEF: NOTIFY is a hint). */
const wake = (sql: SqlClient.SqlClient) => sql`select pg_notify('order_events', 'cli')`

interface ResumedSaga {
  readonly id: string
  readonly saga_type: string
  readonly aggregate_id: string
  readonly trigger_event_id: string
  readonly state: "running" | "compensating"
}

/**
 * needs_attention → the state it stopped in: `compensating` when it had begun undoing (any
 * compensation logged), `running` otherwise. The steps that failed for good in that phase go back
 * to `waiting` with a fresh retry budget (the engine resumes `waiting` steps and skips `succeeded`
 * ones; a `failed` compensation is never retried), the deadline is renewed for as long as the first
 * one was, and a fresh run token fences out any run still holding the old one. Guarded on
 * needs_attention, so of two racing operators exactly one resumes it.
 */
const resumeSaga = (sql: SqlClient.SqlClient, sagaId: string) =>
  Effect.gen(function*() {
    const before = yield* sql<{ state: string; error: unknown; steps: unknown; ledger_status: string | null }>`
      select i.state, i.error,
             coalesce((select json_agg(json_build_object('step', s.step, 'phase', s.phase, 'status', s.status,
                                                          'attempts', s.attempts, 'last_error', s.last_error))
                       from saga_steps s where s.saga_id = i.id), '[]') as steps,
             (select l.status from order_ledger l where l.order_id::text = i.aggregate_id) as ledger_status
      from saga_instances i where i.id = ${sagaId}::uuid`
    const resumed = yield* sql<ResumedSaga>`
      update saga_instances i
      set state = case when exists (select 1 from saga_steps s where s.saga_id = i.id and s.phase = 'compensation')
                       then 'compensating' else 'running' end,
          run_token = ${randomUUID()},
          deadline_at = now() + (i.deadline_at - i.created_at),
          updated_at = now()
      where i.id = ${sagaId}::uuid and i.state = 'needs_attention'
      returning i.id::text as id, i.saga_type, i.aggregate_id, i.trigger_event_id::text as trigger_event_id, i.state`
    const saga = resumed[0]
    if (saga === undefined) {
      return yield* new Refused({
        message: before[0] === undefined
          ? `no saga ${sagaId}`
          : `saga ${sagaId} is ${before[0].state}, not needs_attention: nothing to retry`
      })
    }
    yield* sql`
      update saga_steps set status = 'waiting', attempts = 0
      where saga_id = ${sagaId}::uuid and status = 'failed'
        and phase = ${saga.state === "compensating" ? "compensation" : "forward"}`
    // The saga's own finish moved the ledger to NEEDS_ATTENTION; the order is open again until the
    // resumed run settles it (both sagas settle from PENDING).
    yield* sql`
      update order_ledger set status = 'PENDING', reason = null, updated_at = now()
      where order_id::text = ${saga.aggregate_id} and status = 'NEEDS_ATTENTION'`
    return { saga, previous: before[0]! }
  })

/**
 * Makes an event claimable again with a fresh attempt budget. The stale `last_error` is cleared
 * (and kept in operator_actions), so the row shows an error again only if the new run fails.
 */
const requeueEvent = (sql: SqlClient.SqlClient, where: { readonly eventId: string }, from: ReadonlyArray<string>) =>
  sql<{ id: string; event_type: string; aggregate_id: string; status: string; last_error: string | null }>`
    update outbox o set status = 'pending', attempts = 0, available_at = now(), processed_at = null, last_error = null
    from (select id, status, last_error from outbox where event_id = ${where.eventId}::uuid for update) old
    where o.id = old.id and old.status in ${sql.in(from)}
    returning o.id::text as id, o.event_type, o.aggregate_id, old.status, old.last_error`

const record = (
  sql: SqlClient.SqlClient,
  action: "saga_retry" | "saga_resolve" | "outbox_replay",
  ids: { readonly sagaId?: string | undefined; readonly outboxId?: string | undefined },
  note: string | null,
  previous: unknown
) =>
  sql`
    insert into operator_actions (action, saga_id, outbox_id, note, previous)
    values (${action}, ${ids.sagaId ?? null}::uuid, ${ids.outboxId ?? null}::bigint, ${note}, ${
    JSON.stringify(previous)
  }::jsonb)`

/** A saga id, or an order id with exactly one saga in `state`. */
const resolveSagaId = (sql: SqlClient.SqlClient, id: string, state: string) =>
  Effect.gen(function*() {
    if (!isUuid(id)) return yield* new Refused({ message: `${id} is not a saga id or an order id (a UUID)` })
    const rows = yield* sql<{ id: string }>`
      select id::text as id from saga_instances
      where id = ${id}::uuid or (aggregate_id = ${id} and state = ${state})`
    if (rows.length > 1) {
      return yield* new Refused({
        message: `order ${id} has ${rows.length} sagas in ${state}; name one by its saga id`
      })
    }
    return rows[0]?.id ?? id
  })

export interface RetryResult {
  readonly sagaId: string
  readonly state: string
  readonly eventId: string
}

/** `saga retry`: resume a needs_attention saga where it stopped, then wake the workers. */
export const retrySaga = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      const sagaId = yield* resolveSagaId(sql, id, "needs_attention")
      const { previous, saga } = yield* resumeSaga(sql, sagaId)
      const event = yield* requeueEvent(sql, { eventId: saga.trigger_event_id }, ["done", "dead", "pending"])
      if (event.length === 0) {
        const found = yield* sql`select 1 from outbox where event_id = ${saga.trigger_event_id}::uuid`
        return yield* new Refused({
          message: found.length === 0
            ? `saga ${sagaId}: its event ${saga.trigger_event_id} was pruned from the outbox; nothing can resume it`
            : `saga ${sagaId}: its event ${saga.trigger_event_id} is being processed right now; try again in a moment`
        })
      }
      yield* record(sql, "saga_retry", { sagaId, outboxId: event[0]!.id }, null, {
        ...previous,
        event_status: event[0]!.status,
        event_last_error: event[0]!.last_error
      })
      yield* wake(sql)
      return { sagaId, state: saga.state, eventId: saga.trigger_event_id } satisfies RetryResult
    })))

/**
 * `saga resolve`: an operator handled it outside the system. Only a needs_attention saga can be
 * resolved; the note, who and when are kept in operator_actions; the ledger row keeps its reason.
 */
export const resolveSaga = (id: string, note: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      const sagaId = yield* resolveSagaId(sql, id, "needs_attention")
      const rows = yield* sql<{ error: unknown }>`
        update saga_instances set state = 'resolved', updated_at = now()
        where id = ${sagaId}::uuid and state = 'needs_attention'
        returning error`
      if (rows.length === 0) {
        const found = yield* sql<{ state: string }>`select state from saga_instances where id = ${sagaId}::uuid`
        return yield* new Refused({
          message: found[0] === undefined
            ? `no saga ${sagaId}`
            : `saga ${sagaId} is ${found[0].state}, not needs_attention`
        })
      }
      yield* record(sql, "saga_resolve", { sagaId }, note, { state: "needs_attention", error: rows[0]!.error })
      return { sagaId }
    })))

export interface ReplayResult {
  readonly outboxId: string
  readonly eventType: string
  readonly aggregateId: string
  /** What else the replay had to change so the event can do its work again. */
  readonly also: ReadonlyArray<string>
}

const eventIdOf = (sql: SqlClient.SqlClient, id: string) =>
  Effect.gen(function*() {
    const rows = isUuid(id)
      ? yield* sql<
        { event_id: string; status: string }
      >`select event_id::text as event_id, status from outbox where event_id = ${id}::uuid`
      : /^\d{1,18}$/.test(id)
      ? yield* sql<
        { event_id: string; status: string }
      >`select event_id::text as event_id, status from outbox where id = ${id}::bigint`
      : []
    if (rows[0] === undefined) return yield* new Refused({ message: `no outbox row ${id} (give its id or event_id)` })
    if (rows[0].status !== "dead") {
      return yield* new Refused({ message: `outbox row ${id} is ${rows[0].status}, not dead` })
    }
    return rows[0].event_id
  })

/**
 * `outbox replay`: a dead event back to pending, with what its work needs, in one transaction:
 * its saga (already handed to an operator by the dead-letter sweep) resumes as `saga retry` would;
 * an OrderPlaced that died before its saga existed gets its ledger row back to PENDING (the
 * stranded-order sweep had marked it NEEDS_ATTENTION). A resolved saga's event is refused.
 */
export const replayEvent = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      const eventId = yield* eventIdOf(sql, id)
      const sagas = yield* sql<{ id: string; state: string }>`
        select id::text as id, state from saga_instances where trigger_event_id = ${eventId}::uuid for update`
      const saga = sagas[0]
      if (saga?.state === "resolved") {
        return yield* new Refused({
          message: `event ${eventId} belongs to saga ${saga.id}, which an operator resolved`
        })
      }
      const requeued = yield* requeueEvent(sql, { eventId }, ["dead"])
      const event = requeued[0]
      if (event === undefined) return yield* new Refused({ message: `outbox row ${id} is no longer dead` })
      const also: Array<string> = []
      let previous: Record<string, unknown> = { last_error: event.last_error }
      if (saga?.state === "needs_attention") {
        const resumed = yield* resumeSaga(sql, saga.id)
        previous = { ...previous, saga: resumed.previous }
        also.push(`saga ${saga.id} resumes ${resumed.saga.state}`)
      }
      if (saga === undefined && event.event_type === "OrderPlaced") {
        const ledger = yield* sql<{ reason: string | null }>`
          update order_ledger l set status = 'PENDING', reason = null, updated_at = now()
          from (select order_id, reason from order_ledger where order_id::text = ${event.aggregate_id} for update) old
          where l.order_id = old.order_id and l.status = 'NEEDS_ATTENTION'
          returning old.reason`
        if (ledger[0] !== undefined) {
          previous = { ...previous, ledger_status: "NEEDS_ATTENTION", ledger_reason: ledger[0].reason }
          also.push(`order ${event.aggregate_id} back to PENDING`)
        }
      }
      yield* record(sql, "outbox_replay", { sagaId: saga?.id, outboxId: event.id }, null, previous)
      yield* wake(sql)
      return {
        outboxId: event.id,
        eventType: event.event_type,
        aggregateId: event.aggregate_id,
        also
      } satisfies ReplayResult
    })))

/** Every dead row, each in its own transaction, so one refusal does not hold back the rest. */
export const replayAllDead = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.gen(function*() {
    const ids = yield* sql<{ id: string }>`select id::text as id from outbox where status = 'dead' order by id`
    const replayed: Array<ReplayResult> = []
    const refused: Array<{ readonly outboxId: string; readonly message: string }> = []
    for (const { id } of ids) {
      yield* replayEvent(id).pipe(
        Effect.match({
          onSuccess: (result) => replayed.push(result),
          onFailure: (error) => refused.push({ outboxId: id, message: error.message })
        })
      )
    }
    return { replayed, refused }
  }))

/**
 * `outbox prune`: deletes `done` rows processed before the cut-off, 10,000 per statement so no
 * statement holds many locks for long. Dead rows stay: they are an operator's to decide.
 */
export const pruneDone = (olderThanMs: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.gen(function*() {
      let total = 0
      while (true) {
        const rows = yield* sql`
          delete from outbox where id in (
            select id from outbox
            where status = 'done' and processed_at < now() - ${olderThanMs}::bigint * interval '1 millisecond'
            order by id limit 10000
            for update skip locked)
          returning id`
        total += rows.length
        if (rows.length < 10000) return total
      }
    }))

export class PingTimeout extends Data.TaggedError("PingTimeout")<{ readonly message: string }> {}

/**
 * `ping`: a Ping event through the whole pipeline (insert → NOTIFY → claim → handler → done).
 * The latency is the database's processed_at − created_at, so it includes the wake-up and claim.
 * A ping no worker took in time is deleted, so it cannot wake a worker much later.
 */
export const ping = (timeoutMs: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.gen(function*() {
      const aggregateId = `ping-${randomUUID()}`
      const [row] = yield* sql<{ id: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        values ('ping', ${aggregateId}, 'Ping', '{"source":"orchestrator ping"}'::jsonb)
        returning id::text as id`
      const done = sql<{ latency_ms: number }>`
        select (extract(epoch from processed_at - created_at) * 1000)::float8 as latency_ms
        from outbox where id = ${row!.id}::bigint and status = 'done'`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.filterOrFail((found) => found !== undefined),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.map((found) => found!.latency_ms)
      )
      return yield* done.pipe(
        Effect.timeoutFail({
          duration: Duration.millis(timeoutMs),
          onTimeout: () => new PingTimeout({ message: `no worker handled the ping within ${timeoutMs} ms` })
        }),
        Effect.tapError(() =>
          sql`delete from outbox where id = ${row!.id}::bigint and status = 'pending'`.pipe(Effect.ignore)
        )
      )
    }))

import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { Refused } from "./Errors.ts"
import { record, requeueEvent, wake } from "./OperatorActions.ts"
import { isUuid, storedId } from "./Queries.ts"

interface ResumedSaga {
  readonly id: string
  readonly saga_type: string
  readonly aggregate_id: string
  readonly trigger_event_id: string
  readonly state: "running" | "compensating"
}

/**
 * The refusal when a guarded update found the saga no longer needs_attention. Its state is read
 * after the update: the update waited for a racing operator's commit, which earlier reads predate.
 */
const notNeedsAttention = (sql: SqlClient.SqlClient, sagaId: string, consequence: string) =>
  Effect.flatMap(
    sql<{ state: string }>`select state from saga_instances where id = ${sagaId}::uuid`,
    (rows) =>
      new Refused({
        message: rows[0] === undefined
          ? `no saga ${sagaId}`
          : `saga ${sagaId} is ${rows[0].state}, not needs_attention${consequence}`
      })
  )

/**
 * needs_attention → the state it stopped in: `compensating` when it had begun undoing (any
 * compensation logged), `running` otherwise. The steps that failed for good in that phase go back
 * to `waiting` with a fresh retry budget (the engine resumes `waiting` steps and skips `succeeded`
 * ones; a `failed` compensation is never retried), the deadline is renewed for as long as the first
 * one was, and a fresh run token fences out any run still holding the old one. Guarded on
 * needs_attention, so of two racing operators exactly one resumes it.
 */
export const resumeSaga = (sql: SqlClient.SqlClient, sagaId: string) =>
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
    if (saga === undefined) return yield* notNeedsAttention(sql, sagaId, ": nothing to retry")
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
 * A saga id, or an order id with exactly one saga in `state`. An order whose sagas are all in other
 * states is refused here, naming them: a retry racing another by saga id must say the saga is no
 * longer needs_attention, not that there is no saga (the order id is not a saga id).
 */
const resolveSagaId = (sql: SqlClient.SqlClient, given: string, state: string) =>
  Effect.gen(function*() {
    if (!isUuid(given)) return yield* new Refused({ message: `${given} is not a saga id or an order id (a UUID)` })
    const id = storedId(given)
    const rows = yield* sql<{ id: string; state: string }>`
      select id::text as id, state from saga_instances
      where id = ${id}::uuid or aggregate_id = ${id}
      order by created_at`
    if (rows.some((row) => row.id === id)) return id
    const inState = rows.filter((row) => row.state === state)
    if (inState.length > 1) {
      return yield* new Refused({
        message: `order ${id} has ${inState.length} sagas in ${state}; name one by its saga id`
      })
    }
    if (inState.length === 0 && rows.length > 0) {
      return yield* new Refused({
        message: rows.length === 1
          ? `order ${id}: its saga ${rows[0]!.id} is ${rows[0]!.state}, not ${state}`
          : `order ${id} has no saga in ${state}: ${rows.map((row) => `${row.id} is ${row.state}`).join(", ")}`
      })
    }
    return inState[0]?.id ?? id
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
      if (rows.length === 0) return yield* notNeedsAttention(sql, sagaId, "")
      yield* record(sql, "saga_resolve", { sagaId }, note, { state: "needs_attention", error: rows[0]!.error })
      return { sagaId }
    })))

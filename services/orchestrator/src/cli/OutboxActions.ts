import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Refused } from "./Errors.ts"
import { record, requeueEvent, wake } from "./OperatorActions.ts"
import { isUuid } from "./Queries.ts"
import { resumeSaga } from "./SagaActions.ts"

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

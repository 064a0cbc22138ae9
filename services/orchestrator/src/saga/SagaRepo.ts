import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option } from "effect"
import type { EndState, SagaErrorRecord } from "./Saga.ts"
import {
  DeadLetteredRow,
  decodeRows,
  doneParams,
  type DoneStep,
  fenced,
  fencedEnd,
  InFlightRow,
  json,
  type NewSaga,
  OpenedRow,
  type RunRef,
  type SagaTakenOver,
  type StepRef,
  StepRow
} from "./SagaRows.ts"

/**
 * The saga tables' statements, one statement each. Every write after `open` presents the run
 * token that `open` wrote, and every state change names the state it leaves, so a stale run or a
 * repeated write changes nothing.
 */
export class SagaRepo extends Effect.Service<SagaRepo>()("@ecommerce/orchestrator/SagaRepo", {
  effect: Effect.gen(function*() {
    // Longer than 80 lines only because it assembles the service's statements, each short and sharing
    // the one `sql`; splitting it would scatter one schema's SQL over files.
    const sql = yield* SqlClient.SqlClient
    const instanceColumns = sql`id::text as id, saga_type, state, aggregate_id, current_step, context, error,
      (extract(epoch from deadline_at) * 1000)::float8 as deadline_ms,
      (extract(epoch from created_at) * 1000)::float8 as created_ms`
    /** Writes a step's success, fenced by the statement's `fence` CTE (nothing when `step` is null). */
    const doneWrite = (done: { readonly step: string | null; readonly phase: string | null }) =>
      sql`
        update saga_steps set status = 'succeeded', ended_at = now(), last_error = null
        from fence
        where saga_steps.saga_id = fence.id and step = ${done.step} and phase = ${done.phase}
        returning (extract(epoch from saga_steps.ended_at) * 1000)::float8 as ended_ms`
    const inFlightRun = (ref: RunRef) =>
      sql`id = ${ref.sagaId} and run_token = ${ref.runToken} and state in ('running', 'compensating')`

    /**
     * Opens the event's saga for this run in one statement: creates it unless it exists (a
     * re-delivered event finds the first saga), takes it with the run token (later writes of an
     * older run no longer match), and for a new saga starts attempt 1 of `firstStep`. `created`
     * says which: a new saga has no step log to read.
     */
    const open = (input: NewSaga & { readonly runToken: string; readonly firstStep: string | null }) =>
      sql`
        with opened as (
          insert into saga_instances
            (id, saga_type, trigger_event_id, aggregate_id, context, deadline_at, run_token, current_step)
          values (${input.id}, ${input.type}, ${input.eventId}, ${input.aggregateId}, ${json(input.context)}::jsonb,
                  to_timestamp(${input.deadlineMs}::float8 / 1000), ${input.runToken}, ${input.firstStep})
          on conflict (trigger_event_id) do update set run_token = excluded.run_token, updated_at = now()
          returning saga_instances.*
        ),
        first_step as (
          insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
          select id, current_step, 'forward', 'running', 1, now() from opened
          where id = ${input.id} and current_step is not null
        )
        select ${instanceColumns}, id = ${input.id} as created from opened`.pipe(
        Effect.flatMap(decodeRows(OpenedRow)),
        Effect.map((rows) => {
          const { created, ...row } = rows[0]!
          return { row, created }
        })
      )

    const steps = (sagaId: string): Effect.Effect<ReadonlyArray<StepRow>, SqlError> =>
      sql`
        select step, phase, status, attempts, outcome_unknown, last_error,
               (extract(epoch from ended_at) * 1000)::float8 as ended_ms
        from saga_steps where saga_id = ${sagaId}`.pipe(Effect.flatMap(decodeRows(StepRow)))

    /**
     * Records that attempt `attempt` of a step starts now, and points the saga at the step; the
     * previous step's success (`done`), if any, is written by the same statement. The fence and the
     * log writes are one statement, so none happens without the others. Returns the done step's
     * end time (database time), or null.
     */
    const startAttempt = (
      ref: StepRef & { readonly attempt: number; readonly done: Option.Option<DoneStep> }
    ): Effect.Effect<number | null, SqlError | SagaTakenOver> => {
      const done = doneParams(ref.done)
      return sql`
        with fence as (
          update saga_instances
          set current_step = ${ref.step}, context = coalesce(${done.context}::jsonb, context), updated_at = now()
          where ${inFlightRun(ref)}
          returning id
        ),
        done as (${doneWrite(done)}),
        started as (
          insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
          select id, ${ref.step}, ${ref.phase}, 'running', ${ref.attempt}, now() from fence
          on conflict (saga_id, step, phase) do update
            set status = 'running', attempts = excluded.attempts, ended_at = null
            where saga_steps.status <> 'succeeded'
          returning 1
        )
        select (select ended_ms from done) as ended_ms from started`.pipe(Effect.flatMap(fencedEnd(ref.sagaId)))
    }

    /**
     * A step's success on its own statement, for when the next write cannot carry it (a failure,
     * a wait, a parallel group); a new context, if the step produced one, is stored with it.
     * Returns the end time the database recorded, which orders compensations.
     */
    const succeeded = (ref: RunRef & DoneStep): Effect.Effect<number, SqlError | SagaTakenOver> =>
      sql`
        with fence as (
          update saga_instances
          set context = coalesce(${Option.getOrNull(Option.map(ref.context, json))}::jsonb, context), updated_at = now()
          where ${inFlightRun(ref)}
          returning id
        )
        ${doneWrite({ step: ref.step, phase: ref.phase })}`.pipe(
        Effect.flatMap(fencedEnd(ref.sagaId)),
        Effect.map((ms) => ms!)
      )

    /**
     * `waiting`: a retry comes later; `failed`: no more attempts. `attempts` is the count of calls
     * made, which is one less than `startAttempt` wrote when an open circuit refused the call.
     * Returns the database's end time.
     */
    const failed = (
      ref: StepRef & {
        readonly status: "waiting" | "failed"
        readonly attempts: number
        readonly error: string
        readonly outcomeUnknown: boolean
      }
    ): Effect.Effect<number, SqlError | SagaTakenOver> =>
      sql`
        update saga_steps
        set status = ${ref.status}, attempts = ${ref.attempts}, ended_at = now(), last_error = ${ref.error},
            outcome_unknown = outcome_unknown or ${ref.outcomeUnknown}
        from saga_instances i
        where saga_steps.saga_id = ${ref.sagaId} and step = ${ref.step} and phase = ${ref.phase}
          and i.id = saga_steps.saga_id and i.run_token = ${ref.runToken} and i.state in ('running', 'compensating')
        returning (extract(epoch from saga_steps.ended_at) * 1000)::float8 as ended_ms`.pipe(
        Effect.flatMap(fencedEnd(ref.sagaId)),
        Effect.map((ms) => ms!)
      )

    /** running -> compensating, with the reason; only once. */
    const beginCompensation = (ref: RunRef & { readonly error: SagaErrorRecord }) =>
      sql`
        update saga_instances set state = 'compensating', error = ${json(ref.error)}::jsonb, updated_at = now()
        where id = ${ref.sagaId} and run_token = ${ref.runToken} and state = 'running'
        returning 1`.pipe(Effect.flatMap(fenced(ref.sagaId)))

    /**
     * The end state, with the last step's success (`done`) if it is not written yet; the caller
     * wraps it in a transaction with the saga's own `finish`.
     */
    const finish = (
      ref: RunRef & {
        readonly state: EndState
        readonly error: SagaErrorRecord | undefined
        readonly done: Option.Option<DoneStep>
      }
    ) => {
      const done = doneParams(ref.done)
      return sql`
        with fence as (
          update saga_instances
          set state = ${ref.state}, error = coalesce(${ref.error === undefined ? null : json(ref.error)}::jsonb, error),
              context = coalesce(${done.context}::jsonb, context), current_step = null, updated_at = now()
          where ${inFlightRun(ref)}
          returning id
        ),
        done as (${doneWrite(done)})
        select 1 from fence`.pipe(Effect.flatMap(fenced(ref.sagaId)))
    }

    const inFlight: Effect.Effect<ReadonlyArray<InFlightRow>, SqlError> = sql`
      select i.id::text as id, i.saga_type, i.state, i.current_step, i.context,
             array(select distinct s.step from saga_steps s where s.saga_id = i.id) as logged_steps
      from saga_instances i
      where i.state in ('running', 'compensating')
      order by i.created_at`.pipe(Effect.flatMap(decodeRows(InFlightRow)))

    /**
     * In-flight sagas whose triggering outbox row is dead: the worker will never deliver it again,
     * so nothing would ever move them. The in-flight partial index keeps this cheap; the join is a
     * probe of the outbox's unique event_id.
     */
    const deadLettered: Effect.Effect<ReadonlyArray<DeadLetteredRow>, SqlError> = sql`
      select i.id::text as id, i.saga_type, i.state, i.current_step, i.context,
             o.event_id::text as event_id, o.last_error
      from saga_instances i
      join outbox o on o.event_id = i.trigger_event_id
      where i.state in ('running', 'compensating') and o.status = 'dead'
      order by i.created_at`.pipe(Effect.flatMap(decodeRows(DeadLetteredRow)))

    /** Sagas nothing can continue (unknown steps, a dead trigger event) go to an operator. */
    const parkForAttention = (input: { readonly sagaId: string; readonly error: SagaErrorRecord }) =>
      sql`
        update saga_instances set state = 'needs_attention', error = ${json(input.error)}::jsonb, updated_at = now()
        where id = ${input.sagaId} and state in ('running', 'compensating')
        returning 1`.pipe(Effect.map((rows) => rows.length === 1))

    /**
     * Deletes up to `batchSize` sagas that ended `completed` or `compensated` more than
     * `retentionHours` ago, oldest first; their steps go with them (on delete cascade). Sagas that
     * need attention are kept for the operator. The transaction-level advisory lock lets one
     * replica prune at a time: the others get `false` from the try-lock and delete nothing. One
     * statement, so the lock lasts one small batch.
     */
    const pruneFinished = (input: { readonly retentionHours: number; readonly batchSize: number }) =>
      sql`
        with lock as (select pg_try_advisory_xact_lock(hashtext('saga_retention')) as held),
        doomed as (
          select id from saga_instances
          where state in ('completed', 'compensated')
            and updated_at < now() - make_interval(hours => ${input.retentionHours})
            and (select held from lock)
          order by updated_at
          limit ${input.batchSize}
        )
        delete from saga_instances i using doomed where i.id = doomed.id
        returning 1`.pipe(Effect.map((rows) => rows.length))

    return {
      pruneFinished,
      open,
      steps,
      startAttempt,
      succeeded,
      failed,
      beginCompensation,
      finish,
      inFlight,
      deadLettered,
      parkForAttention
    } as const
  })
}) {}

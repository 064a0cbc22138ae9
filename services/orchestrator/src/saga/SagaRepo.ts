import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Data, Effect, Option, Schema } from "effect"
import type { EndState, Phase, SagaErrorRecord } from "./Saga.ts"

const InstanceRow = Schema.Struct({
  id: Schema.String,
  saga_type: Schema.String,
  state: Schema.Literal("running", "compensating", "completed", "compensated", "needs_attention"),
  aggregate_id: Schema.String,
  current_step: Schema.NullOr(Schema.String),
  context: Schema.Unknown,
  error: Schema.Unknown,
  deadline_ms: Schema.Number,
  created_ms: Schema.Number
})
export type InstanceRow = typeof InstanceRow.Type

export const StepStatus = Schema.Literal("running", "waiting", "succeeded", "failed")
export type StepStatus = typeof StepStatus.Type

const StepRow = Schema.Struct({
  step: Schema.String,
  phase: Schema.Literal("forward", "compensation"),
  status: StepStatus,
  attempts: Schema.Number,
  outcome_unknown: Schema.Boolean,
  last_error: Schema.NullOr(Schema.String),
  ended_ms: Schema.NullOr(Schema.Number)
})
export type StepRow = typeof StepRow.Type

const InFlightRow = Schema.Struct({
  id: Schema.String,
  saga_type: Schema.String,
  state: Schema.String,
  current_step: Schema.NullOr(Schema.String),
  context: Schema.Unknown,
  logged_steps: Schema.Array(Schema.String)
})
export type InFlightRow = typeof InFlightRow.Type

const DeadLetteredRow = Schema.Struct({
  id: Schema.String,
  saga_type: Schema.String,
  state: Schema.String,
  current_step: Schema.NullOr(Schema.String),
  context: Schema.Unknown,
  event_id: Schema.String,
  last_error: Schema.NullOr(Schema.String)
})
export type DeadLetteredRow = typeof DeadLetteredRow.Type

/** Another run took the saga over (this run's outbox lease expired): stop writing. */
export class SagaTakenOver extends Data.TaggedError("SagaTakenOver")<{ readonly sagaId: string }> {}

/** Which run writes: every write after `take` presents the token `take` stored. */
export interface RunRef {
  readonly sagaId: string
  readonly runToken: string
}

/** One step (or compensation) of a run. */
export interface StepRef extends RunRef {
  readonly step: string
  readonly phase: Phase
}

export interface NewSaga {
  readonly id: string
  readonly type: string
  readonly eventId: string
  readonly aggregateId: string
  readonly context: unknown
  readonly deadlineMs: number
}

const decodeRows = <A, I>(schema: Schema.Schema<A, I>) => (rows: ReadonlyArray<unknown>) =>
  Effect.orDie(Schema.decodeUnknown(Schema.Array(schema))(rows))

/** One fenced write per call: zero rows back means the run token is no longer ours. */
const fenced = (sagaId: string) => (rows: ReadonlyArray<unknown>) =>
  rows.length === 0 ? Effect.fail(new SagaTakenOver({ sagaId })) : Effect.void

const EndedRow = Schema.Struct({ ended_ms: Schema.Number })

/** A fenced step-log write that returns the row's `ended_at` (database time) as ended_ms. */
const fencedEnd = (sagaId: string) => (rows: ReadonlyArray<unknown>) =>
  Effect.flatMap(fenced(sagaId)(rows), () => Effect.map(decodeRows(EndedRow)(rows), (decoded) => decoded[0]!.ended_ms))

const json = (value: unknown) => JSON.stringify(value)

/**
 * The saga tables' statements, one statement each. Every write after `take` presents the run
 * token that `take` wrote, and every state change names the state it leaves, so a stale run or a
 * repeated write changes nothing.
 */
export class SagaRepo extends Effect.Service<SagaRepo>()("@ecommerce/orchestrator/SagaRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const instanceColumns = sql`id::text as id, saga_type, state, aggregate_id, current_step, context, error,
      (extract(epoch from deadline_at) * 1000)::float8 as deadline_ms,
      (extract(epoch from created_at) * 1000)::float8 as created_ms`
    const inFlightRun = (ref: RunRef) =>
      sql`id = ${ref.sagaId} and run_token = ${ref.runToken} and state in ('running', 'compensating')`

    /** Starts the saga of an event unless it exists: a re-delivered event finds the first saga. */
    const create = (input: NewSaga): Effect.Effect<void, SqlError> =>
      sql`
        insert into saga_instances (id, saga_type, trigger_event_id, aggregate_id, context, deadline_at)
        values (${input.id}, ${input.type}, ${input.eventId}, ${input.aggregateId},
                ${json(input.context)}::jsonb, to_timestamp(${input.deadlineMs}::float8 / 1000))
        on conflict (trigger_event_id) do nothing`.pipe(Effect.asVoid)

    /** Takes the event's saga for this run: later writes of an older run no longer match. */
    const take = (input: { readonly eventId: string; readonly runToken: string }) =>
      sql`
        update saga_instances set run_token = ${input.runToken}, updated_at = now()
        where trigger_event_id = ${input.eventId}
        returning ${instanceColumns}`.pipe(
        Effect.flatMap(decodeRows(InstanceRow)),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    const steps = (sagaId: string): Effect.Effect<ReadonlyArray<StepRow>, SqlError> =>
      sql`
        select step, phase, status, attempts, outcome_unknown, last_error,
               (extract(epoch from ended_at) * 1000)::float8 as ended_ms
        from saga_steps where saga_id = ${sagaId}`.pipe(Effect.flatMap(decodeRows(StepRow)))

    /**
     * Records that attempt `attempt` of a step starts now, and points the saga at the step. The
     * fence and the log write are one statement, so neither happens without the other.
     */
    const startAttempt = (ref: StepRef & { readonly attempt: number }): Effect.Effect<void, SqlError | SagaTakenOver> =>
      sql`
        with fence as (
          update saga_instances set current_step = ${ref.step}, updated_at = now()
          where ${inFlightRun(ref)}
          returning id
        )
        insert into saga_steps (saga_id, step, phase, status, attempts, started_at)
        select id, ${ref.step}, ${ref.phase}, 'running', ${ref.attempt}, now() from fence
        on conflict (saga_id, step, phase) do update
          set status = 'running', attempts = excluded.attempts, ended_at = null
          where saga_steps.status <> 'succeeded'
        returning 1`.pipe(Effect.flatMap(fenced(ref.sagaId)))

    /**
     * The step succeeded; a new context, if the step produced one, is stored with it. Returns the
     * end time the database recorded, which orders compensations.
     */
    const succeeded = (
      ref: StepRef & { readonly context: Option.Option<unknown> }
    ): Effect.Effect<number, SqlError | SagaTakenOver> =>
      sql`
        with fence as (
          update saga_instances
          set context = coalesce(${Option.getOrNull(Option.map(ref.context, json))}::jsonb, context), updated_at = now()
          where ${inFlightRun(ref)}
          returning id
        )
        update saga_steps set status = 'succeeded', ended_at = now(), last_error = null
        from fence
        where saga_steps.saga_id = fence.id and step = ${ref.step} and phase = ${ref.phase}
        returning (extract(epoch from saga_steps.ended_at) * 1000)::float8 as ended_ms`.pipe(
        Effect.flatMap(fencedEnd(ref.sagaId))
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
        Effect.flatMap(fencedEnd(ref.sagaId))
      )

    /** running -> compensating, with the reason; only once. */
    const beginCompensation = (ref: RunRef & { readonly error: SagaErrorRecord }) =>
      sql`
        update saga_instances set state = 'compensating', error = ${json(ref.error)}::jsonb, updated_at = now()
        where id = ${ref.sagaId} and run_token = ${ref.runToken} and state = 'running'
        returning 1`.pipe(Effect.flatMap(fenced(ref.sagaId)))

    /** The end state; the caller wraps it in a transaction with the saga's own `finish`. */
    const finish = (ref: RunRef & { readonly state: EndState; readonly error: SagaErrorRecord | undefined }) =>
      sql`
        update saga_instances
        set state = ${ref.state}, error = coalesce(${ref.error === undefined ? null : json(ref.error)}::jsonb, error),
            current_step = null, updated_at = now()
        where ${inFlightRun(ref)}
        returning 1`.pipe(Effect.flatMap(fenced(ref.sagaId)))

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
      create,
      take,
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

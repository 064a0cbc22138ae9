import { Data, Effect, Option, Schema } from "effect"
import type { Phase } from "./Saga.ts"

/** The rows the saga tables return, decoded at the boundary, and the references writes present. */
export const InstanceRow = Schema.Struct({
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

export const StepRow = Schema.Struct({
  step: Schema.String,
  phase: Schema.Literal("forward", "compensation"),
  status: StepStatus,
  attempts: Schema.Number,
  outcome_unknown: Schema.Boolean,
  last_error: Schema.NullOr(Schema.String),
  ended_ms: Schema.NullOr(Schema.Number)
})
export type StepRow = typeof StepRow.Type

/** The columns the operator-facing lists of sagas share. */
const sagaSummary = {
  id: Schema.String,
  saga_type: Schema.String,
  state: Schema.String,
  current_step: Schema.NullOr(Schema.String),
  context: Schema.Unknown
}

export const InFlightRow = Schema.Struct({ ...sagaSummary, logged_steps: Schema.Array(Schema.String) })
export type InFlightRow = typeof InFlightRow.Type

export const DeadLetteredRow = Schema.Struct({
  ...sagaSummary,
  event_id: Schema.String,
  last_error: Schema.NullOr(Schema.String)
})
export type DeadLetteredRow = typeof DeadLetteredRow.Type

/** Another run took the saga over (this run's outbox lease expired): stop writing. */
export class SagaTakenOver extends Data.TaggedError("SagaTakenOver")<{ readonly sagaId: string }> {}

/** Which run writes: every write after `open` presents the token `open` stored. */
export interface RunRef {
  readonly sagaId: string
  readonly runToken: string
}

/** One step (or compensation) of a run. */
export interface StepRef extends RunRef {
  readonly step: string
  readonly phase: Phase
}

/**
 * A step whose call succeeded but whose success is not written yet: it rides on the run's next
 * write (the next step's start, or the finish), see engineering-design §5.1. `context` is the
 * encoded new context, if the step produced one.
 */
export interface DoneStep {
  readonly step: string
  readonly phase: Phase
  readonly context: Option.Option<unknown>
}

export interface NewSaga {
  readonly id: string
  readonly type: string
  readonly eventId: string
  readonly aggregateId: string
  readonly context: unknown
  readonly deadlineMs: number
}

/** What `open` returns: the saga row, and whether this statement created it. */
export const OpenedRow = Schema.extend(InstanceRow, Schema.Struct({ created: Schema.Boolean }))

export const json = (value: unknown) => JSON.stringify(value)

/** The done step a write carries, as the statement's parameters (nulls when it carries none). */
export const doneParams = (done: Option.Option<DoneStep>) => ({
  step: Option.getOrNull(Option.map(done, (d) => d.step)),
  phase: Option.getOrNull(Option.map(done, (d) => d.phase)),
  context: Option.getOrNull(Option.flatMap(done, (d) => Option.map(d.context, json)))
})

type RowDecoder = (rows: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<unknown>>
const rowDecoders = new WeakMap<object, RowDecoder>()

/**
 * Decodes statement results with a row Schema; undecodable rows are defects. The decoder is built
 * once per Schema: `Schema.Array(schema)` is a new AST on every call, so building it per statement
 * compiled a new parser each time (a visible part of the orchestrator's CPU per saga).
 */
export const decodeRows = <A, I>(
  schema: Schema.Schema<A, I>
): (rows: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<A>> => {
  let decode = rowDecoders.get(schema)
  if (decode === undefined) {
    const parse = Schema.decodeUnknown(Schema.Array(schema))
    decode = (rows) => Effect.orDie(parse(rows))
    rowDecoders.set(schema, decode)
  }
  return decode as (rows: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<A>>
}

/** One fenced write per call: zero rows back means the run token is no longer ours. */
export const fenced = (sagaId: string) => (rows: ReadonlyArray<unknown>) =>
  rows.length === 0 ? Effect.fail(new SagaTakenOver({ sagaId })) : Effect.void

const EndedRow = Schema.Struct({ ended_ms: Schema.NullOr(Schema.Number) })

/**
 * A fenced step-log write that returns an `ended_at` (database time) as ended_ms: of the step it
 * ended, or of the done step it carried (null when it carried none).
 */
export const fencedEnd = (sagaId: string) => (rows: ReadonlyArray<unknown>) =>
  Effect.flatMap(fenced(sagaId)(rows), () => Effect.map(decodeRows(EndedRow)(rows), (decoded) => decoded[0]!.ended_ms))

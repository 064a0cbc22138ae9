import type { SqlError } from "@effect/sql/SqlError"
import { type Duration, type Effect, Schema } from "effect"
import type { RetryPolicy } from "./Schedules.ts"
import type { StepFailure } from "./StepFailure.ts"

export type Phase = "forward" | "compensation"

/** What a step's action or compensation receives. */
export interface StepInput<Ctx> {
  readonly sagaId: string
  /** The trigger event's `aggregate_id`, for sagas that check it against their payload. */
  readonly aggregateId: string
  readonly context: Ctx
  /** `<sagaId>:<step>:<phase>`: the same on every retry and after a crash, so a call applies once. */
  readonly idempotencyKey: string
}

export interface Step<Ctx, R> {
  readonly _tag: "Step"
  readonly name: string
  /** May return a new context, persisted with the step's success. */
  readonly action: (input: StepInput<Ctx>) => Effect.Effect<Ctx | void, StepFailure, R>
  /** Must be safe when there is nothing to undo: it also runs after an attempt of unknown outcome. */
  readonly compensation?: (input: StepInput<Ctx>) => Effect.Effect<void, StepFailure, R>
  readonly retry?: RetryPolicy
  readonly compensationRetry?: RetryPolicy
  /** The downstream service the step calls, for its span's `downstream.service`. */
  readonly service?: string
  /** Per-call timeout; SAGA_STEP_TIMEOUT_MS when absent. */
  readonly timeout?: Duration.DurationInput
}

/**
 * A member of a parallel group. It may not change the context: members run concurrently from the
 * same context, so there is no order in which their changes could be applied that every run
 * agrees on. The type says so; the engine also refuses (fails the step) a member that returns a
 * context anyway, before anything is stored.
 */
export interface ParallelMember<Ctx, R> extends Step<Ctx, R> {
  readonly action: (input: StepInput<Ctx>) => Effect.Effect<void, StepFailure, R>
}

/** Steps run together; if one fails, the completed ones (and any of unknown outcome) are compensated. */
export interface Parallel<Ctx, R> {
  readonly _tag: "Parallel"
  readonly steps: ReadonlyArray<ParallelMember<Ctx, R>>
}

export type Unit<Ctx, R> = Step<Ctx, R> | Parallel<Ctx, R>

export const step = <Ctx, R>(definition: Omit<Step<Ctx, R>, "_tag">): Step<Ctx, R> => ({ _tag: "Step", ...definition })
export const parallel = <Ctx, R>(...steps: ReadonlyArray<ParallelMember<Ctx, R>>): Parallel<Ctx, R> => ({
  _tag: "Parallel",
  steps
})

export type EndState = "completed" | "compensated" | "needs_attention"

/** The recorded and logged error shape: the root cause's message at the top. */
export const SagaErrorRecordSchema = Schema.Struct({
  message: Schema.String,
  details: Schema.Struct({
    saga: Schema.Struct({ id: Schema.String, type: Schema.String, step: Schema.String, state: Schema.String }),
    errorTag: Schema.optional(Schema.String),
    /** The saga refused its event (see StepFailure.refusal): compensated, then handed to an operator. */
    refused: Schema.optional(Schema.Boolean)
  })
})
export type SagaErrorRecord = typeof SagaErrorRecordSchema.Type

export interface Outcome {
  readonly state: EndState
  /** Why the saga did not complete (absent when it did). */
  readonly error?: SagaErrorRecord
}

export interface SagaDefinition<Ctx, CtxEncoded, Payload, R> {
  readonly type: string
  /** The event that starts it; one saga per outbox event. */
  readonly eventType: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the wire form is the payload schema's business
  readonly payload: Schema.Schema<Payload, any>
  readonly context: Schema.Schema<Ctx, CtxEncoded>
  readonly initialContext: (payload: Payload) => Ctx
  /**
   * `backward` (the default): a permanent failure or exhausted retries compensate what was done.
   * `forward`: the saga must go through; steps retry without end, a permanent failure needs attention.
   */
  readonly recovery?: "backward" | "forward"
  readonly units: ReadonlyArray<Unit<Ctx, R>>
  /** Runs in the transaction that records the end state (e.g. the ledger update). */
  readonly finish: (context: Ctx, outcome: Outcome) => Effect.Effect<void, SqlError, R>
}

/** Sagas of any context and payload (each definition is invariant in them), needing R. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySaga<R> = SagaDefinition<any, any, any, R>

export const stepsOf = <Ctx, R>(units: ReadonlyArray<Unit<Ctx, R>>): ReadonlyArray<Step<Ctx, R>> =>
  units.flatMap((unit) => unit._tag === "Step" ? [unit] : unit.steps)

export const idempotencyKey = (sagaId: string, stepName: string, phase: Phase) => `${sagaId}:${stepName}:${phase}`

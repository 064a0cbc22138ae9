import { type Context, Effect, Option, type ParseResult } from "effect"
import type { Phase } from "./Saga.ts"
import type { SagaConfig } from "./SagaConfig.ts"
import type { SagaRepo } from "./SagaRepo.ts"
import type { DoneStep, StepRow } from "./SagaRows.ts"

/** The step log's key of a step and phase. */
export const logKey = (step: string, phase: Phase) => `${step}/${phase}`

/** What one run of a saga shares with each of its steps. */
export interface SagaRun<Ctx, R> {
  readonly sagaId: string
  readonly sagaType: string
  readonly aggregateId: string
  readonly runToken: string
  readonly deadlineMs: number
  readonly recovery: "backward" | "forward"
  readonly settings: SagaConfig
  readonly repo: SagaRepo
  readonly services: Context.Context<R>
  /** The step log as this run knows it: read at the start, updated by every write. */
  readonly log: Map<string, StepRow>
  readonly encodeContext: (context: Ctx) => Effect.Effect<unknown, ParseResult.ParseError>
  readonly unwritten: Unwritten
}

/**
 * What this run has not written yet (engineering-design §5.1): `done`, the last step whose call
 * succeeded, written by the run's next write; `started`, the step whose attempt 1 the statement
 * that created the saga already recorded (its log key).
 */
export interface Unwritten {
  done: Option.Option<DoneStep>
  started: string | undefined
}

/** Takes the unwritten success off the run: the write about to run carries it. */
export const takeDone = (run: SagaRun<unknown, unknown>): Option.Option<DoneStep> => {
  const done = run.unwritten.done
  run.unwritten.done = Option.none()
  return done
}

/** Mirrors the end time the database gave a carried success in the run's log. */
export const settleDone = (run: SagaRun<unknown, unknown>, done: Option.Option<DoneStep>, endedMs: number | null) => {
  if (Option.isNone(done)) return
  const key = logKey(done.value.step, done.value.phase)
  const entry = run.log.get(key)
  if (entry !== undefined) run.log.set(key, { ...entry, ended_ms: endedMs })
}

/** Writes the unwritten success on its own statement, before a write that does not carry it. */
export const flushDone = (run: SagaRun<unknown, unknown>) =>
  Effect.suspend(() => {
    const done = takeDone(run)
    return Option.isNone(done)
      ? Effect.void
      : Effect.map(
        run.repo.succeeded({ sagaId: run.sagaId, runToken: run.runToken, ...done.value }),
        (endedMs) => settleDone(run, done, endedMs)
      )
  })

import { Clock, Effect, Exit, Option } from "effect"
import type { Phase, Step } from "./Saga.ts"
import type { StepRef, StepRow, StepStatus } from "./SagaRows.ts"
import { flushDone, logKey, type SagaRun, settleDone, takeDone } from "./SagaRun.ts"
import { callOnce } from "./StepCall.ts"
import { StepFailure } from "./StepFailure.ts"
import { awaitRetry, countRetry, exhausted, failureOf, policyOf, retryDelay } from "./StepRetry.ts"

export type StepResult<Ctx> =
  | { readonly _tag: "Succeeded"; readonly context: Option.Option<Ctx> }
  | { readonly _tag: "Failed"; readonly step: string; readonly failure: StepFailure }

const unchanged: StepResult<never> = { _tag: "Succeeded", context: Option.none() }

/** The state of one step in this run: what the log holds, and what the next write records. */
interface StepState {
  readonly status: StepStatus
  readonly attempts: number
  readonly outcomeUnknown: boolean
  readonly error: string | null
}

const failedFor = (step: string, failure: StepFailure): StepResult<never> => ({ _tag: "Failed", step, failure })

/**
 * The one step-log update: records `next` (fenced), then mirrors it in the run's log. A success of
 * a sequential step is not written here: it becomes the run's unwritten `done`, which the next
 * write carries (its end time follows). Every other write first writes an earlier unwritten one.
 */
const recordStep = <Ctx, R>(
  run: SagaRun<Ctx, R>,
  ref: StepRef,
  next: StepState,
  produced: Option.Option<unknown>,
  sequential: boolean
) =>
  Effect.gen(function*() {
    const anyRun = run as SagaRun<unknown, unknown>
    let endedMs: number | null = null
    if (next.status === "succeeded" && sequential) {
      run.unwritten.done = Option.some({ step: ref.step, phase: ref.phase, context: produced })
    } else {
      yield* flushDone(anyRun)
      endedMs = next.status === "succeeded"
        ? yield* run.repo.succeeded({ ...ref, context: produced })
        : yield* run.repo.failed({
          ...ref,
          status: next.status === "waiting" ? "waiting" : "failed",
          attempts: next.attempts,
          error: next.error ?? "",
          outcomeUnknown: next.outcomeUnknown
        })
    }
    run.log.set(logKey(ref.step, ref.phase), {
      step: ref.step,
      phase: ref.phase,
      status: next.status,
      attempts: next.attempts,
      outcome_unknown: next.outcomeUnknown,
      last_error: next.error,
      ended_ms: endedMs
    })
  })

/** What the log says before this run touches the step. */
const initialState = (previous: StepRow | undefined): StepState => ({
  status: previous?.status ?? "running",
  attempts: previous?.attempts ?? 0,
  // A step the log shows `running` was cut short by a crash mid-call: it may have been applied.
  outcomeUnknown: (previous?.outcome_unknown ?? false) || previous?.status === "running",
  error: previous?.last_error ?? null
})

const deadlinePassed = (run: SagaRun<unknown, unknown>, step: string, unknownOutcome: boolean) =>
  new StepFailure({
    kind: "permanent",
    unknownOutcome,
    errorTag: "SagaTimeout",
    message: `saga did not finish within SAGA_TIMEOUT_MS (${run.settings.sagaTimeoutMs} ms); stopped at ${step}`
  })

const contextChangeRefused = (step: string) =>
  new StepFailure({
    kind: "permanent",
    unknownOutcome: true,
    errorTag: "ParallelContextChange",
    message: `${step} is a parallel member and returned a new context; ` +
      "parallel members may not change the context (it is not stored)"
  })

/** A step the log already settled: skipped, or (a compensation rejected for good) failed again. */
const settledBefore = (previous: StepRow | undefined, phase: Phase): Option.Option<StepResult<never>> => {
  if (previous?.status === "succeeded") return Option.some(unchanged)
  if (previous?.status === "failed" && phase === "compensation") {
    // Rejected for good in an earlier run: recorded, not retried.
    return Option.some(failedFor(
      previous.step,
      new StepFailure({
        kind: "permanent",
        unknownOutcome: false,
        errorTag: "CompensationRejected",
        message: previous.last_error ?? "compensation rejected"
      })
    ))
  }
  return Option.none()
}

/** Attempt `attempt` starts in the log; the write carries the run's unwritten success. */
const startAttempt = <Ctx, R>(run: SagaRun<Ctx, R>, ref: StepRef, attempt: number) =>
  Effect.gen(function*() {
    const anyRun = run as SagaRun<unknown, unknown>
    const done = takeDone(anyRun)
    settleDone(anyRun, done, yield* run.repo.startAttempt({ ...ref, attempt, done }))
  })

/**
 * One step (or compensation) to its end in this run: succeeded, failed for good, or parked (the
 * Park error) until a retry is due. Attempts and outcome are read from the step log and written
 * back to it, so a run on another replica continues where this one stopped. `mayChangeContext` is
 * false for parallel members (see `ParallelMember`), which run side by side and so write their
 * successes at once instead of leaving them to the run's next write.
 */
export const runStep = <Ctx, R>(
  run: SagaRun<Ctx, R>,
  step: Step<Ctx, R>,
  phase: Phase,
  context: Ctx,
  mayChangeContext: boolean
) =>
  Effect.gen(function*() {
    const ref: StepRef = { sagaId: run.sagaId, runToken: run.runToken, step: step.name, phase }
    const previous = run.log.get(logKey(step.name, phase))
    const settled = settledBefore(previous, phase)
    if (Option.isSome(settled)) return settled.value as StepResult<Ctx>
    const call = phase === "forward" ? step.action : step.compensation
    if (call === undefined) return unchanged as StepResult<Ctx>
    const policy = policyOf(run, step, phase)
    const mustMeetDeadline = phase === "forward" && run.recovery === "backward"
    let state = initialState(previous)
    // Attempt 1 of the saga's first step was recorded by the statement that created the saga.
    let preStarted = run.unwritten.started === logKey(step.name, phase)
    if (preStarted) run.unwritten.started = undefined
    const record = (next: StepState, produced: Option.Option<unknown> = Option.none()) =>
      Effect.map(recordStep(run, ref, next, produced, mayChangeContext), () => void (state = next))
    const giveUp = (failure: StepFailure) =>
      Effect.as(record({ ...state, status: "failed", error: failure.message }), failedFor(step.name, failure))

    while (true) {
      if (mustMeetDeadline && !preStarted && (yield* Clock.currentTimeMillis) >= run.deadlineMs) {
        const failure = deadlinePassed(run as SagaRun<unknown, unknown>, step.name, state.outcomeUnknown)
        return run.log.has(logKey(step.name, phase)) ? yield* giveUp(failure) : failedFor(step.name, failure)
      }
      if (preStarted) preStarted = false
      else yield* startAttempt(run, ref, state.attempts + 1)
      state = { ...state, status: "running", attempts: state.attempts + 1 }
      if (state.attempts > 1) yield* countRetry(run, step.name, phase)
      const exit = yield* callOnce(run, step, phase, call, context, state.attempts)
      if (Exit.isSuccess(exit)) {
        const produced = exit.value === undefined ? Option.none<Ctx>() : Option.some(exit.value as Ctx)
        if (Option.isSome(produced) && !mayChangeContext) {
          state = { ...state, outcomeUnknown: true }
          return yield* giveUp(contextChangeRefused(step.name))
        }
        const stored = Option.isSome(produced) ? Option.some(yield* run.encodeContext(produced.value)) : Option.none()
        yield* record({ ...state, status: "succeeded", error: null }, stored)
        return { _tag: "Succeeded", context: produced } satisfies StepResult<Ctx>
      }
      const failure = yield* failureOf(exit.cause)
      // A call an open circuit refused is not an attempt (see `retryDelay`).
      const attempts = failure.notAttempted === true ? state.attempts - 1 : state.attempts
      state = { ...state, attempts, outcomeUnknown: state.outcomeUnknown || failure.unknownOutcome }
      const delay = yield* retryDelay(policy, failure, attempts)
      if (Option.isNone(delay)) return yield* giveUp(exhausted(failure, attempts))
      yield* record({ ...state, status: "waiting", error: failure.message })
      yield* awaitRetry(run, ref, failure, delay.value, attempts, mustMeetDeadline)
    }
  })

import { Cause, Clock, Duration, Effect, Exit, Metric, Option } from "effect"
import { Park } from "../outbox/EventHandler.ts"
import { stepRetries } from "./Metrics.ts"
import type { Phase, Step } from "./Saga.ts"
import type { StepRef, StepRow, StepStatus } from "./SagaRows.ts"
import { flushDone, logKey, type SagaRun, settleDone, takeDone } from "./SagaRun.ts"
import { compensationRetry, delayBefore, forwardRetry, persistentRetry, type RetryPolicy } from "./Schedules.ts"
import { callOnce, labels, phaseTag, spanEvent } from "./StepCall.ts"
import { StepFailure } from "./StepFailure.ts"

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

const policyOf = <Ctx, R>(run: SagaRun<Ctx, R>, step: Step<Ctx, R>, phase: Phase): RetryPolicy =>
  phase === "compensation"
    ? (step.compensationRetry ?? compensationRetry)
    : (step.retry ?? (run.recovery === "forward" ? persistentRetry : forwardRetry))

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
      else {
        const done = takeDone(run as SagaRun<unknown, unknown>)
        settleDone(
          run as SagaRun<unknown, unknown>,
          done,
          yield* run.repo.startAttempt({ ...ref, attempt: state.attempts + 1, done })
        )
      }
      state = { ...state, status: "running", attempts: state.attempts + 1 }
      if (state.attempts > 1) {
        yield* Metric.update(
          Metric.taggedWithLabels(
            stepRetries,
            labels({ "saga.type": run.sagaType, "saga.step": step.name, "saga.phase": phaseTag(phase) })
          ),
          1
        )
      }
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
      const failure = yield* Option.match(Cause.failureOption(exit.cause), {
        onNone: () => Effect.failCause(exit.cause as Cause.Cause<never>),
        onSome: Effect.succeed
      })
      // An open circuit refused the call before it was made: that is not an attempt, and the wait
      // is the circuit's, not the policy's. Counting it would spend the retry budget in seconds of
      // fail-fast answers; the deadline bounds the wait instead.
      const attempts = failure.notAttempted === true ? state.attempts - 1 : state.attempts
      state = { ...state, attempts, outcomeUnknown: state.outcomeUnknown || failure.unknownOutcome }
      const delay = failure.notAttempted === true
        ? Option.some(Duration.millis(failure.retryAfterMs ?? 0))
        : failure.kind === "transient"
        ? yield* delayBefore(policy, attempts)
        : Option.none()
      if (Option.isNone(delay)) {
        return yield* giveUp(
          failure.kind === "transient"
            ? new StepFailure({
              ...failure,
              kind: "permanent",
              message: `${failure.message} (gave up after ${attempts} attempts)`
            })
            : failure
        )
      }
      yield* record({ ...state, status: "waiting", error: failure.message })
      let delayMs = Math.max(Duration.toMillis(delay.value), failure.retryAfterMs ?? 0)
      if (mustMeetDeadline) delayMs = Math.min(delayMs, Math.max(0, run.deadlineMs - (yield* Clock.currentTimeMillis)))
      const wait = { "saga.step": step.name, "saga.phase": phase, "retry.delay_ms": delayMs, "error": failure.message }
      if (delayMs > run.settings.inlineRetryMaxMs) {
        yield* spanEvent("saga.park", wait)
        return yield* new Park({
          delayMs: Math.ceil(delayMs),
          reason: `saga ${run.sagaId} waits ${Math.ceil(delayMs)} ms before attempt ${attempts + 1} of ` +
            `${step.name}/${phase}: ${failure.message}`
        })
      }
      yield* spanEvent("saga.retry_wait", wait)
      yield* Effect.sleep(Duration.millis(delayMs))
    }
  })

/**
 * Retrying a step (see `runStep`): the policy, the wait before the next attempt, the failure it
 * gives up with, and the wait itself, inline or as a park.
 */
import { Cause, Clock, Duration, Effect, Metric, Option } from "effect"
import { Park } from "../outbox/EventHandler.ts"
import { stepRetries } from "./Metrics.ts"
import type { Phase, Step } from "./Saga.ts"
import type { StepRef } from "./SagaRows.ts"
import type { SagaRun } from "./SagaRun.ts"
import { compensationRetry, delayBefore, forwardRetry, persistentRetry, type RetryPolicy } from "./Schedules.ts"
import { labels, phaseTag, spanEvent } from "./StepCall.ts"
import { StepFailure } from "./StepFailure.ts"

export const policyOf = <Ctx, R>(run: SagaRun<Ctx, R>, step: Step<Ctx, R>, phase: Phase): RetryPolicy =>
  phase === "compensation"
    ? (step.compensationRetry ?? compensationRetry)
    : (step.retry ?? (run.recovery === "forward" ? persistentRetry : forwardRetry))

export const countRetry = <Ctx, R>(run: SagaRun<Ctx, R>, step: string, phase: Phase) =>
  Metric.update(
    Metric.taggedWithLabels(
      stepRetries,
      labels({ "saga.type": run.sagaType, "saga.step": step, "saga.phase": phaseTag(phase) })
    ),
    1
  )

/** The call's typed failure; a defect or an interrupt goes on as it is. */
export const failureOf = (cause: Cause.Cause<StepFailure>) =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => Effect.failCause(cause as Cause.Cause<never>),
    onSome: Effect.succeed
  })

/**
 * The wait before the next attempt, none to give up. An open circuit refused the call before it
 * was made: that is not an attempt, and the wait is the circuit's, not the policy's. Counting it
 * would spend the retry budget in seconds of fail-fast answers; the deadline bounds the wait instead.
 */
export const retryDelay = (policy: RetryPolicy, failure: StepFailure, attempts: number) =>
  failure.notAttempted === true
    ? Effect.succeed(Option.some(Duration.millis(failure.retryAfterMs ?? 0)))
    : failure.kind === "transient"
    ? delayBefore(policy, attempts)
    : Effect.succeed(Option.none<Duration.Duration>())

/** The failure a step gives up with: a transient one whose retries ran out becomes permanent. */
export const exhausted = (failure: StepFailure, attempts: number) =>
  failure.kind === "transient"
    ? new StepFailure({
      ...failure,
      kind: "permanent",
      message: `${failure.message} (gave up after ${attempts} attempts)`
    })
    : failure

/**
 * Waits before attempt `attempts + 1` (no later than the deadline when the step must meet it):
 * inline when the wait is short, else parks the saga (the Park error) until the retry is due.
 */
export const awaitRetry = <Ctx, R>(
  run: SagaRun<Ctx, R>,
  ref: StepRef,
  failure: StepFailure,
  delay: Duration.Duration,
  attempts: number,
  mustMeetDeadline: boolean
) =>
  Effect.gen(function*() {
    let delayMs = Math.max(Duration.toMillis(delay), failure.retryAfterMs ?? 0)
    if (mustMeetDeadline) delayMs = Math.min(delayMs, Math.max(0, run.deadlineMs - (yield* Clock.currentTimeMillis)))
    const wait = { "saga.step": ref.step, "saga.phase": ref.phase, "retry.delay_ms": delayMs, "error": failure.message }
    if (delayMs > run.settings.inlineRetryMaxMs) {
      yield* spanEvent("saga.park", wait)
      return yield* new Park({
        delayMs: Math.ceil(delayMs),
        reason: `saga ${run.sagaId} waits ${Math.ceil(delayMs)} ms before attempt ${attempts + 1} of ` +
          `${ref.step}/${ref.phase}: ${failure.message}`
      })
    }
    yield* spanEvent("saga.retry_wait", wait)
    yield* Effect.sleep(Duration.millis(delayMs))
  })

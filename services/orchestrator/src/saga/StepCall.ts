import { Cause, Clock, Duration, Effect, Exit, Metric, MetricLabel, Option } from "effect"
import { stepDuration } from "./Metrics.ts"
import { idempotencyKey, type Phase, type Step } from "./Saga.ts"
import type { SagaRun } from "./SagaRun.ts"
import { StepFailure } from "./StepFailure.ts"

/** One call of a step and what it reports: its span, its duration metric, retry and park events. */

/** One call of the step's action or compensation, cut off by its timeout (an unknown outcome). */
export const callOnce = <Ctx, R>(
  run: SagaRun<Ctx, R>,
  step: Step<Ctx, R>,
  phase: Phase,
  call: NonNullable<Step<Ctx, R>["compensation"]> | Step<Ctx, R>["action"],
  context: Ctx,
  attempt: number
) => {
  const timeoutMs = Duration.toMillis(step.timeout ?? Duration.millis(run.settings.stepTimeoutMs))
  const key = idempotencyKey(run.sagaId, step.name, phase)
  return call({ sagaId: run.sagaId, aggregateId: run.aggregateId, context, idempotencyKey: key }).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(timeoutMs),
      onTimeout: () =>
        new StepFailure({
          kind: "transient",
          unknownOutcome: true,
          errorTag: "StepTimeout",
          message: `${step.name}: no answer within ${timeoutMs} ms`
        })
    }),
    Effect.provide(run.services),
    Effect.exit,
    Effect.timed,
    Effect.tap(([elapsed, exit]) => {
      const outcome = stepOutcome(exit)
      const tags = { "saga.type": run.sagaType, "saga.step": step.name, "saga.phase": phaseTag(phase) }
      return Effect.zipRight(
        Effect.annotateCurrentSpan({ "saga.step.outcome": outcome }),
        Metric.update(
          Metric.taggedWithLabels(stepDuration, labels({ ...tags, "saga.step.outcome": outcome })),
          Duration.toMillis(elapsed)
        )
      )
    }),
    // Re-raised inside the span, so a failed attempt's span has error status with its cause.
    Effect.flatMap(([, exit]) => exit),
    Effect.withSpan(`saga.${phase === "forward" ? "step" : "compensate"}.${step.name}`, {
      attributes: {
        "saga.step.attempt": attempt,
        "idempotency.key": key,
        ...(step.service === undefined ? {} : { "downstream.service": step.service })
      },
      // As for outbox.process (Runner.ts): a stack trace per call costs more than it tells.
      captureStackTrace: false
    }),
    Effect.exit
  )
}

export const phaseTag = (phase: Phase) => phase === "forward" ? "forward" : "compensate"

export const labels = (tags: Record<string, string>) => Object.entries(tags).map(([k, v]) => MetricLabel.make(k, v))

/** `saga.step.outcome`: succeeded, rejected (applied nothing), unknown (may be applied), transient. */
const stepOutcome = (exit: Exit.Exit<unknown, StepFailure>) =>
  Exit.match(exit, {
    onSuccess: () => "succeeded",
    onFailure: (cause) =>
      Option.match(Cause.failureOption(cause), {
        onNone: () => "unknown",
        onSome: (f) => f.kind === "transient" ? "transient" : f.unknownOutcome ? "unknown" : "rejected"
      })
  })

/** A retry wait or a park, as an event on the current span. */
export const spanEvent = (name: string, attributes: Record<string, unknown>) =>
  Effect.flatMap(
    Clock.currentTimeNanos,
    (now) =>
      Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
        Effect.sync(() => Option.map(span, (s) => s.event(name, now, attributes))))
  )

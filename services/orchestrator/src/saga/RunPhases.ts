/**
 * The two phases of a run (see `resumeSaga`): the units forward until one fails, and then the
 * compensations in reverse order of completion.
 */
import { Effect, Either, Option } from "effect"
import { Park } from "../outbox/EventHandler.ts"
import { runStep, type StepResult } from "./RunStep.ts"
import { type SagaErrorRecord, type Step, stepsOf, type Unit } from "./Saga.ts"
import { flushDone, logKey, type SagaRun } from "./SagaRun.ts"
import type { StepFailure } from "./StepFailure.ts"

type Failed = Extract<StepResult<unknown>, { _tag: "Failed" }>

/**
 * Reverse order of completion (end time, latest first; definition order breaks ties), for every
 * step that succeeded and every step whose outcome is unknown: one that failed in a way that may
 * have applied it, or one a crash left running. End times are always the database's (`ended_at`,
 * returned by each write), never this replica's Clock: steps of earlier runs and of this one are
 * compared, and two clocks would misorder them.
 */
export const toCompensate = <Ctx, R>(steps: ReadonlyArray<Step<Ctx, R>>, log: SagaRun<Ctx, R>["log"]) =>
  steps
    .map((step, index) => ({ step, index, entry: log.get(logKey(step.name, "forward")) }))
    .filter(({ entry, step }) =>
      step.compensation !== undefined && entry !== undefined &&
      (entry.status === "succeeded" || entry.status === "running" || entry.outcome_unknown)
    )
    .sort((a, b) =>
      (b.entry!.ended_ms ?? Number.POSITIVE_INFINITY) - (a.entry!.ended_ms ?? Number.POSITIVE_INFINITY) ||
      b.index - a.index
    )
    .map(({ step }) => step)

/** One unit forward: a step, or a parallel group whose members all settle before it ends. */
const runUnit = <Ctx, R>(run: SagaRun<Ctx, R>, unit: Unit<Ctx, R>, context: Ctx) =>
  Effect.gen(function*() {
    if (unit._tag === "Step") return yield* runStep(run, unit, "forward", context, true)
    // Members run side by side: none of their writes can carry an earlier unwritten success.
    yield* flushDone(run as SagaRun<unknown, unknown>)
    const results = yield* Effect.all(
      unit.steps.map((member) => Effect.either(runStep(run, member, "forward", context, false))),
      { concurrency: "unbounded" }
    )
    for (const result of results) {
      if (Either.isRight(result) && result.right._tag === "Failed") return result.right
    }
    const errors = results.filter(Either.isLeft).map((r) => r.left)
    const other = errors.find((e) => e._tag !== "Park")
    if (other !== undefined) return yield* Effect.fail(other)
    const parks = errors.filter((e): e is Park => e._tag === "Park")
    if (parks.length > 0) {
      return yield* new Park({ delayMs: Math.min(...parks.map((p) => p.delayMs)), reason: parks[0]!.reason })
    }
    return { _tag: "Succeeded", context: Option.none() } satisfies StepResult<Ctx>
  })

export const errorRecord = <Ctx, R>(
  run: SagaRun<Ctx, R>,
  step: string,
  state: string,
  failure: StepFailure
): SagaErrorRecord => ({
  message: failure.message,
  details: {
    saga: { id: run.sagaId, type: run.sagaType, step, state },
    errorTag: failure.errorTag,
    ...(failure.refusal === true ? { refused: true } : {})
  }
})

/** The units forward until one fails: the failure (if any) and the context they left. */
export const runForward = <Ctx, R>(run: SagaRun<Ctx, R>, units: ReadonlyArray<Unit<Ctx, R>>, initial: Ctx) =>
  Effect.gen(function*() {
    let context = initial
    for (const unit of units) {
      const result = yield* runUnit(run, unit, context)
      if (result._tag === "Failed") {
        return [Option.some(result), context] as const
      }
      if (Option.isSome(result.context)) context = result.context.value
    }
    return [Option.none<Failed>(), context] as const
  })

/** Every compensation due (see `toCompensate`): the error records of those rejected for good. */
export const runCompensation = <Ctx, R>(run: SagaRun<Ctx, R>, units: ReadonlyArray<Unit<Ctx, R>>, context: Ctx) =>
  Effect.gen(function*() {
    const rejected: Array<SagaErrorRecord> = []
    for (const step of toCompensate(stepsOf(units), run.log)) {
      const result = yield* runStep(run, step, "compensation", context, true)
      if (result._tag === "Failed") {
        const record = errorRecord(run, step.name, "needs_attention", result.failure)
        rejected.push(record)
        yield* Effect.logError(record.message).pipe(Effect.annotateLogs({ error: record }))
      }
    }
    return rejected
  })

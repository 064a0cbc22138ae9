import type { SqlClient } from "@effect/sql"
import { Clock, type Context, Effect, Either, Metric, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { Park } from "../outbox/EventHandler.ts"
import { sagaDuration, sagaFinished, sagaStarted } from "./Metrics.ts"
import { runStep, type StepResult } from "./RunStep.ts"
import {
  type EndState,
  type SagaDefinition,
  type SagaErrorRecord,
  SagaErrorRecordSchema,
  type Step,
  stepsOf,
  type Unit
} from "./Saga.ts"
import type { SagaConfig } from "./SagaConfig.ts"
import type { SagaRepo } from "./SagaRepo.ts"
import type { InstanceRow } from "./SagaRows.ts"
import { flushDone, logKey, type SagaRun, takeDone } from "./SagaRun.ts"
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

/** What a saga's runs share: built once per handler. */
export interface SagaEnv<Ctx, CtxEncoded, Payload, R> {
  readonly saga: SagaDefinition<Ctx, CtxEncoded, Payload, R>
  readonly settings: SagaConfig
  readonly sql: SqlClient.SqlClient
  readonly repo: SagaRepo
  readonly services: Context.Context<R>
}

const decodeError = Schema.decodeUnknown(SagaErrorRecordSchema)

/** The saga's first step, if it starts with a single step (not a parallel group). */
const firstStepOf = <Ctx, R>(units: ReadonlyArray<Unit<Ctx, R>>) => units[0]?._tag === "Step" ? units[0].name : null

/** The saga as `open` left it: `created` when this run created it (and started its first step). */
export interface OpenedSaga {
  readonly row: InstanceRow
  readonly created: boolean
}

/**
 * Opens the saga of an event for a run in one statement (see `SagaRepo.open`): a new saga is
 * created with its first step's attempt 1 started; an existing one is taken.
 */
export const openSaga = <Ctx, CtxEncoded, Payload, R>(
  env: SagaEnv<Ctx, CtxEncoded, Payload, R>,
  event: { readonly eventId: string; readonly aggregateId: string; readonly payload: Payload },
  runToken: string
) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    return yield* env.repo.open({
      id: randomUUID(),
      type: env.saga.type,
      eventId: event.eventId,
      aggregateId: event.aggregateId,
      context: yield* Schema.encode(env.saga.context)(env.saga.initialContext(event.payload)),
      deadlineMs: now + env.settings.sagaTimeoutMs,
      runToken,
      firstStep: firstStepOf(env.saga.units)
    })
  })

/** A saga reached its end state: the outcome metrics, and one log line with outcome and duration. */
const finished = (type: string, row: InstanceRow, state: EndState, error: SagaErrorRecord | undefined) =>
  Effect.gen(function*() {
    // Whole milliseconds: created_ms comes from the database's clock with microseconds.
    const durationMs = Math.max(0, Math.round((yield* Clock.currentTimeMillis) - row.created_ms))
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const tagged = <M extends Metric.Metric<any, any, any>>(metric: M) =>
      metric.pipe(Metric.tagged("saga.type", type), Metric.tagged("saga.outcome", state)) as M
    yield* Metric.update(tagged(sagaFinished), 1)
    yield* Metric.update(tagged(sagaDuration), durationMs)
    yield* Effect.annotateCurrentSpan({ "saga.state": state })
    const line = `saga ${state} after ${durationMs} ms${error === undefined ? "" : `: ${error.message}`}`
    yield* (state === "needs_attention" ? Effect.logError(line) : Effect.logInfo(line)).pipe(
      Effect.annotateLogs({
        "saga.outcome": state,
        "saga.duration_ms": durationMs,
        ...(error === undefined ? {} : { error })
      })
    )
  })

/**
 * Runs a taken saga from where its log stands to an end state: forward while `running`, then
 * (backward recovery) compensation in reverse order of completion; the end state and the saga's
 * own `finish` in one transaction.
 */
export const resumeSaga = <Ctx, CtxEncoded, Payload, R>(
  env: SagaEnv<Ctx, CtxEncoded, Payload, R>,
  { created, row }: OpenedSaga,
  runToken: string,
  initial: Ctx
) =>
  Effect.gen(function*() {
    const { repo, saga, services, settings, sql } = env
    const recovery = saga.recovery ?? "backward"
    const sagaId = row.id
    const run: SagaRun<Ctx, R> = {
      sagaId,
      sagaType: saga.type,
      aggregateId: row.aggregate_id,
      runToken,
      deadlineMs: row.deadline_ms,
      recovery,
      settings,
      repo,
      services,
      // A saga this run created has no log yet: reading it would cost a statement for nothing.
      log: new Map(created ? [] : (yield* repo.steps(sagaId)).map((r) => [logKey(r.step, r.phase), r])),
      encodeContext: Schema.encode(saga.context),
      unwritten: {
        done: Option.none(),
        started: created && firstStepOf(saga.units) !== null ? logKey(firstStepOf(saga.units)!, "forward") : undefined
      }
    }
    if (created) {
      yield* Metric.update(sagaStarted.pipe(Metric.tagged("saga.type", saga.type)), 1)
    }
    let context = initial
    const errorRecord = (step: string, state: string, failure: StepFailure): SagaErrorRecord => ({
      message: failure.message,
      details: {
        saga: { id: sagaId, type: saga.type, step, state },
        errorTag: failure.errorTag,
        ...(failure.refusal === true ? { refused: true } : {})
      }
    })

    const forward = Effect.gen(function*() {
      for (const unit of saga.units) {
        const result = yield* runUnit(run, unit, context)
        if (result._tag === "Failed") {
          return Option.some(result)
        }
        if (Option.isSome(result.context)) context = result.context.value
      }
      return Option.none<Failed>()
    })

    const compensate = Effect.gen(function*() {
      const rejected: Array<SagaErrorRecord> = []
      for (const step of toCompensate(stepsOf(saga.units), run.log)) {
        const result = yield* runStep(run, step, "compensation", context, true)
        if (result._tag === "Failed") {
          const record = errorRecord(step.name, "needs_attention", result.failure)
          rejected.push(record)
          yield* Effect.logError(record.message).pipe(Effect.annotateLogs({ error: record }))
        }
      }
      return rejected
    })

    const end = (state: EndState, error: SagaErrorRecord | undefined) =>
      sql.withTransaction(
        Effect.zipRight(
          Effect.suspend(() =>
            repo.finish({ sagaId, runToken, state, error, done: takeDone(run as SagaRun<unknown, unknown>) })
          ),
          saga.finish(context, error === undefined ? { state } : { state, error }).pipe(Effect.provide(services))
        )
      ).pipe(Effect.zipRight(finished(saga.type, row, state, error)))

    let reason: SagaErrorRecord | undefined = undefined
    if (row.state === "compensating" && row.error !== null) {
      reason = yield* decodeError(row.error).pipe(Effect.orElseSucceed(() => undefined))
    }
    if (row.state === "running") {
      const failed = yield* forward
      if (Option.isNone(failed)) return yield* end("completed", undefined)
      if (recovery === "forward") {
        return yield* end("needs_attention", errorRecord(failed.value.step, "needs_attention", failed.value.failure))
      }
      reason = errorRecord(failed.value.step, "compensating", failed.value.failure)
      yield* Effect.logWarning(`compensating: ${reason.message}`).pipe(Effect.annotateLogs({ error: reason }))
      yield* flushDone(run as SagaRun<unknown, unknown>)
      yield* repo.beginCompensation({ sagaId, runToken, error: reason })
    }
    const rejected = yield* compensate
    if (rejected.length > 0) return yield* end("needs_attention", rejected[0])
    if (reason?.details.refused === true) {
      return yield* end("needs_attention", {
        ...reason,
        details: { ...reason.details, saga: { ...reason.details.saga, state: "needs_attention" } }
      })
    }
    return yield* end("compensated", reason)
  })

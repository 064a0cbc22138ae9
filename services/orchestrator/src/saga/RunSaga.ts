import type { SqlClient } from "@effect/sql"
import { Clock, type Context, Effect, Metric, Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { sagaDuration, sagaFinished, sagaStarted } from "./Metrics.ts"
import { errorRecord, runCompensation, runForward } from "./RunPhases.ts"
import { type EndState, type SagaDefinition, type SagaErrorRecord, SagaErrorRecordSchema, type Unit } from "./Saga.ts"
import type { SagaConfig } from "./SagaConfig.ts"
import type { SagaRepo } from "./SagaRepo.ts"
import type { InstanceRow } from "./SagaRows.ts"
import { flushDone, logKey, type SagaRun, takeDone } from "./SagaRun.ts"

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

/** This run's state of the saga: a created saga has no log yet, and its first step is started. */
const startRun = <Ctx, CtxEncoded, Payload, R>(
  { repo, saga, services, settings }: SagaEnv<Ctx, CtxEncoded, Payload, R>,
  { created, row }: OpenedSaga,
  runToken: string
) =>
  Effect.gen(function*() {
    const firstStep = firstStepOf(saga.units)
    const run: SagaRun<Ctx, R> = {
      sagaId: row.id,
      sagaType: saga.type,
      aggregateId: row.aggregate_id,
      runToken,
      deadlineMs: row.deadline_ms,
      recovery: saga.recovery ?? "backward",
      settings,
      repo,
      services,
      // A saga this run created has no log yet: reading it would cost a statement for nothing.
      log: new Map(created ? [] : (yield* repo.steps(row.id)).map((r) => [logKey(r.step, r.phase), r])),
      encodeContext: Schema.encode(saga.context),
      unwritten: {
        done: Option.none(),
        started: created && firstStep !== null ? logKey(firstStep, "forward") : undefined
      }
    }
    if (created) {
      yield* Metric.update(sagaStarted.pipe(Metric.tagged("saga.type", saga.type)), 1)
    }
    return run
  })

/** The end state and the saga's own `finish` in one transaction; then the outcome's metrics and log. */
const endSaga = <Ctx, CtxEncoded, Payload, R>(
  { repo, saga, services, sql }: SagaEnv<Ctx, CtxEncoded, Payload, R>,
  run: SagaRun<Ctx, R>,
  row: InstanceRow,
  context: Ctx,
  state: EndState,
  error: SagaErrorRecord | undefined
) =>
  sql.withTransaction(
    Effect.zipRight(
      Effect.suspend(() =>
        repo.finish({
          sagaId: run.sagaId,
          runToken: run.runToken,
          state,
          error,
          done: takeDone(run as SagaRun<unknown, unknown>)
        })
      ),
      saga.finish(context, error === undefined ? { state } : { state, error }).pipe(Effect.provide(services))
    )
  ).pipe(Effect.zipRight(finished(saga.type, row, state, error)))

/**
 * Runs a taken saga from where its log stands to an end state: forward while `running`, then
 * (backward recovery) compensation in reverse order of completion; the end state and the saga's
 * own `finish` in one transaction.
 */
export const resumeSaga = <Ctx, CtxEncoded, Payload, R>(
  env: SagaEnv<Ctx, CtxEncoded, Payload, R>,
  opened: OpenedSaga,
  runToken: string,
  initial: Ctx
) =>
  Effect.gen(function*() {
    const { repo, saga } = env
    const { row } = opened
    const run = yield* startRun(env, opened, runToken)
    let context = initial
    const end = (state: EndState, error: SagaErrorRecord | undefined) => endSaga(env, run, row, context, state, error)

    let reason: SagaErrorRecord | undefined = undefined
    if (row.state === "compensating" && row.error !== null) {
      reason = yield* decodeError(row.error).pipe(Effect.orElseSucceed(() => undefined))
    }
    if (row.state === "running") {
      const [failed, reached] = yield* runForward(run, saga.units, context)
      context = reached
      if (Option.isNone(failed)) return yield* end("completed", undefined)
      if (run.recovery === "forward") {
        return yield* end(
          "needs_attention",
          errorRecord(run, failed.value.step, "needs_attention", failed.value.failure)
        )
      }
      reason = errorRecord(run, failed.value.step, "compensating", failed.value.failure)
      yield* Effect.logWarning(`compensating: ${reason.message}`).pipe(Effect.annotateLogs({ error: reason }))
      yield* flushDone(run as SagaRun<unknown, unknown>)
      yield* repo.beginCompensation({ sagaId: run.sagaId, runToken, error: reason })
    }
    const rejected = yield* runCompensation(run, saga.units, context)
    if (rejected.length > 0) return yield* end("needs_attention", rejected[0])
    if (reason?.details.refused === true) {
      return yield* end("needs_attention", {
        ...reason,
        details: { ...reason.details, saga: { ...reason.details.saga, state: "needs_attention" } }
      })
    }
    return yield* end("compensated", reason)
  })

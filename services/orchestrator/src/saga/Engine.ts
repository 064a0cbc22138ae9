import { Headers, HttpTraceContext } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Cause, Clock, Duration, Effect, Either, Exit, Option, ParseResult, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { HandlerError, makeHandler, type OutboxEvent, Park } from "../outbox/EventHandler.ts"
import { compensationRetry, delayBefore, forwardRetry, persistentRetry } from "./Retry.ts"
import {
  type EndState,
  idempotencyKey,
  type Phase,
  type SagaDefinition,
  type SagaErrorRecord,
  SagaErrorRecordSchema,
  type Step,
  stepsOf
} from "./Saga.ts"
import { makeSagaRepo, type StepRow } from "./SagaRepo.ts"
import { SagaSettings } from "./SagaSettings.ts"
import { StepFailure } from "./StepFailure.ts"

type StepResult =
  | { readonly _tag: "Succeeded" }
  | { readonly _tag: "Failed"; readonly step: string; readonly failure: StepFailure }

const Succeeded: StepResult = { _tag: "Succeeded" }
const logKey = (step: string, phase: Phase) => `${step}/${phase}`

const formatParseError = (error: ParseResult.ParseError) =>
  ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, "; ")

/**
 * Turns a saga definition into the outbox handler of its trigger event. One handler run takes the
 * saga (fencing out older runs), reads its step log, and continues from there: completed steps
 * are skipped, never re-run, and no code is replayed to rebuild state. A retry whose delay is
 * longer than SAGA_INLINE_RETRY_MAX_MS (or an open circuit) persists the step as `waiting` and
 * fails with Park: the outbox row comes back after the delay and this function resumes the saga.
 */
export const sagaHandler = <Ctx, CtxEncoded, Payload, R>(saga: SagaDefinition<Ctx, CtxEncoded, Payload, R>) =>
  Effect.gen(function*() {
    const settings = yield* SagaSettings
    const sql = yield* SqlClient.SqlClient
    const services = yield* Effect.context<R>()
    const repo = makeSagaRepo(sql)
    const steps = stepsOf(saga.units)
    const recovery = saga.recovery ?? "backward"
    const encodeContext = Schema.encode(saga.context)
    const decodeContext = Schema.decodeUnknown(saga.context, { errors: "all" })
    const decodeError = Schema.decodeUnknown(SagaErrorRecordSchema)

    const run = (event: OutboxEvent<Payload>) =>
      Effect.gen(function*() {
        const runToken = randomUUID()
        const now = yield* Clock.currentTimeMillis
        const initial = yield* encodeContext(saga.initialContext(event.payload))
        yield* repo.create({
          id: randomUUID(),
          type: saga.type,
          eventId: event.eventId,
          aggregateId: event.aggregateId,
          context: initial,
          deadlineMs: now + settings.sagaTimeoutMs
        })
        const row = yield* Effect.flatten(repo.take(event.eventId, runToken))
        if (row.saga_type !== saga.type) {
          return yield* new HandlerError({
            retryable: false,
            message: `event ${event.eventId} started a ${row.saga_type} saga, not ${saga.type}`
          })
        }
        const sagaId = row.id
        yield* Effect.annotateCurrentSpan({ "saga.id": sagaId, "saga.type": saga.type, "saga.state": row.state })
        if (row.state !== "running" && row.state !== "compensating") {
          // A re-delivered event whose saga already ended (a crash before the outbox row was done).
          yield* Effect.logDebug(`saga already ${row.state}`)
          return
        }
        let context = yield* decodeContext(row.context).pipe(
          Effect.mapError((error) =>
            new HandlerError({
              retryable: false,
              message: `saga ${sagaId}: stored context does not match ${saga.type}: ${formatParseError(error)}`
            })
          )
        )
        const log = new Map<string, StepRow>((yield* repo.steps(sagaId)).map((r) => [logKey(r.step, r.phase), r]))

        const errorRecord = (step: string, state: string, failure: StepFailure): SagaErrorRecord => ({
          message: failure.message,
          details: { saga: { id: sagaId, type: saga.type, step, state }, errorTag: failure.errorTag }
        })

        const runStep = (step: Step<Ctx, R>, phase: Phase) =>
          Effect.gen(function*() {
            const key = logKey(step.name, phase)
            const previous = log.get(key)
            if (previous?.status === "succeeded") return Succeeded
            if (previous?.status === "failed" && phase === "compensation") {
              // Rejected for good in an earlier run: recorded, not retried.
              return {
                _tag: "Failed",
                step: step.name,
                failure: new StepFailure({
                  kind: "permanent",
                  unknownOutcome: false,
                  errorTag: "CompensationRejected",
                  message: previous.last_error ?? "compensation rejected"
                })
              } satisfies StepResult
            }
            const policy = phase === "compensation"
              ? (step.compensationRetry ?? compensationRetry)
              : (step.retry ?? (recovery === "forward" ? persistentRetry : forwardRetry))
            const timeoutMs = Duration.toMillis(step.timeout ?? Duration.millis(settings.stepTimeoutMs))
            const call = phase === "forward" ? step.action : step.compensation
            if (call === undefined) return Succeeded
            let attempts = previous?.attempts ?? 0
            // A step the log shows `running` was cut short by a crash mid-call: it may have been applied.
            let unknownOutcome = (previous?.outcome_unknown ?? false) || previous?.status === "running"
            const mustMeetDeadline = phase === "forward" && recovery === "backward"

            while (true) {
              const now = yield* Clock.currentTimeMillis
              if (mustMeetDeadline && now >= row.deadline_ms) {
                const failure = new StepFailure({
                  kind: "permanent",
                  unknownOutcome,
                  errorTag: "SagaTimeout",
                  message: `saga did not finish within SAGA_TIMEOUT_MS (${settings.sagaTimeoutMs} ms); stopped at ${step.name}`
                })
                if (log.has(key)) {
                  const endedMs = yield* repo.failed(sagaId, runToken, step.name, phase, "failed", attempts, failure.message, unknownOutcome)
                  log.set(key, { step: step.name, phase, status: "failed", attempts, outcome_unknown: unknownOutcome, last_error: failure.message, ended_ms: endedMs })
                }
                return { _tag: "Failed", step: step.name, failure } satisfies StepResult
              }
              attempts += 1
              yield* repo.startAttempt(sagaId, runToken, step.name, phase, attempts)
              const exit = yield* call({ sagaId, context, idempotencyKey: idempotencyKey(sagaId, step.name, phase) }).pipe(
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
                Effect.provide(services),
                Effect.withSpan(`SagaEngine.${phase === "forward" ? "step" : "compensate"}`, {
                  attributes: { "saga.step": step.name, "saga.attempt": attempts }
                }),
                Effect.exit
              )
              if (Exit.isSuccess(exit)) {
                const produced = exit.value
                let stored = Option.none<unknown>()
                if (produced !== undefined) {
                  context = produced as Ctx
                  stored = Option.some(yield* encodeContext(context))
                }
                const endedMs = yield* repo.succeeded(sagaId, runToken, step.name, phase, stored)
                log.set(key, { step: step.name, phase, status: "succeeded", attempts, outcome_unknown: unknownOutcome, last_error: null, ended_ms: endedMs })
                return Succeeded
              }
              const failure = yield* Option.match(Cause.failureOption(exit.cause), {
                onNone: () => Effect.failCause(exit.cause as Cause.Cause<never>),
                onSome: Effect.succeed
              })
              unknownOutcome = unknownOutcome || failure.unknownOutcome
              // An open circuit refused the call before it was made: that is not an attempt, and
              // the wait is the circuit's, not the policy's. Counting it would spend the retry
              // budget in seconds of fail-fast answers; the deadline bounds the wait instead.
              if (failure.notAttempted === true) attempts -= 1
              const delay = failure.notAttempted === true
                ? Option.some(Duration.millis(failure.retryAfterMs ?? 0))
                : failure.kind === "transient"
                ? yield* delayBefore(policy, attempts)
                : Option.none()
              if (Option.isNone(delay)) {
                const final = failure.kind === "transient"
                  ? new StepFailure({ ...failure, kind: "permanent", message: `${failure.message} (gave up after ${attempts} attempts)` })
                  : failure
                const endedMs = yield* repo.failed(sagaId, runToken, step.name, phase, "failed", attempts, final.message, unknownOutcome)
                log.set(key, { step: step.name, phase, status: "failed", attempts, outcome_unknown: unknownOutcome, last_error: final.message, ended_ms: endedMs })
                return { _tag: "Failed", step: step.name, failure: final } satisfies StepResult
              }
              const endedMs = yield* repo.failed(sagaId, runToken, step.name, phase, "waiting", attempts, failure.message, unknownOutcome)
              log.set(key, { step: step.name, phase, status: "waiting", attempts, outcome_unknown: unknownOutcome, last_error: failure.message, ended_ms: endedMs })
              let delayMs = Math.max(Duration.toMillis(delay.value), failure.retryAfterMs ?? 0)
              if (mustMeetDeadline) delayMs = Math.min(delayMs, Math.max(0, row.deadline_ms - (yield* Clock.currentTimeMillis)))
              if (delayMs > settings.inlineRetryMaxMs) {
                return yield* new Park({
                  delayMs: Math.ceil(delayMs),
                  reason: `saga ${sagaId} waits ${Math.ceil(delayMs)} ms before attempt ${attempts + 1} of ${step.name}/${phase}: ${failure.message}`
                })
              }
              yield* Effect.sleep(Duration.millis(delayMs))
            }
          })

        /** Runs the units in order; a parallel unit's members run together and all settle. */
        const forward = Effect.gen(function*() {
          for (const unit of saga.units) {
            const members = unit._tag === "Step" ? [unit] : unit.steps
            const results = yield* Effect.all(members.map((member) => Effect.either(runStep(member, "forward"))), {
              concurrency: "unbounded"
            })
            for (const result of results) {
              if (Either.isRight(result) && result.right._tag === "Failed") return Option.some(result.right)
            }
            const errors = results.filter(Either.isLeft).map((r) => r.left)
            const other = errors.find((e) => e._tag !== "Park")
            if (other !== undefined) return yield* Effect.fail(other)
            const parks = errors.filter((e): e is Park => e._tag === "Park")
            if (parks.length > 0) {
              return yield* new Park({ delayMs: Math.min(...parks.map((p) => p.delayMs)), reason: parks[0]!.reason })
            }
          }
          return Option.none<Extract<StepResult, { _tag: "Failed" }>>()
        })

        /**
         * Reverse order of completion (end time, latest first; definition order breaks ties), for
         * every step that succeeded and every step whose outcome is unknown: one that failed in a
         * way that may have applied it, or one a crash left running. End times are always the
         * database's (`ended_at`, returned by each write), never this replica's Clock: steps of
         * earlier runs and of this one are compared, and two clocks would misorder them.
         */
        const toCompensate = () =>
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

        const compensate = Effect.gen(function*() {
          const rejected: Array<SagaErrorRecord> = []
          for (const step of toCompensate()) {
            const result = yield* runStep(step, "compensation")
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
              repo.finish(sagaId, runToken, state, error),
              saga.finish(context, error === undefined ? { state } : { state, error }).pipe(
                Effect.provideService(SqlClient.SqlClient, sql)
              )
            )
          ).pipe(
            Effect.zipRight(
              state === "needs_attention" && error !== undefined
                ? Effect.logError(`saga needs attention: ${error.message}`).pipe(Effect.annotateLogs({ error }))
                : Effect.logInfo(`saga ${state}${error === undefined ? "" : `: ${error.message}`}`)
            )
          )

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
          yield* repo.beginCompensation(sagaId, runToken, reason)
        }
        const rejected = yield* compensate
        if (rejected.length > 0) return yield* end("needs_attention", rejected[0])
        return yield* end("compensated", reason)
      }).pipe(
        Effect.catchTags({
          SqlError: (error) =>
            new HandlerError({ retryable: true, message: `saga ${saga.type}: database: ${error.message}`, cause: error }),
          SagaTakenOver: (error) =>
            new HandlerError({ retryable: true, message: `saga ${error.sagaId} was taken over by a newer run` }),
          ParseError: (error) =>
            new HandlerError({ retryable: false, message: `saga ${saga.type}: context does not encode: ${formatParseError(error)}` }),
          NoSuchElementException: () =>
            new HandlerError({ retryable: true, message: `saga ${saga.type}: saga row of event ${event.eventId} vanished` })
        }),
        Effect.annotateLogs({ saga_type: saga.type, aggregate_id: event.aggregateId }),
        Effect.withSpan("SagaEngine.run", {
          attributes: { "saga.type": saga.type, "event.id": event.eventId },
          ...Option.match(HttpTraceContext.fromHeaders(Headers.fromInput(stringHeaders(event.headers))), {
            onNone: () => ({}),
            onSome: (parent) => ({ parent })
          })
        })
      )

    return makeHandler(saga.eventType, saga.payload, run)
  })

const stringHeaders = (headers: Readonly<Record<string, unknown>>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === "string"))

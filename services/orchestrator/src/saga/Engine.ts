import { SqlClient } from "@effect/sql"
import { Effect, ParseResult, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { HandlerError, makeHandler, type OutboxEvent } from "../outbox/EventHandler.ts"
import { openSaga, resumeSaga, type SagaEnv } from "./RunSaga.ts"
import type { SagaDefinition } from "./Saga.ts"
import { SagaRepo } from "./SagaRepo.ts"
import { SagaSettings } from "./SagaSettings.ts"

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
    const repo = yield* SagaRepo
    const services = yield* Effect.context<R>()
    const env: SagaEnv<Ctx, CtxEncoded, Payload, R> = { saga, settings, sql, repo, services }
    const decodeContext = Schema.decodeUnknown(saga.context, { errors: "all" })

    /** Opens the event's saga for this run (creating it, or taking it over). */
    const takeSaga = (event: OutboxEvent<Payload>, runToken: string) =>
      Effect.gen(function*() {
        const opened = yield* openSaga(env, event, runToken)
        if (opened.row.saga_type !== saga.type) {
          return yield* new HandlerError({
            retryable: false,
            message: `event ${event.eventId} started a ${opened.row.saga_type} saga, not ${saga.type}`
          })
        }
        return opened
      })

    const run = (event: OutboxEvent<Payload>) =>
      Effect.gen(function*() {
        const runToken = randomUUID()
        const opened = yield* takeSaga(event, runToken)
        const { row } = opened
        yield* Effect.annotateCurrentSpan({ "saga.id": row.id, "saga.type": saga.type, "saga.state": row.state })
        // From here on every log line names the saga (and, from the annotations below, its order and event).
        yield* Effect.gen(function*() {
          if (row.state !== "running" && row.state !== "compensating") {
            // A re-delivered event whose saga already ended (a crash before the outbox row was done).
            yield* Effect.logDebug(`saga already ${row.state}`)
            return
          }
          const context = yield* decodeContext(row.context).pipe(
            Effect.mapError((error) =>
              new HandlerError({
                retryable: false,
                message: `saga ${row.id}: stored context does not match ${saga.type}: ${formatParseError(error)}`
              })
            )
          )
          yield* resumeSaga(env, opened, runToken, context)
        }).pipe(Effect.annotateLogs({ "saga.id": row.id }))
      }).pipe(
        Effect.catchTags({
          SqlError: (error) =>
            new HandlerError({
              retryable: true,
              message: `saga ${saga.type}: database: ${error.message}`,
              cause: error
            }),
          SagaTakenOver: (error) =>
            new HandlerError({ retryable: true, message: `saga ${error.sagaId} was taken over by a newer run` }),
          ParseError: (error) =>
            new HandlerError({
              retryable: false,
              message: `saga ${saga.type}: context does not encode: ${formatParseError(error)}`
            })
        }),
        Effect.annotateLogs({ "saga.type": saga.type, "order.id": event.aggregateId, "event.id": event.eventId }),
        // A child of the worker's `outbox.process` span, which continues or links the producer's trace.
        Effect.withSpan(`saga.${saga.type}`, {
          attributes: { "order.id": event.aggregateId, "event.id": event.eventId }
        })
      )

    return makeHandler(saga.eventType, saga.payload, run)
  })

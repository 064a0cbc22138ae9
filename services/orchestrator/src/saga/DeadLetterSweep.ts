import { Effect } from "effect"
import { handToOperator } from "./Attention.ts"
import type { AnySaga, SagaErrorRecord } from "./Saga.ts"
import { SagaRepo } from "./SagaRepo.ts"
import { SagaSettings } from "./SagaSettings.ts"
import { sweepSchedule } from "./Schedules.ts"

/**
 * A saga lives in the handler of its trigger event. When the worker dead-letters that event
 * (MAX_ATTEMPTS runs ended in retryable errors, a non-retryable error, or a lease that expired on
 * the last attempt), nothing will ever run the saga again: it would stay running or compensating
 * with its ledger row PENDING while a reservation or a capture may be held. One pass finds those
 * sagas and hands each to an operator (needs_attention, ledger NEEDS_ATTENTION with the reason),
 * logging an error. Returns how many this pass parked.
 */
export const sweepDeadLettered = <R>(sagas: ReadonlyArray<AnySaga<R>>) =>
  Effect.gen(function*() {
    const repo = yield* SagaRepo
    const known = new Map(sagas.map((saga) => [saga.type, saga]))
    let parked = 0
    for (const row of yield* repo.deadLettered) {
      const step = row.current_step ?? "start"
      const error: SagaErrorRecord = {
        message: `its event ${row.event_id} was dead-lettered: ${row.last_error ?? "no error recorded"}; ` +
          `the saga stopped while ${row.state} at ${step} and nothing will resume it`,
        details: {
          saga: { id: row.id, type: row.saga_type, step, state: "needs_attention" },
          errorTag: "EventDeadLettered"
        }
      }
      const outcome = yield* handToOperator(known.get(row.saga_type), row, error)
      if (!outcome.parked) continue
      parked++
      yield* Effect.logError(
        `saga needs attention: ${error.message}${outcome.ledgerUpdated ? "" : " (its ledger row was not updated)"}`
      ).pipe(Effect.annotateLogs({ error, saga_type: row.saga_type }))
    }
    return parked
  }).pipe(Effect.withSpan("SagaEngine.sweepDeadLettered"))

/**
 * One sweep now (run it after deploy safety, before the worker claims), then one every
 * SAGA_DEAD_LETTER_SWEEP_MS for as long as the scope lives. A failed pass is logged and the next
 * one tries again.
 */
export const startDeadLetterSweep = <R>(sagas: ReadonlyArray<AnySaga<R>>) =>
  Effect.gen(function*() {
    const settings = yield* SagaSettings
    const pass = sweepDeadLettered(sagas).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("dead-letter sweep failed; the next one retries", cause))
    )
    yield* pass
    // `schedule` waits before each pass (`repeat` would run a second pass at once).
    yield* Effect.forkScoped(Effect.schedule(pass, sweepSchedule(settings.deadLetterSweepMs)))
  }).pipe(Effect.annotateLogs({ saga_sweep: "dead_letters" }))

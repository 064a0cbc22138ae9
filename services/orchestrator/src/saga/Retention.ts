import { Effect } from "effect"
import { SagaRepo } from "./SagaRepo.ts"
import { SagaSettings } from "./SagaSettings.ts"
import { retentionSchedule } from "./Schedules.ts"

/** Small enough that one batch holds its row locks for milliseconds. */
export const retentionBatchSize = 500

/**
 * One retention pass: batches until one comes back short (nothing older left, or another replica
 * holds the lock). Returns how many sagas it deleted.
 */
export const pruneFinishedSagas = (batchSize = retentionBatchSize) =>
  Effect.gen(function*() {
    const { retentionHours } = yield* SagaSettings
    const repo = yield* SagaRepo
    let total = 0
    while (true) {
      const deleted = yield* repo.pruneFinished({ retentionHours, batchSize })
      total += deleted
      if (deleted < batchSize) return total
    }
  }).pipe(Effect.withSpan("SagaEngine.pruneFinishedSagas"))

/** Every minute on every replica, for as long as the scope lives; a failed pass is logged. */
export const startRetention = Effect.forkScoped(
  Effect.repeat(
    pruneFinishedSagas().pipe(
      Effect.tap((deleted) => deleted > 0 ? Effect.logDebug(`deleted ${deleted} finished saga(s)`) : Effect.void),
      Effect.catchAllCause((cause) => Effect.logWarning("saga retention failed; the next pass retries", cause))
    ),
    retentionSchedule
  )
).pipe(Effect.annotateLogs({ saga_sweep: "retention" }))

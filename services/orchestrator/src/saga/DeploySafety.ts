import { Data, Effect } from "effect"
import { handToOperator } from "./Attention.ts"
import { type AnySaga, type SagaErrorRecord, stepsOf } from "./Saga.ts"
import { SagaRepo } from "./SagaRepo.ts"
import { SagaSettings } from "./SagaSettings.ts"

export class UnknownSagaSteps extends Data.TaggedError("UnknownSagaSteps")<{ readonly message: string }> {}

/**
 * Running sagas outlive deploys. Before the worker claims anything, every in-flight saga must be
 * at (and have a log of) steps this code defines; a renamed or removed step would otherwise be
 * skipped or never compensated. With SAGA_UNKNOWN_STEPS=refuse (the default) startup fails and
 * lists them; with `park` they are set to needs_attention (ledger included) for an operator.
 */
export const checkDeploySafety = <R>(sagas: ReadonlyArray<AnySaga<R>>) =>
  Effect.gen(function*() {
    const settings = yield* SagaSettings
    const repo = yield* SagaRepo
    const known = new Map(
      sagas.map((saga) => [saga.type, { saga, steps: new Set(stepsOf(saga.units).map((s) => s.name)) }])
    )
    const stranded = (yield* repo.inFlight).flatMap((row) => {
      const definition = known.get(row.saga_type)
      if (definition === undefined) return [{ row, unknown: [`saga type ${row.saga_type}`] }]
      const names = [...new Set([...(row.current_step === null ? [] : [row.current_step]), ...row.logged_steps])]
      const unknown = names.filter((name) => !definition.steps.has(name))
      return unknown.length === 0 ? [] : [{ row, unknown: unknown.map((name) => `step ${name}`) }]
    })
    if (stranded.length === 0) return
    const listing = stranded.map(({ row, unknown }) =>
      `${row.id} (${row.saga_type}, ${row.state}: ${unknown.join(", ")})`
    )
    if (settings.unknownSteps === "refuse") {
      return yield* new UnknownSagaSteps({
        message:
          `${stranded.length} in-flight saga(s) are at steps this code does not define: ${listing.join("; ")}. ` +
          "Deploy a version that has them, or set SAGA_UNKNOWN_STEPS=park to hand them to an operator"
      })
    }
    for (const { row, unknown } of stranded) {
      const error: SagaErrorRecord = {
        message: `parked at startup: this code does not define ${unknown.join(", ")}`,
        details: { saga: { id: row.id, type: row.saga_type, step: row.current_step ?? "", state: "needs_attention" } }
      }
      yield* handToOperator(known.get(row.saga_type)?.saga, row, error)
      yield* Effect.logError(error.message).pipe(Effect.annotateLogs({ error }))
    }
  }).pipe(Effect.withSpan("SagaEngine.checkDeploySafety"))

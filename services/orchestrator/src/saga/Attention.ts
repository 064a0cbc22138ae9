import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import type { AnySaga, SagaErrorRecord } from "./Saga.ts"
import { SagaRepo } from "./SagaRepo.ts"

/**
 * Hands an in-flight saga to an operator: `needs_attention` with the error, and the saga's own
 * `finish` (the ledger's NEEDS_ATTENTION), in one transaction. The write is guarded on the saga
 * still being in flight, so with many replicas doing this at once (or a late handler run ending it
 * meanwhile) exactly one wins and the ledger moves once. Returns whether this call parked it.
 * A context that no longer decodes still parks the saga; only the ledger is then left to the
 * operator (the returned flag says so).
 */
export const handToOperator = <R>(
  saga: AnySaga<R> | undefined,
  row: { readonly id: string; readonly context: unknown },
  error: SagaErrorRecord
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SagaRepo
    return yield* sql.withTransaction(Effect.gen(function*() {
      const parked = yield* repo.parkForAttention({ sagaId: row.id, error })
      if (!parked) return { parked, ledgerUpdated: false }
      const context = saga === undefined
        ? Option.none()
        : yield* Effect.option(Schema.decodeUnknown(saga.context)(row.context))
      if (saga === undefined || Option.isNone(context)) return { parked, ledgerUpdated: false }
      yield* saga.finish(context.value, { state: "needs_attention", error })
      return { parked, ledgerUpdated: true }
    }))
  })

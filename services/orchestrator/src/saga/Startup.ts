import type { SqlError } from "@effect/sql/SqlError"
import { Data, Effect } from "effect"
import { startupRetry } from "../outbox/Schedules.ts"
import { SagaSettings } from "./SagaSettings.ts"

export class StartupDatabaseError extends Data.TaggedError("StartupDatabaseError")<{ readonly message: string }> {}

/** The innermost message of an error chain: the driver's words, not "Failed to execute statement". */
export const rootCause = (error: unknown): string => {
  let current = error
  for (let depth = 0; depth < 10; depth++) {
    const cause = typeof current === "object" && current !== null && "cause" in current ? current.cause : undefined
    if (cause === undefined || cause === null) break
    current = cause
  }
  return current instanceof Error ? current.message : String(current)
}

/**
 * A database step of startup (deploy safety), retried with `startupRetry` for as long as
 * STARTUP_TIMEOUT_MS allows: a connection terminated while a replica starts, or a database still
 * coming up, must not stop it. What is left after that fails in one line with the root cause.
 * Only SqlError is retried; a refusal such as UnknownSagaSteps is an answer, not an outage.
 */
export const retryAtStartup = <A, E, R>(name: string, step: Effect.Effect<A, E | SqlError, R>) =>
  Effect.gen(function*() {
    const { startupTimeoutMs } = yield* SagaSettings
    const isSqlError = (error: E | SqlError): error is SqlError =>
      typeof error === "object" && error !== null && "_tag" in error && error._tag === "SqlError"
    return yield* step.pipe(
      Effect.tapError((error) =>
        isSqlError(error)
          ? Effect.logWarning(`${name}: database unavailable (${rootCause(error)}); retrying`)
          : Effect.void
      ),
      Effect.retry({
        schedule: startupRetry(startupTimeoutMs),
        while: isSqlError
      }),
      Effect.mapError((error) =>
        isSqlError(error)
          ? new StartupDatabaseError({
            message: `${name}: database unavailable for STARTUP_TIMEOUT_MS (${startupTimeoutMs} ms): ${
              rootCause(error)
            }`
          })
          : error as Exclude<E, SqlError>
      )
    )
  })

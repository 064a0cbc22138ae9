import { PgClient } from "@effect/sql-pg"
import { Config, Duration, Effect, Layer, Schedule } from "effect"
import { DatabaseConfig, describeTarget, poolConnection } from "./DatabaseConfig.ts"

export interface PgLiveOptions {
  readonly applicationName: string
  readonly maxConnections?: number
}

/** How long a process waits for Postgres at startup before it gives up. */
export const StartupTimeout = Config.integer("STARTUP_TIMEOUT_MS").pipe(
  Config.validate({ message: "must be a positive number of milliseconds", validation: (n) => n > 0 }),
  Config.withDefault(30_000)
)

export class DatabaseUnreachable extends Error {
  override readonly name = "DatabaseUnreachable"
}

/** Backoff between connection attempts at startup: 200 ms doubling to 5 s, jittered. */
const startupRetry = Schedule.exponential("200 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered
)

/**
 * The connection pool. Building it waits for Postgres for up to `STARTUP_TIMEOUT_MS`, retrying with
 * backoff, then fails with one line that names the target (never the password) and the last cause.
 */
export const PgLive = (options: PgLiveOptions) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const db = yield* DatabaseConfig
      const timeoutMs = yield* StartupTimeout
      const target = describeTarget(db)
      const pool = PgClient.layer({
        ...poolConnection(db),
        applicationName: options.applicationName,
        maxConnections: options.maxConnections ?? 10,
        connectTimeout: Duration.millis(Math.min(timeoutMs, 5_000))
      })
      return pool.pipe(
        Layer.tapErrorCause(() => Effect.logDebug(`Postgres at ${target} not reachable yet; retrying`)),
        Layer.retry(startupRetry.pipe(Schedule.upTo(Duration.millis(timeoutMs)))),
        Layer.catchAll((error) =>
          Layer.fail(
            new DatabaseUnreachable(
              `Postgres at ${target} is unreachable after ${timeoutMs} ms (STARTUP_TIMEOUT_MS): ${rootMessage(error)}`
            )
          )
        )
      )
    })
  )

const rootMessage = (error: unknown): string => {
  let current: unknown = error
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause
    if (cause === undefined || cause === null) break
    current = cause
  }
  if (current instanceof Error) {
    // AggregateError (e.g. ECONNREFUSED on ::1 and 127.0.0.1) carries the useful text in its parts.
    const parts = (current as Partial<AggregateError>).errors
    if (current.message === "" && Array.isArray(parts) && parts[0] instanceof Error) return parts[0].message
    return current.message
  }
  return String(current)
}

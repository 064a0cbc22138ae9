import { DatabaseConfig, describeTarget, poolConnection } from "@ecommerce/db"
import * as PgClient from "@effect/sql-pg/PgClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Config, Data, Duration, Effect, Layer, Option, Redacted } from "effect"

/** The port `npm start` gives its embedded Postgres (EMBEDDED_PG_PORT there too). */
export const EmbeddedPort = Config.port("EMBEDDED_PG_PORT").pipe(Config.withDefault(54329))

/** The embedded Postgres of `npm start`: superuser on loopback, database `ecommerce`. */
export const embeddedUrl = (port: number) => `postgres://postgres:postgres@127.0.0.1:${port}/ecommerce`

/** Any of the five `DATABASE_*` parts set means the operator chose a server; none means `npm start`'s. */
const partsSet = Config.all(
  ["DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD"].map((name) =>
    Config.option(Config.string(name))
  )
).pipe(Config.map((parts) => parts.some(Option.isSome)))

export class DatabaseUnavailable extends Data.TaggedError("DatabaseUnavailable")<{ readonly message: string }> {}

/**
 * Where the CLI connects: `DATABASE_URL`, else the `DATABASE_*` parts, else the embedded Postgres
 * that `npm start` runs. One connection attempt (CLI_CONNECT_TIMEOUT_MS, 3 s by default): an
 * operator wants an answer, not a retry loop.
 */
export const CliDatabase = Layer.unwrapEffect(
  Effect.gen(function*() {
    const db = yield* DatabaseConfig
    const useParts = yield* partsSet
    const timeoutMs = yield* Config.integer("CLI_CONNECT_TIMEOUT_MS").pipe(Config.withDefault(3_000))
    const embedded = Option.isNone(db.url) && !useParts
    const url = embedded ? Option.some(Redacted.make(embeddedUrl(yield* EmbeddedPort))) : db.url
    const target = describeTarget({ ...db, url })
    const hint = embedded
      ? " (no DATABASE_URL or DATABASE_* set, so this is npm start's embedded Postgres: is it running?)"
      : ""
    return PgClient.layer({
      ...poolConnection({ ...db, url }),
      applicationName: "orchestrator-cli",
      maxConnections: 2,
      connectTimeout: Duration.millis(timeoutMs)
    }).pipe(
      Layer.mapError((error) =>
        new DatabaseUnavailable({ message: `cannot reach Postgres at ${target}${hint}: ${causeText(error)}` })
      )
    )
  })
)

/** What the driver said (ECONNREFUSED on ::1 and 127.0.0.1 comes as an AggregateError of both). */
const causeText = (error: SqlError): string => {
  const cause = error.cause
  if (cause instanceof AggregateError && cause.errors[0] instanceof Error) return cause.errors[0].message
  return cause instanceof Error && cause.message !== "" ? cause.message : error.message
}

import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { Cause, Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const migrationsDirectory = fileURLToPath(new URL("../../../migrations", import.meta.url))

const fileName = /^(\d+)_([\w-]+)\.sql$/

/**
 * Loads `NNNN_name.sql` files. Each file is sent as one simple-protocol query, so it may hold several
 * statements; the Migrator runs the pending ones inside one transaction.
 */
export const sqlFileLoader = (directory: string): Migrator.Loader =>
  Effect.try({
    try: () =>
      readdirSync(directory)
        .flatMap((file): Array<Migrator.ResolvedMigration> => {
          const match = fileName.exec(file)
          if (!match) return []
          const text = readFileSync(join(directory, file), "utf8")
          return [[
            Number(match[1]),
            match[2]!,
            Effect.succeed(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(text)))
          ]]
        })
        .sort(([a], [b]) => a - b),
    catch: (cause) =>
      new Migrator.MigrationError({
        reason: "bad-state",
        message: `Cannot read migrations from ${directory}: ${cause}`
      })
  })

const runMigrator = Migrator.make({})

/**
 * Applies pending migrations. Concurrent runs (two replicas starting together) queue on a session
 * advisory lock: the Migrator's own table lock cannot cover the race to create its table.
 */
export const migrate = (directory: string = migrationsDirectory) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const lockConnection = yield* sql.reserve
    const lockKey = "ecommerce.migrations"
    yield* Effect.acquireRelease(
      lockConnection.executeRaw("select pg_advisory_lock(hashtext($1))", [lockKey]),
      () => Effect.orDie(lockConnection.executeRaw("select pg_advisory_unlock(hashtext($1))", [lockKey]))
    )
    return yield* runMigrator({ loader: sqlFileLoader(directory) }).pipe(Effect.catchAllCause(namedFailure))
  }).pipe(Effect.scoped, Effect.withSpan("Migrations.migrate"))

/**
 * The Migrator turns a failed migration into a defect whose message is only `Migration "90_x"
 * failed`; Postgres's reason is two causes down. Here it is a failure whose message says both
 * (`Migration "90_x" failed: Failed to execute statement: canceling statement due to lock timeout`).
 */
const namedFailure = <E>(cause: Cause.Cause<E>) => {
  const defects = [...Cause.defects(cause)]
  const defect = defects[0]
  // Only a cause that is exactly one failed migration; anything else is passed on as it is.
  if (
    defects.length !== 1 || !(defect instanceof Migrator.MigrationError) || Cause.failureOption(cause)._tag === "Some"
  ) {
    return Effect.failCause(cause)
  }
  const messages: Array<string> = []
  const seen = new Set<unknown>()
  for (let error: unknown = defect; isMessageCarrier(error) && !seen.has(error); error = error.cause) {
    seen.add(error)
    if (!messages.includes(error.message)) messages.push(error.message)
  }
  return Effect.fail(
    new Migrator.MigrationError({ reason: defect.reason, message: messages.join(": "), cause: defect.cause })
  )
}

const isMessageCarrier = (error: unknown): error is { message: string; cause?: unknown } =>
  typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string"

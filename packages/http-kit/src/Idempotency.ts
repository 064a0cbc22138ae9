import { IdempotencyKeyReused } from "@ecommerce/contracts"
import { SqlClient, SqlError } from "@effect/sql"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import { RetentionLive } from "./Retention.ts"

/**
 * Idempotency-Key handling, in the service's own `<schema>.idempotency_keys` table and in the same
 * transaction as the effect:
 * 1. insert the key with the request's fingerprint, `on conflict do nothing`;
 * 2. if the row was ours, run the effect and store its encoded response, then commit together;
 * 3. otherwise the key was used: a different fingerprint is `IdempotencyKeyReused` (422), the same
 *    one returns the stored response without running the effect.
 * A concurrent duplicate blocks on the primary key in step 1 until the first transaction ends: on
 * commit it replays the response, on rollback it claims the key itself. Failures (typed errors and
 * defects) roll back the key with the effect, so a rejected request is evaluated afresh on retry.
 */
export interface IdempotencyService {
  readonly run: <A, I, E, R>(
    options: {
      readonly key: string
      /** What identifies the request: the endpoint name, path parameters and decoded body. */
      readonly request: unknown
      readonly success: Schema.Schema<A, I>
    },
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | IdempotencyKeyReused, R>
  /**
   * Looks the key up without claiming it: the stored response when it completed for this request,
   * `IdempotencyKeyReused` when it was used for another, `None` when unused (or still in flight).
   * For handlers with work before `run` that must not repeat on a replay (a remote call).
   */
  readonly replay: <A, I>(options: {
    readonly key: string
    readonly request: unknown
    readonly success: Schema.Schema<A, I>
  }) => Effect.Effect<Option.Option<A>, IdempotencyKeyReused>
}

export class Idempotency extends Context.Tag("@ecommerce/http-kit/Idempotency")<Idempotency, IdempotencyService>() {
  /**
   * `table` is schema-qualified, e.g. `inventory.idempotency_keys`; it is a constant, never input.
   * The layer also prunes the table's keys after `IDEMPOTENCY_RETENTION_HOURS` (see Retention.ts).
   */
  static readonly layer = (table: string) =>
    Layer.effect(Idempotency, make(table)).pipe(Layer.merge(RetentionLive([{ table, column: "created_at" }])))
}

const make = (table: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const claim = (key: string, fingerprint: string) =>
      sql<{ key: string }>`
        insert into ${sql(table)} (key, fingerprint) values (${key}, ${fingerprint})
        on conflict (key) do nothing
        returning key`.pipe(Effect.map((rows) => rows.length === 1))

    const find = (key: string) =>
      sql<{ fingerprint: string; response: unknown }>`
        select fingerprint, response from ${sql(table)} where key = ${key}`.pipe(Effect.map((rows) => rows[0]))

    const complete = (key: string, response: string) =>
      sql`update ${sql(table)} set response = ${response}::jsonb where key = ${key}`

    const run: IdempotencyService["run"] = (options, effect) => {
      const fingerprint = fingerprintOf(options.request)
      const encode = Schema.encode(options.success)
      const decode = Schema.decodeUnknown(options.success)
      return sql.withTransaction(
        Effect.gen(function*() {
          if (yield* claim(options.key, fingerprint)) {
            const result = yield* effect
            const encoded = yield* Effect.orDie(encode(result))
            yield* complete(options.key, JSON.stringify(encoded))
            return result
          }
          const stored = yield* find(options.key)
          if (stored === undefined || stored.response === null) {
            // Unreachable: the row is claimed and completed in one transaction, and we read it only
            // after that transaction committed.
            return yield* Effect.dieMessage(`Idempotency key in ${table} has no stored response`)
          }
          if (stored.fingerprint !== fingerprint) {
            return yield* Effect.fail(reused())
          }
          yield* Effect.annotateCurrentSpan("idempotency.replayed", true)
          return yield* Effect.orDie(decode(stored.response))
        })
      ).pipe(
        Effect.catchIf(isSqlError, Effect.die),
        Effect.withSpan("Idempotency.run", { attributes: { "idempotency.table": table } })
      )
    }
    const replay: IdempotencyService["replay"] = (options) =>
      Effect.gen(function*() {
        const stored = yield* find(options.key)
        if (stored === undefined || stored.response === null) return Option.none()
        if (stored.fingerprint !== fingerprintOf(options.request)) return yield* Effect.fail(reused())
        yield* Effect.annotateCurrentSpan("idempotency.replayed", true)
        return Option.some(yield* Effect.orDie(Schema.decodeUnknown(options.success)(stored.response)))
      }).pipe(
        Effect.catchIf(isSqlError, Effect.die),
        Effect.withSpan("Idempotency.replay", { attributes: { "idempotency.table": table } })
      )

    return Idempotency.of({ run, replay })
  })

const reused = () =>
  new IdempotencyKeyReused({ message: "this Idempotency-Key was already used for a different request" })

const isSqlError = (u: unknown): u is SqlError.SqlError => u instanceof SqlError.SqlError

/** sha256 of the request as JSON with object keys sorted, so key order in a body does not matter. */
export const fingerprintOf = (request: unknown): string =>
  createHash("sha256").update(JSON.stringify(request, sortedKeys)).digest("hex")

const sortedKeys = (_key: string, value: unknown) =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value

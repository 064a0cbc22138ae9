import { SqlClient } from "@effect/sql"
import { Data, Duration, Effect, Schedule } from "effect"
import { randomUUID } from "node:crypto"

export class PingTimeout extends Data.TaggedError("PingTimeout")<{ readonly message: string }> {}

/**
 * `ping`: a Ping event through the whole pipeline (insert → NOTIFY → claim → handler → done).
 * The latency is the database's processed_at − created_at, so it includes the wake-up and claim.
 * A ping no worker took in time is deleted, so it cannot wake a worker much later.
 */
export const ping = (timeoutMs: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.gen(function*() {
      const aggregateId = `ping-${randomUUID()}`
      const [row] = yield* sql<{ id: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        values ('ping', ${aggregateId}, 'Ping', '{"source":"orchestrator ping"}'::jsonb)
        returning id::text as id`
      const done = sql<{ latency_ms: number }>`
        select (extract(epoch from processed_at - created_at) * 1000)::float8 as latency_ms
        from outbox where id = ${row!.id}::bigint and status = 'done'`.pipe(
        Effect.map((rows) => rows[0]),
        Effect.filterOrFail((found) => found !== undefined),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.map((found) => found!.latency_ms)
      )
      return yield* done.pipe(
        Effect.timeoutFail({
          duration: Duration.millis(timeoutMs),
          onTimeout: () => new PingTimeout({ message: `no worker handled the ping within ${timeoutMs} ms` })
        }),
        Effect.tapError(() =>
          sql`delete from outbox where id = ${row!.id}::bigint and status = 'pending'`.pipe(Effect.ignore)
        )
      )
    }))

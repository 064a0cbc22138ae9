/**
 * The upkeep statements that run every few seconds on every replica (the reaper's pass, the prune,
 * the outbox.rows counts) must find their rows through their own index whatever the statistics
 * say: autovacuum analyzes the table at arbitrary moments, and with statistics from a table that
 * held only one kind of row the reaper's pass walked the whole pending backlog (20,273 rows read
 * per pass, with a handful expired), the prune read every old done row after an analyze of an
 * empty table (18,500 to delete 500), and the counts read two to four times what they counted. Checked by the rows Postgres counts for the statement's transaction
 * (pg_stat_xact_user_tables, read before and after), not by time.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { makeOutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { rowsTouched } from "./fixtures/outboxRows.ts"

const backlog = 20_000
const processing = 256
const expired = 16

const analyzedStates = ["empty", "done", "dead", "pending", "processing"] as const

for (const analyzed of analyzedStates) {
  layer(WorkerTestDatabase, { excludeTestServices: true })(`upkeep, analyzed with ${analyzed} rows only`, (it) => {
    it.effect(
      "the reaper's pass, the prune and the counts read about the rows they act on, not the table",
      () =>
        Effect.gen(function*() {
          yield* TestDatabase
          const sql = yield* SqlClient.SqlClient
          const repo = makeOutboxRepo(sql, { workerId: "upkeep-plan-test", leaseMs: 60_000 })
          if (analyzed !== "empty") {
            yield* sql`
            insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at,
                                attempts, locked_by, locked_until, lease_token)
            select 'test', 'before-' || g, 'Ping', '{}'::jsonb, ${analyzed},
                   case when ${analyzed} in ('done', 'dead') then now() end,
                   case when ${analyzed} = 'processing' then 1 else 0 end,
                   case when ${analyzed} = 'processing' then 'w' end,
                   case when ${analyzed} = 'processing' then now() + interval '1 minute' end,
                   case when ${analyzed} = 'processing' then gen_random_uuid() end
            from generate_series(1, ${backlog}) g`
          }
          yield* sql`analyze outbox`
          yield* sql`delete from outbox`
          // What autovacuum has not analyzed yet: old finished rows, old dead rows, a pending
          // backlog, and rows being processed, a few of whose leases have expired.
          yield* sql`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at)
          select 'test', 'old-' || g, 'Ping', '{}'::jsonb, case when g % 10 = 0 then 'dead' else 'done' end,
                 now() - interval '10 days'
          from generate_series(1, ${backlog}) g`
          yield* sql`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload)
          select 'test', 'agg-' || g, 'Ping', '{}'::jsonb from generate_series(1, ${backlog}) g`
          yield* sql`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, attempts,
                              locked_by, locked_until, lease_token)
          select 'test', 'run-' || g, 'Ping', '{}'::jsonb, 'processing', 1, 'w',
                 now() + case when g <= ${expired} then interval '-1 second' else interval '1 minute' end,
                 gen_random_uuid()
          from generate_series(1, ${processing}) g`

          const reaped = yield* rowsTouched(repo.reapExpired(5, 1_000))
          expect(reaped.result).toHaveLength(expired)
          const idle = yield* rowsTouched(repo.reapExpired(5, 1_000))
          expect(idle.result).toHaveLength(0)
          const pruned = yield* rowsTouched(repo.pruneDone(24, 500))
          expect(pruned.result).toBe(500)
          yield* sql`insert into worker_heartbeats (worker_id, host, pid, concurrency) values ('upkeep-plan-test', 'test', 1, 1)`
          const counted = yield* rowsTouched(repo.countRows)
          expect(counted.result).toEqual({
            pending: backlog + expired,
            processing: processing - expired,
            dead: backlog / 10
          })

          // At most the processing rows (the lease index holds only those), against 20,000-80,000
          // with the statements before this test.
          expect(reaped.touched, "the reaper's pass with expired leases").toBeLessThan(processing * 4)
          expect(idle.touched, "the reaper's pass with none expired").toBeLessThan(processing * 4)
          expect(pruned.touched, "the prune").toBeLessThan(500 * 4)
          // The rows it counts (22,256 of 42,272), against 42,000-81,000 before.
          expect(counted.touched, "the outbox.rows counts").toBeLessThan(backlog * 1.2)
          // Another live replica sorts first: it counts, and here the function does not even run.
          yield* sql`insert into worker_heartbeats (worker_id, host, pid, concurrency) values ('a-first', 'test', 2, 1)`
          const elsewhere = yield* rowsTouched(repo.countRows)
          expect(elsewhere).toEqual({ result: undefined, touched: 0 })
        }),
      { timeout: 60_000 }
    )
  })
}

/**
 * The guarded writes that follow a claim (complete, extendLeases, release) and the prune must find
 * their rows by key whatever the statistics say. Autovacuum analyzes the table at arbitrary moments:
 * here when it was empty, and when it held only finished rows ("nothing pending, nothing
 * processing"). With the latter the completion once walked every processing row for each row it
 * wrote, and the whole pending backlog for each successor probe (seen in a 50,000-row drain: 750 ms
 * a completion, leases expired, rows went dead); with the former a first fix read the whole table
 * once per batch. Checked by the rows Postgres counts for each writing transaction
 * (pg_stat_xact_user_tables, read before and after: it also holds earlier transactions' counts
 * that are not yet flushed), not by time.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { makeOutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { rowsTouched } from "./fixtures/outboxRows.ts"

const backlog = 20_000
const batch = 256

for (const analyzed of ["empty", "finished rows only"] as const) {
  layer(WorkerTestDatabase, { excludeTestServices: true })(`the writes after a claim, analyzed ${analyzed}`, (it) => {
    it.effect(
      "complete, extendLeases, release and the prune touch a few rows per row written, not the table",
      () =>
        Effect.gen(function*() {
          yield* TestDatabase
          const sql = yield* SqlClient.SqlClient
          const repo = makeOutboxRepo(sql, { workerId: "plan-test", leaseMs: 60_000 })
          if (analyzed === "finished rows only") {
            yield* sql`
            insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at)
            select 'test', 'older-' || g, 'Ping', '{}'::jsonb, 'done', now() from generate_series(1, ${backlog}) g`
          }
          yield* sql`analyze outbox`
          yield* sql`delete from outbox`
          // Then what autovacuum has not analyzed yet: old finished rows, and a backlog of two
          // events per aggregate.
          yield* sql`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at)
          select 'test', 'old-' || g, 'Ping', '{}'::jsonb, 'done', now() - interval '10 days'
          from generate_series(1, ${backlog}) g`
          yield* sql`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload)
          select 'test', 'agg-' || (g % ${backlog / 2}), 'Ping', '{}'::jsonb from generate_series(1, ${backlog}) g`

          const first = yield* repo.claim(batch)
          expect(first).toHaveLength(batch)
          const leases = first.map((r) => ({ id: r.id, leaseToken: r.lease_token }))
          const extended = yield* rowsTouched(repo.extendLeases(leases))
          expect(extended.result.size).toBe(batch)
          const completed = yield* rowsTouched(
            repo.complete(leases.map((l) => ({ ...l, status: "done" as const, delayMs: 0, error: null })))
          )
          expect(completed.result).toHaveLength(batch)
          // Every claimed head has a second event waiting.
          expect(completed.result.every((r) => r.unblocksSuccessor)).toBe(true)
          const second = yield* repo.claim(batch)
          expect(second).toHaveLength(batch)
          const released = yield* rowsTouched(
            repo.release(second.map((r) => ({ id: r.id, leaseToken: r.lease_token })))
          )
          expect(released.result).toBe(batch)
          const pruned = yield* rowsTouched(repo.pruneDone(24, 500))
          expect(pruned.result).toBe(500)

          // One or two rows per row written when this was written (the row; for complete, its
          // successor probe), against 20,000 to 2.6 million for the batch with the old statements.
          expect(extended.touched).toBeLessThan(batch * 10)
          expect(completed.touched).toBeLessThan(batch * 10)
          expect(released.touched).toBeLessThan(batch * 10)
          expect(pruned.touched).toBeLessThan(500 * 10)
        }),
      { timeout: 60_000 }
    )
  })
}

/**
 * The guarded writes that follow a claim (complete, extendLeases, release) must find their rows by
 * key whatever the statistics say. Autovacuum analyzes the table at arbitrary moments: here, when
 * it held only finished rows, so the statistics say "nothing pending, nothing processing". With
 * those, the completion once walked every processing row for each row it wrote, and walked the
 * whole pending backlog for each row to learn whether it had a successor (seen in a 50,000-row
 * drain: 750 ms a completion, leases expired, rows went dead). Checked by the work Postgres counts
 * for the writing transaction (pg_stat_xact_user_tables), not by time.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { makeOutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"

const backlog = 20_000
const batch = 256

layer(WorkerTestDatabase, { excludeTestServices: true })("the writes after a claim, with stale statistics", (it) => {
  it.effect("complete, extendLeases and release touch a few rows per row written, not the backlog", () =>
    Effect.gen(function*() {
      yield* TestDatabase
      const sql = yield* SqlClient.SqlClient
      const repo = makeOutboxRepo(sql, { workerId: "plan-test", leaseMs: 60_000 })
      // Statistics taken when the table held only finished rows.
      yield* sql`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at)
        select 'test', 'old-' || g, 'Ping', '{}'::jsonb, 'done', now() from generate_series(1, ${backlog}) g`
      yield* sql`analyze outbox`
      // Then a backlog autovacuum has not analyzed yet: two events per aggregate.
      yield* sql`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        select 'test', 'agg-' || (g % ${backlog / 2}), 'Ping', '{}'::jsonb from generate_series(1, ${backlog}) g`
      const work = <A, E, R>(write: Effect.Effect<A, E, R>) =>
        sql.withTransaction(Effect.gen(function*() {
          const result = yield* write
          const [counts] = yield* sql<{ seq_tup_read: string; idx_tup_fetch: string }>`
            select seq_tup_read, idx_tup_fetch from pg_stat_xact_user_tables where relname = 'outbox'`
          return { result, touched: Number(counts!.seq_tup_read) + Number(counts!.idx_tup_fetch) }
        }))

      const first = yield* repo.claim(batch)
      expect(first).toHaveLength(batch)
      const leases = first.map((r) => ({ id: r.id, leaseToken: r.lease_token }))
      const extended = yield* work(repo.extendLeases(leases))
      expect(extended.result.size).toBe(batch)
      const completed = yield* work(
        repo.complete(
          first.map((r) => ({ ...leases.find((l) => l.id === r.id)!, status: "done", delayMs: 0, error: null }))
        )
      )
      expect(completed.result).toHaveLength(batch)
      // Every claimed head has a second event waiting.
      expect(completed.result.every((r) => r.unblocksSuccessor)).toBe(true)

      const second = yield* repo.claim(batch)
      expect(second).toHaveLength(batch)
      const released = yield* work(repo.release(second.map((r) => ({ id: r.id, leaseToken: r.lease_token }))))
      expect(released.result).toBe(batch)

      // A handful of fetches per row written (the row and its earlier versions, the successor
      // probe): 4, 6 and 10 per row when this was written, against 81, 10,000 and 10,000 per row
      // (2.6 million for the batch) when each row walked the processing rows or the backlog.
      expect(extended.touched).toBeLessThan(batch * 20)
      expect(completed.touched).toBeLessThan(batch * 20)
      expect(released.touched).toBeLessThan(batch * 20)
    }))
})

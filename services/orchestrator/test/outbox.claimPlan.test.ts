/**
 * outbox_claim keeps one plan per connection (migrations/0080: PL/pgSQL, forced generic plan).
 * That plan is made at the connection's first claim, possibly when the statistics say the table
 * is empty; it must still claim from a large backlog by walking only what it claims. Checked by
 * the work Postgres counts for the claiming transaction (pg_stat_xact_user_tables), not by time.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { ownSession } from "./fixtures/outboxRows.ts"

const pending = 20_000
const aggregates = 5_000

layer(WorkerTestDatabase, { excludeTestServices: true })("outbox_claim's plan", (it) => {
  it.effect("planned on an analyzed empty table, it claims 16 heads from 20,000 pending rows touching ~16 rows", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const client = yield* ownSession(db.url)
      const query = (text: string) => Effect.promise(() => client.query(text))
      // Statistics that say "no rows", and this connection's plan made with them.
      yield* query("analyze outbox")
      expect((yield* query("select * from outbox_claim('plan-test', 16, 60000)")).rowCount).toBe(0)
      // A bulk insert that autovacuum has not analyzed yet: the statistics are stale.
      yield* query(`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        select 'test', 'agg-' || (g % ${aggregates}), 'Ping', '{}'::jsonb from generate_series(1, ${pending}) g`)
      yield* query("begin")
      const claimed = yield* query("select id, aggregate_id from outbox_claim('plan-test', 16, 60000)")
      const work = (yield* query(`
        select seq_scan, seq_tup_read, idx_tup_fetch from pg_stat_xact_user_tables where relname = 'outbox'`))
        .rows[0] as { seq_scan: string; seq_tup_read: string; idx_tup_fetch: string }
      yield* query("commit")

      // The heads of the first 16 aggregates, each claimed once.
      expect(claimed.rowCount).toBe(16)
      expect(new Set(claimed.rows.map((r) => r.aggregate_id)).size).toBe(16)
      // The claim walked the claimable index from the front and found the 16 rows by key: no
      // sequential scan, and a few heap fetches per claimed row (candidate, head probe, update),
      // not a pass over the backlog (a join planned on the empty table fetched all 20,000 rows).
      expect(Number(work.seq_scan)).toBe(0)
      expect(Number(work.idx_tup_fetch)).toBeLessThan(200)
    }).pipe(Effect.scoped))
})

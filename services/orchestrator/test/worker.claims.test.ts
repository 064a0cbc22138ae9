/**
 * How the in-process worker claims: a burst of notifications costs a handful of claims, an
 * aggregate's events run one at a time in order, and a wake-up while every slot is busy is kept.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { afterEach } from "vitest"
import { expectNoLeakedWorkers, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { insert, row, rowUntil, settled } from "./fixtures/outboxRows.ts"

afterEach(expectNoLeakedWorkers)

layer(WorkerTestDatabase, { excludeTestServices: true })("worker: claims", (it) => {
  it.effect("a burst of 10,000 notifications costs a handful of claim queries, not 10,000", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      // Count executions of outbox_claim with Postgres's own statistics.
      yield* sql`select set_config('track_functions', 'all', false)`
      yield* sql.unsafe(`alter database "${db.name}" set track_functions = 'all'`)
      yield* startWorker(db, { POLL_INTERVAL_MS: "600000" })
      yield* Effect.sleep("1 second")
      const claims = sql<{ calls: number }>`
        select coalesce(sum(calls), 0)::int as calls from pg_stat_user_functions where funcname = 'outbox_claim'`.pipe(
        Effect.map((rows) => rows[0]!.calls)
      )
      // Backends publish their counters when idle, at most once a second.
      yield* Effect.sleep("1200 millis")
      const before = yield* claims
      yield* sql`select pg_notify('order_events', g::text) from generate_series(1, 10000) g`
      // Wait for the first counted claim (a loaded machine publishes late), then for stragglers.
      yield* claims.pipe(
        Effect.filterOrFail((calls) => calls > before),
        Effect.retry(Schedule.spaced("200 millis")),
        Effect.timeout("15 seconds")
      )
      yield* Effect.sleep("2500 millis")
      const after = yield* claims
      expect(after - before).toBeGreaterThanOrEqual(1)
      expect(after - before).toBeLessThan(100)
    }).pipe(Effect.scoped))

  it.effect("an aggregate's events run one at a time in id order, through a retry; a dead event unblocks it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* startWorker(db, { RETRY_BASE_MS: "300", RETRY_MAX_MS: "300" })
      const first = yield* insert("ordered-1", "FailUntil", { attempt: 2 })
      const second = yield* insert("ordered-1", "Record", {})
      const dead = yield* insert("ordered-2", "Fail", { retryable: false, message: "no" })
      const afterDead = yield* insert("ordered-2", "Record", {})
      yield* rowUntil(second, settled, "second event done")
      yield* rowUntil(afterDead, settled, "event after the dead one done")
      const calls = yield* sql<{ outbox_id: string; attempt: number }>`
        select outbox_id::text as outbox_id, attempt from test_calls where aggregate_id = 'ordered-1' order by seq`
      expect(calls).toEqual([
        { outbox_id: first, attempt: 1 },
        { outbox_id: first, attempt: 2 },
        { outbox_id: second, attempt: 1 }
      ])
      expect((yield* row(dead)).status).toBe("dead")
      expect((yield* row(afterDead)).status).toBe("done")
    }).pipe(Effect.scoped))

  it.effect("a notification that arrives while every slot is busy is not lost", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      // One slot and no polling to speak of: only wake-ups can explain a prompt pickup.
      yield* startWorker(db, { WORKER_CONCURRENCY: "1", POLL_INTERVAL_MS: "600000" })
      yield* Effect.sleep("500 millis")
      const busy = yield* insert("busy-1", "Sleep", { ms: [1500] })
      yield* rowUntil(busy, (r) => r.status === "processing", "the only slot is busy")
      // Its NOTIFY arrives, and is consumed, while the slot is taken: the pickup must come from the
      // slot freeing up.
      const waiting = yield* insert("busy-2", "Record", {})
      const final = yield* rowUntil(waiting, settled, "handled once the slot frees, not at the next poll")
      expect(final.status).toBe("done")
    }).pipe(Effect.scoped))
})

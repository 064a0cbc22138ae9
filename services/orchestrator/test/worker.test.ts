import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, it as plainIt, layer } from "@effect/vitest"
import { Effect, FastCheck, Schedule } from "effect"
import { afterEach } from "vitest"
import { retryDelayMs } from "../src/outbox/Backoff.ts"
import { causeChain } from "../src/StartupFailure.ts"
import { expectNoLeakedWorkers, type LogLine, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { insert, row, rowUntil, settled } from "./fixtures/outboxRows.ts"

afterEach(expectNoLeakedWorkers)

layer(WorkerTestDatabase, { excludeTestServices: true })("worker", (it) => {
  it.effect("a retryable failure backs off, then goes dead after MAX_ATTEMPTS with the reason", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { MAX_ATTEMPTS: "3", RETRY_BASE_MS: "100", RETRY_MAX_MS: "400" })
      const id = yield* insert("retry-1", "Fail", { retryable: true, message: "downstream said 503" })
      const final = yield* rowUntil(id, settled, "dead after 3 attempts")
      expect(final.status).toBe("dead")
      expect(final.attempts).toBe(3)
      expect(final.last_error).toBe("gave up after 3 attempts (MAX_ATTEMPTS=3): downstream said 503")
      expect(final.lease_token).toBeNull()
      const sql = yield* SqlClient.SqlClient
      const calls = yield* sql<
        { attempt: number; at: Date }
      >`select attempt, at from test_calls where outbox_id = ${id} order by seq`
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3])
      // Backoff with equal jitter: the first retry waits at least RETRY_BASE_MS / 2, the second at least RETRY_BASE_MS.
      expect(calls[1]!.at.getTime() - calls[0]!.at.getTime()).toBeGreaterThanOrEqual(50)
      expect(calls[2]!.at.getTime() - calls[1]!.at.getTime()).toBeGreaterThanOrEqual(100)
    }).pipe(Effect.scoped))

  it.effect("a retryable failure that later succeeds ends done, with every attempt counted", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { RETRY_BASE_MS: "50", RETRY_MAX_MS: "100" })
      const id = yield* insert("retry-2", "FailUntil", { attempt: 3 })
      const final = yield* rowUntil(id, settled, "done on attempt 3")
      expect(final).toMatchObject({ status: "done", attempts: 3, last_error: "attempt 2 fails on purpose" })
    }).pipe(Effect.scoped))

  it.effect("a handler running past HANDLER_TIMEOUT_MS is interrupted and retried, then dead", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* startWorker(db, {
        HANDLER_TIMEOUT_MS: "300",
        LEASE_MS: "600",
        MAX_ATTEMPTS: "2",
        RETRY_BASE_MS: "50",
        RETRY_MAX_MS: "50"
      })
      const id = yield* insert("slow-1", "Sleep", { ms: [60_000, 60_000] })
      const final = yield* rowUntil(id, settled, "dead after two timed-out runs")
      expect(final).toMatchObject({
        status: "dead",
        attempts: 2,
        last_error:
          "gave up after 2 attempts (MAX_ATTEMPTS=2): handler did not finish within HANDLER_TIMEOUT_MS (300 ms)"
      })
      const runs = yield* sql<{ attempt: number }>`select attempt from test_calls where outbox_id = ${id} order by seq`
      expect(runs.map((r) => r.attempt)).toEqual([1, 2])
    }).pipe(Effect.scoped))

  it.effect("a non-retryable failure goes dead at once", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db)
      const id = yield* insert("fatal-1", "Fail", { retryable: false, message: "card permanently rejected" })
      const final = yield* rowUntil(id, settled, "dead")
      expect(final).toMatchObject({ status: "dead", attempts: 1, last_error: "card permanently rejected" })
    }).pipe(Effect.scoped))

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

  it.effect("done rows older than DONE_RETENTION_HOURS are pruned; recent done, dead and pending rows stay", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const ids = yield* sql<{ id: string; label: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at, available_at)
        values ('prune', 'prune-1', 'Ping', '{}', 'done', now() - interval '3 hours', now()),
               ('prune', 'prune-2', 'Ping', '{}', 'done', now() - interval '30 minutes', now()),
               ('prune', 'prune-3', 'Ping', '{}', 'dead', now() - interval '3 hours', now()),
               ('prune', 'prune-4', 'Ping', '{}', 'pending', null, now() + interval '1 day')
        returning id::text as id, aggregate_id as label`
      yield* startWorker(db, { DONE_RETENTION_HOURS: "1" })
      const remaining = sql<{ label: string }>`
        select aggregate_id as label from outbox where aggregate_type = 'prune' order by id`.pipe(
        Effect.map((rows) => rows.map((r) => r.label))
      )
      const left = yield* remaining.pipe(
        Effect.filterOrFail((labels) => !labels.includes("prune-1")),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout("20 seconds")
      )
      expect(left).toEqual(["prune-2", "prune-3", "prune-4"])
      expect(ids).toHaveLength(4)
      yield* sql`delete from outbox where aggregate_type = 'prune'`
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

  it.effect("replicas silent for ten lease periods are dropped from worker_heartbeats; live ones stay", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* sql`
        insert into worker_heartbeats (worker_id, host, pid, concurrency, last_seen_at)
        values ('killed-long-ago', 'h', 1, 16, now() - interval '2 minutes'),
               ('seen-just-now', 'h', 2, 16, now())`
      yield* startWorker(db, { WORKER_ID: "forgetter", LEASE_MS: "1000" })
      const ids = sql<{ worker_id: string }>`select worker_id from worker_heartbeats order by worker_id`.pipe(
        Effect.map((rows) => rows.map((r) => r.worker_id))
      )
      const left = yield* ids.pipe(
        Effect.filterOrFail((workers) => !workers.includes("killed-long-ago")),
        Effect.retry(Schedule.spaced("50 millis")),
        Effect.timeout("20 seconds")
      )
      expect(left).toEqual(["forgetter", "seen-just-now"])
      yield* sql`delete from worker_heartbeats where worker_id = 'seen-just-now'`
    }).pipe(Effect.scoped))

  it.effect("a handler defect is retried, then dead with the crash as the reason", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      yield* startWorker(db, { MAX_ATTEMPTS: "2", RETRY_BASE_MS: "50", RETRY_MAX_MS: "50" })
      const id = yield* insert("crash-1", "Crash", { boom: true })
      const final = yield* rowUntil(id, settled, "dead after 2 attempts")
      expect(final).toMatchObject({ status: "dead", attempts: 2 })
      expect(final.last_error).toMatch(/^gave up after 2 attempts \(MAX_ATTEMPTS=2\): handler crashed: /)
    }).pipe(Effect.scoped))

  it.effect("dead-lettering logs one warning line with the event id, type and reason", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const logs: Array<LogLine> = []
      yield* startWorker(db, {}, { logs })
      const id = yield* insert("deadlog-1", "Fail", { retryable: false, message: "card permanently rejected" })
      yield* rowUntil(id, settled, "dead")
      const [{ event_id }] = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ event_id: string }>`select event_id::text as event_id from outbox where id = ${id}`)
      const lines = yield* Effect.sync(() =>
        logs.filter((l) =>
          l.annotations["event_id"] === event_id && l.level === "WARN"
        )
      ).pipe(
        Effect.filterOrFail((found) => found.length > 0),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.timeout("5 seconds")
      )
      expect(lines).toHaveLength(1)
      expect(lines[0]!.message).toContain("card permanently rejected")
      expect(lines[0]!.annotations).toMatchObject({ event_id, event_type: "Fail" })
    }).pipe(Effect.scoped))

  it.effect("registering the replica is retried within STARTUP_TIMEOUT_MS, and its failure names the root cause", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      yield* sql`alter table worker_heartbeats rename to worker_heartbeats_away`
      const restore = sql`alter table if exists worker_heartbeats_away rename to worker_heartbeats`
      yield* Effect.addFinalizer(() => Effect.ignore(restore))
      const failure = yield* Effect.flip(Effect.scoped(startWorker(db, { STARTUP_TIMEOUT_MS: "600" })))
      expect(causeChain(failure)).toMatch(
        /^registering the replica in worker_heartbeats failed for 600 ms \(STARTUP_TIMEOUT_MS\): .*relation "worker_heartbeats" does not exist/
      )
      // The table comes back while the worker is still retrying: it starts.
      yield* Effect.forkScoped(Effect.sleep("700 millis").pipe(Effect.zipRight(restore)))
      yield* startWorker(db, { STARTUP_TIMEOUT_MS: "20000", WORKER_ID: "late-table" })
      const registered = yield* sql<
        { n: number }
      >`select count(*)::int as n from worker_heartbeats where worker_id = 'late-table'`
      expect(registered[0]!.n).toBe(1)
    }).pipe(Effect.scoped))
})

plainIt.prop(
  "retry delays stay within [ceiling / 2, ceiling], never above RETRY_MAX_MS, for any attempt and random draw",
  [
    FastCheck.integer({ min: 1, max: 10_000 }),
    FastCheck.integer({ min: 1, max: 1_000_000 }),
    FastCheck.integer({ min: 0, max: 10_000_000 }),
    FastCheck.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
  ],
  ([attempt, baseMs, extra, random]) => {
    const maxMs = baseMs + extra
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30))
    const delay = retryDelayMs(attempt, baseMs, maxMs, random)
    expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2))
    expect(delay).toBeLessThanOrEqual(ceiling)
    expect(delay).toBeLessThanOrEqual(maxMs)
    // More attempts never shorten the ceiling.
    expect(retryDelayMs(attempt + 1, baseMs, maxMs, 1)).toBeGreaterThanOrEqual(retryDelayMs(attempt, baseMs, maxMs, 1))
  }
)

plainIt("retry delays double from RETRY_BASE_MS and are capped at RETRY_MAX_MS", () => {
  expect(retryDelayMs(1, 1000, 300_000, 0)).toBe(500)
  expect(retryDelayMs(1, 1000, 300_000, 1)).toBe(1000)
  expect(retryDelayMs(4, 1000, 300_000, 0.5)).toBe(6000)
  expect(retryDelayMs(20, 1000, 300_000, 0)).toBe(150_000)
  expect(retryDelayMs(20, 1000, 300_000, 1)).toBe(300_000)
  expect(retryDelayMs(1_000, 1000, 300_000, 1)).toBe(300_000)
})

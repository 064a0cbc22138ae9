/**
 * The worker as operators run it: separate OS processes against one real Postgres, killed and
 * signalled for real. Delivery: 4 replicas drain each row exactly once and in order per aggregate,
 * a replica SIGKILLed mid-handler loses nothing, and SIGTERM drains then releases.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { afterEach } from "vitest"
import { makeOutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { ownSession } from "./fixtures/outboxRows.ts"
import { expectNoLeakedProcesses } from "./fixtures/processes.ts"
import { Database, ready, scalar, until, worker } from "./fixtures/processWorker.ts"

afterEach(expectNoLeakedProcesses)

layer(Database, { excludeTestServices: true })("worker processes", (it) => {
  it.effect(
    "4 replicas drain 5,000 Ping rows and 500 rows over 50 aggregates: each exactly once, in order per aggregate",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        // A small prefetch, so one replica cannot take every aggregate's head at once: the point is
        // ordering while several replicas share the ordered work.
        const replicas = yield* Effect.all(
          [1, 2, 3, 4].map((n) => worker({ WORKER_ID: `drain-${n}`, WORKER_PREFETCH: "4", WORKER_CONCURRENCY: "4" }))
        )
        yield* Effect.forEach(replicas, ready, { concurrency: "unbounded" })
        yield* sql`
          insert into outbox (aggregate_type, aggregate_id, event_type, payload)
          select 'ping', 'ping-' || g, 'Ping', '{}' from generate_series(1, 5000) g`
        // Ten separate transactions interleave the ordered rows with work already under way.
        for (let batch = 0; batch < 10; batch++) {
          yield* sql`
            insert into outbox (aggregate_type, aggregate_id, event_type, payload)
            select 'ordered', 'agg-' || (g % 50), 'Record', jsonb_build_object('n', ${batch} * 50 + g)
            from generate_series(1, 50) g`
        }
        yield* until(
          "all 5,500 rows done",
          scalar(
            sql<
              { value: number }
            >`select count(*)::int as value from outbox where status = 'done' and aggregate_type in ('ping', 'ordered')`
          ),
          (n) => n === 5_500,
          60
        )
        const notOnce = yield* scalar(sql<{ value: number }>`
          select count(*)::int as value from outbox where aggregate_type in ('ping', 'ordered') and attempts <> 1`)
        expect(notOnce).toBe(0)
        const calls = yield* sql<{ runs: number; rows: number }>`
          select count(*)::int as runs, count(distinct outbox_id)::int as rows from test_calls where event_type = 'Record'`
        expect(calls[0]).toEqual({ runs: 500, rows: 500 })
        const outOfOrder = yield* sql<{ aggregate_id: string }>`
          select aggregate_id from (
            select aggregate_id, outbox_id, lag(outbox_id) over (partition by aggregate_id order by seq) as previous
            from test_calls where event_type = 'Record'
          ) runs
          where previous is not null and previous > outbox_id`
        expect(outOfOrder).toEqual([])
        const workers = yield* scalar(sql<{ value: number }>`
          select count(distinct worker_id)::int as value from test_calls where event_type = 'Record'`)
        expect(workers).toBeGreaterThan(1)
        const live = yield* scalar(sql<{ value: number }>`
          select count(*)::int as value from worker_heartbeats where worker_id like 'drain-%'`)
        expect(live).toBe(4)
      }).pipe(Effect.scoped),
    400_000
  )

  it.effect("a replica SIGKILLed mid-handler loses nothing: another finishes the row; the stale lease is fenced off", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const settings = { LEASE_MS: "1000", POLL_INTERVAL_MS: "60000" }
      const a = yield* worker({ ...settings, WORKER_ID: "crash-a" })
      yield* ready(a)
      // Attempt 1 hangs for a minute; attempt 2 takes 3 s, long enough to try a stale write meanwhile.
      const [{ id }] = yield* sql<{ id: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        values ('test', 'crash-1', 'Sleep', '{"ms": [60000, 3000]}') returning id::text as id`
      const lease = sql<{ status: string; locked_by: string | null; lease_token: string | null; attempts: number }>`
        select status, locked_by, lease_token::text as lease_token, attempts from outbox where id = ${id}`.pipe(
        Effect.map((rows) => rows[0]!)
      )
      const held = yield* until("crash-a holds the row", lease, (r) => r.locked_by === "crash-a")
      yield* until(
        "crash-a's handler started",
        scalar(sql<{ value: number }>`select count(*)::int as value from test_calls where outbox_id = ${id}`),
        (n) => n === 1
      )
      expect(yield* Effect.promise(() => a.stop("SIGKILL"))).toBeNull()

      const b = yield* worker({ ...settings, WORKER_ID: "crash-b" })
      yield* ready(b)
      const takenOver = yield* until("crash-b re-claims the row", lease, (r) => r.locked_by === "crash-b", 15)
      expect(takenOver.attempts).toBe(2)
      const stale = makeOutboxRepo(sql, { workerId: "crash-a", leaseMs: 1000 })
      const staleToken = held.lease_token!
      expect(yield* stale.complete([{ id, leaseToken: staleToken, status: "done", delayMs: 0, error: null }])).toEqual(
        []
      )
      expect(yield* stale.release([{ id, leaseToken: staleToken }])).toBe(0)
      expect(yield* lease).toMatchObject({ status: "processing", locked_by: "crash-b" })

      const final = yield* until("row done", lease, (r) => r.status === "done", 20)
      expect(final.attempts).toBe(2)
      const runs = yield* sql<{ worker_id: string; attempt: number }>`
        select worker_id, attempt from test_calls where outbox_id = ${id} order by seq`
      expect(runs).toEqual([{ worker_id: "crash-a", attempt: 1 }, { worker_id: "crash-b", attempt: 2 }])
    }).pipe(Effect.scoped))

  it.effect("SIGTERM drains for SHUTDOWN_GRACE_MS, then releases unfinished rows without counting the attempt", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const w = yield* worker({ SHUTDOWN_GRACE_MS: "1500", WORKER_ID: "graceful" })
      yield* ready(w)
      const rows = yield* sql<{ id: string; aggregate_id: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        values ('test', 'grace-quick', 'Sleep', '{"ms": [300]}'),
               ('test', 'grace-slow-1', 'Sleep', '{"ms": [60000]}'),
               ('test', 'grace-slow-2', 'Sleep', '{"ms": [60000]}')
        returning id::text as id, aggregate_id`
      yield* until(
        "all three handlers started",
        scalar(sql<{ value: number }>`select count(*)::int as value from test_calls where aggregate_id like 'grace-%'`),
        (n) => n === 3
      )
      const started = Date.now()
      expect(yield* Effect.promise(() => w.stop("SIGTERM"))).toBe(0)
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(w.output()).toMatch(/released 2 unfinished event\(s\)/)
      const after = yield* sql<{ aggregate_id: string; status: string; attempts: number; locked_by: string | null }>`
        select aggregate_id, status, attempts, locked_by from outbox
        where id in (${rows[0]!.id}, ${rows[1]!.id}, ${rows[2]!.id}) order by id`
      expect(after).toEqual([
        { aggregate_id: "grace-quick", status: "done", attempts: 1, locked_by: null },
        { aggregate_id: "grace-slow-1", status: "pending", attempts: 0, locked_by: null },
        { aggregate_id: "grace-slow-2", status: "pending", attempts: 0, locked_by: null }
      ])
      const registered = yield* scalar(sql<{ value: number }>`
        select count(*)::int as value from worker_heartbeats where worker_id = 'graceful'`)
      expect(registered).toBe(0)
      // The released rows are someone else's work now, not stuck: park them for the next tests.
      yield* sql`update outbox set status = 'dead', last_error = 'test cleanup' where aggregate_id like 'grace-slow-%'`
    }).pipe(Effect.scoped))

  it.effect(
    "a stop that cannot finish (its claim waits on a table lock) exits 1 at SHUTDOWN_GRACE_MS + 25 s anyway",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const db = yield* TestDatabase
        const w = yield* worker({ SHUTDOWN_GRACE_MS: "500", WORKER_ID: "stuck-stop", POLL_INTERVAL_MS: "100" })
        yield* ready(w)
        // Another session holds the table: the replica's next claim waits, and a claim cannot be
        // interrupted between its statement and holding its rows. (The reaper and the row gauge
        // wait on the lock too, but they can be interrupted: the stop must find the claim waiting.)
        const locker = yield* ownSession(db.url)
        yield* Effect.promise(() => locker.query("begin"))
        yield* Effect.promise(() => locker.query("lock table outbox in access exclusive mode"))
        yield* until(
          "the replica's claim waits on the lock",
          scalar(sql<{ value: number }>`
            select count(*)::int as value from pg_stat_activity
            where application_name = 'test-worker' and wait_event_type = 'Lock' and query like '%outbox_claim%'`),
          (n) => n > 0
        )
        const started = Date.now()
        const code = yield* Effect.promise(() => w.stop("SIGTERM"))
        const seconds = (Date.now() - started) / 1000
        yield* Effect.promise(() => locker.query("rollback"))
        expect(code).toBe(1)
        expect(w.output()).toContain("shutdown did not finish within 25500 ms (SHUTDOWN_GRACE_MS + 25 s)")
        // It gave the stop its whole bound first, and no more than that.
        expect(seconds).toBeGreaterThan(20)
        expect(seconds).toBeLessThan(60)
      }).pipe(Effect.scoped),
    { timeout: 120_000 }
  )
})

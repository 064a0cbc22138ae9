/**
 * The worker as operators run it: separate OS processes against one real Postgres, killed and
 * signalled for real.
 */
import { freePort } from "@ecommerce/db/embedded"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { afterEach, inject } from "vitest"
import { makeOutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { entries, expectNoLeakedProcesses, spawnWorker, type WorkerProcess } from "./fixtures/processes.ts"
import { createTestCallsTable } from "./fixtures/testHandlers.ts"

const exec = promisify(execFile)

afterEach(expectNoLeakedProcesses)

/** A worker process that is killed when the test's scope closes, whatever happened. */
const worker = (env: Record<string, string>, entry?: string) =>
  Effect.acquireRelease(
    Effect.flatMap(TestDatabase, (db) => Effect.sync(() => spawnWorker({ DATABASE_URL: db.url, ...env }, entry))),
    (w) => Effect.promise(() => w.stop("SIGKILL"))
  )

const ready = (w: WorkerProcess) => Effect.promise(() => w.waitFor(/LISTEN order_events established/))

const until = <A>(
  what: string,
  query: Effect.Effect<A, unknown, SqlClient.SqlClient>,
  done: (a: A) => boolean,
  seconds = 30
) =>
  query.pipe(
    Effect.filterOrFail(done),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new Error(`timed out: ${what}`) })
  )

const scalar = <A>(statement: Effect.Effect<ReadonlyArray<{ readonly value: A }>, unknown>) =>
  Effect.map(statement, (rows) => rows[0]!.value)

/** The file's database, with the test handlers' call log. */
const Database = Layer.effectDiscard(createTestCallsTable).pipe(
  Layer.provideMerge(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")))
)

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
    120_000
  )

  it.effect("a bare `psql -c \"NOTIFY order_events\"` wakes a worker whose poll interval is a minute", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const psql = yield* Effect.promise(() => exec("psql", ["--version"]).then(() => true, () => false))
      if (!psql) {
        return yield* Effect.fail(
          new Error(
            "psql is not installed: this test runs the real `psql -c \"NOTIFY order_events\"` (install postgresql-client)"
          )
        )
      }
      const w = yield* worker({ POLL_INTERVAL_MS: "60000", WORKER_ID: "psql-notify" })
      yield* ready(w)
      // Let the start-up wake-ups (first poll, LISTEN connected) run their claims first.
      yield* Effect.sleep("1 second")
      // Inserted with triggers off for this transaction: no notification is sent.
      const id = yield* sql.withTransaction(
        sql`set local session_replication_role = replica`.pipe(
          Effect.zipRight(sql<{ id: string }>`
            insert into outbox (aggregate_type, aggregate_id, event_type, payload)
            values ('test', 'psql-1', 'Record', '{}') returning id::text as id`),
          Effect.map((rows) => rows[0]!.id)
        )
      )
      yield* Effect.sleep("1500 millis")
      const status = sql<{ value: string }>`select status as value from outbox where id = ${id}`
      expect(yield* scalar(status)).toBe("pending")
      const started = Date.now()
      yield* Effect.promise(() => exec("psql", [db.url, "-c", "NOTIFY order_events"]))
      yield* until("row handled after NOTIFY", scalar(status), (s) => s === "done", 5)
      expect(Date.now() - started).toBeLessThan(1_000)
    }).pipe(Effect.scoped))

  it.effect("after its LISTEN backend is terminated, the worker reconnects and NOTIFY wakes it again", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const w = yield* worker({ POLL_INTERVAL_MS: "60000", WORKER_ID: "listen-kill" })
      yield* ready(w)
      // In the select list, not the WHERE clause: Postgres may evaluate WHERE predicates in any
      // order, and would then terminate backends the name filter was meant to spare.
      const killed = yield* sql<{ terminated: boolean }>`
        select pg_terminate_backend(pid) as terminated from pg_stat_activity
        where application_name = 'orchestrator-listener:listen-kill'`
      expect(killed).toEqual([{ terminated: true }])
      yield* Effect.promise(() => w.waitFor(/LISTEN order_events re-established/, 20_000))
      expect(w.output()).toMatch(/LISTEN order_events is down \(terminating connection due to administrator command\)/)
      // Only a notification can explain a prompt pickup: the next poll is a minute away, and the
      // catch-up poll after reconnecting has run by now.
      yield* Effect.sleep("1 second")
      const [{ id }] = yield* sql<{ id: string }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        values ('test', 'listen-kill-1', 'Record', '{}') returning id::text as id`
      yield* until(
        "row handled after reconnect",
        scalar(sql<{ value: string }>`select status as value from outbox where id = ${id}`),
        (s) => s === "done",
        5
      )
    }).pipe(Effect.scoped))

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

  it.effect("a bad setting fails at once with one line naming the variable", () =>
    Effect.gen(function*() {
      for (
        const [name, value, message] of [
          ["WORKER_CONCURRENCY", "abc", /WORKER_CONCURRENCY.*Expected an integer value but received \\?"abc/],
          ["LEASE_MS", "10", /LEASE_MS.*must be an integer >= 300/],
          ["POLL_INTERVAL_MS", "-5", /POLL_INTERVAL_MS.*must be a positive integer/],
          ["DATABASE_PORT", "99999", /DATABASE_PORT/],
          ["LOG_LEVEL", "loud", /LOG_LEVEL.*Expected a log level but received \\?"loud/]
        ] as const
      ) {
        const w = spawnWorker({ [name]: value, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" }, entries.main)
        const code = yield* Effect.promise(() => w.exited)
        expect(code).toBe(1)
        const lines = w.output().trim().split("\n")
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(/level=ERROR .*invalid configuration/)
        expect(lines[0]).toMatch(message)
      }
      // Five process starts in a row (each transpiles with tsx): a bound, not a speed assertion.
    }), 240_000)

  it.effect(
    "with Postgres down it retries for STARTUP_TIMEOUT_MS, then exits non-zero without leaking the password",
    () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() => freePort())
        const started = Date.now()
        const w = spawnWorker(
          { DATABASE_URL: `postgres://ecommerce:s3cret-pw@127.0.0.1:${port}/ecommerce`, STARTUP_TIMEOUT_MS: "2000" },
          entries.main
        )
        expect(yield* Effect.promise(() => w.exited)).toBe(1)
        expect(Date.now() - started).toBeGreaterThanOrEqual(2_000)
        expect(w.output()).toMatch(
          new RegExp(
            `cannot start: Postgres at 127\\.0\\.0\\.1:${port}/ecommerce is unreachable after 2000 ms \\(STARTUP_TIMEOUT_MS\\): connect ECONNREFUSED`
          )
        )
        expect(w.output()).not.toContain("s3cret-pw")
      }),
    60_000
  )
})

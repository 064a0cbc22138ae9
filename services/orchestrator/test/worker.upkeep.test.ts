/**
 * The in-process worker's upkeep: done rows pruned after DONE_RETENTION_HOURS, silent replicas
 * dropped from worker_heartbeats, and registering the replica retried within STARTUP_TIMEOUT_MS.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { afterEach } from "vitest"
import { causeChain } from "../src/StartupFailure.ts"
import { expectNoLeakedWorkers, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"

afterEach(expectNoLeakedWorkers)

layer(WorkerTestDatabase, { excludeTestServices: true })("worker: upkeep", (it) => {
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

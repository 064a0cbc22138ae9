/**
 * Two idle replicas and a burst: a claim takes up to WORKER_CONCURRENCY + WORKER_PREFETCH rows, so
 * a burst smaller than that goes to whichever replica claims first, and the other stays idle while
 * the first works through its local queue 16 at a time. With the default prefetch of 512 (cd2ed92)
 * a 300-event burst is one replica's; with 128 the two share it.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { afterEach } from "vitest"
import { expectNoLeakedWorkers, startWorker, WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"

afterEach(expectNoLeakedWorkers)

const replicaId = (name: string) => `worker-test-${process.pid}-${name}`

const burst = (prefix: string, settings: Record<string, string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const db = yield* TestDatabase
    const common = { POLL_INTERVAL_MS: "600000", ...settings }
    yield* startWorker(db, { ...common, WORKER_ID: replicaId(`${prefix}-a`) })
    yield* startWorker(db, { ...common, WORKER_ID: replicaId(`${prefix}-b`) })
    // Both LISTEN sessions up, so both replicas hear the burst's NOTIFY.
    yield* sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where application_name like ${`orchestrator-listener:worker-test-${process.pid}-${prefix}-%`}`.pipe(
      Effect.filterOrFail((rows) => rows[0]!.n === 2),
      Effect.retry(Schedule.spaced("50 millis")),
      Effect.timeout("20 seconds")
    )
    yield* Effect.sleep("300 millis")
    const started = Date.now()
    yield* sql`
      insert into outbox (aggregate_type, aggregate_id, event_type, payload)
      select 'test', ${prefix} || '-' || g, 'Sleep', '{"ms": [40]}'::jsonb from generate_series(1, 300) g`
    yield* sql<{ n: number }>`
      select count(*)::int as n from outbox where aggregate_id like ${prefix + "-%"} and status = 'done'`.pipe(
      Effect.filterOrFail((rows) => rows[0]!.n === 300),
      Effect.retry(Schedule.spaced("25 millis")),
      Effect.timeout("60 seconds")
    )
    const elapsed = Date.now() - started
    const perReplica = yield* sql<{ worker_id: string; runs: number }>`
      select worker_id, count(*)::int as runs from test_calls where aggregate_id like ${prefix + "-%"}
      group by worker_id order by worker_id`
    return { elapsed, runs: perReplica.map((r) => r.runs) }
  }).pipe(Effect.scoped)

layer(WorkerTestDatabase, { excludeTestServices: true })("worker: two replicas share a burst", (it) => {
  it.effect(
    "control, WORKER_PREFETCH=128: each replica runs at least a quarter of a 300-event burst",
    () =>
      Effect.gen(function*() {
        const { elapsed, runs } = yield* burst("fair128", { WORKER_PREFETCH: "128" })
        console.log(`prefetch 128: runs per replica ${JSON.stringify(runs)}, drained in ${elapsed} ms`)
        expect(runs).toHaveLength(2)
        for (const n of runs) expect(n).toBeGreaterThanOrEqual(75)
      }),
    120_000
  )

  it.effect(
    "default settings: each replica runs at least a quarter of a 300-event burst",
    () =>
      Effect.gen(function*() {
        const { elapsed, runs } = yield* burst("fairdefault", {})
        console.log(`default prefetch: runs per replica ${JSON.stringify(runs)}, drained in ${elapsed} ms`)
        expect(runs).toHaveLength(2)
        for (const n of runs) expect(n).toBeGreaterThanOrEqual(75)
      }),
    120_000
  )
})

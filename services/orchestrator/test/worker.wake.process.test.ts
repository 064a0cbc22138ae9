/**
 * A worker process woken by notifications: a bare `psql` NOTIFY, and NOTIFY again after its LISTEN
 * backend was terminated.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { afterEach } from "vitest"
import { expectNoLeakedProcesses } from "./fixtures/processes.ts"
import { Database, exec, ready, scalar, until, worker } from "./fixtures/processWorker.ts"

afterEach(expectNoLeakedProcesses)

layer(Database, { excludeTestServices: true })("worker processes: wake-ups", (it) => {
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
})

/**
 * The `orchestrator` CLI against real Postgres, the real services (in this process, on loopback)
 * and a real worker process. Commands run in-process through `runCli` (the same function the bin
 * runs) with their output captured; the bin itself is also run as an OS process.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber, Schedule } from "effect"
import { afterEach, inject } from "vitest"
import { LedgerRepo } from "../../src/sagas/LedgerRepo.ts"
import { markStrandedOrders } from "../../src/sagas/StrandedOrders.ts"
import { ownSession } from "../fixtures/outboxRows.ts"
import { entries, expectNoLeakedProcesses, spawnWorker, type WorkerProcess } from "../fixtures/processes.ts"
import { scalar, until } from "../fixtures/processWorker.ts"
import { awaitStatus, checkoutOf, placeOrder, ServiceUrls, SystemLive } from "../saga-fixtures/system.ts"
import { bin, cli, json, killEvent, outboxRowOf, parkedSaga } from "./cliDrivers.ts"

afterEach(expectNoLeakedProcesses)

layer(SystemLive({ adminUrl: inject("adminUrl"), template: inject("templateDatabase") }), {
  excludeTestServices: true
})(
  "orchestrator CLI",
  (it) => {
    it.effect("bad arguments: a clear message and the usage, exit code 2", () =>
      Effect.gen(function*() {
        for (
          const args of [
            ["sagas", "list", "--limit", "0"],
            ["sagas", "list", "--state", "sleeping"],
            ["sagas", "list", "--since", "yesterday"],
            ["saga", "show"],
            ["outbox", "replay"],
            ["outbox", "replay", "12", "--all-dead"],
            ["outbox", "prune"],
            ["saga", "resolve", "--note", " ", "5b1c3c0e-0000-4000-8000-000000000000"],
            ["nonsense"]
          ]
        ) {
          const ran = yield* cli(...args)
          expect(ran.code, `${args.join(" ")}: ${ran.stdout}${ran.stderr}`).toBe(2)
          expect(ran.stderr).toContain("usage: orchestrator")
        }
        expect((yield* cli("sagas", "list", "--limit", "0")).stderr).toContain("--limit must be a positive integer")
        expect((yield* cli("outbox", "prune", "--older-than", "5x")).stderr).toContain("\"5x\" is not a duration")
        expect((yield* cli("--help")).code).toBe(0)
      }))

    // One long test on purpose (~155 lines): it is an operator's session, each command acting on
    // what the previous ones left (a stranded order replayed, then its saga parked, retried in a
    // race, resolved); split, each part would rebuild the whole system state before it.
    it.effect(
      "a stranded order, a parked saga and a resolved one: show, replay, retry racing, resolve, ping",
      () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const db = yield* TestDatabase
          const urls = yield* ServiceUrls

          // No worker yet: status says so.
          const quiet = yield* cli("status")
          expect(quiet.code).toBe(0)
          expect(quiet.stdout).toContain("no replica registered")

          // A: the OrderPlaced event died before any saga existed; the stranded-order sweep marked it.
          const stranded = yield* placeOrder(checkoutOf())
          yield* killEvent(stranded)
          expect(yield* markStrandedOrders.pipe(Effect.provide(LedgerRepo.Default))).toBe(1)
          // B: a saga handed to an operator; C: another, which the operator resolves by hand.
          const parked = yield* parkedSaga
          const handled = yield* parkedSaga

          const dead = json(yield* cli("outbox", "dead", "--json"))
          expect(dead.map((row: { aggregate_id: string }) => row.aggregate_id).sort()).toEqual(
            [stranded, parked.orderId, handled.orderId].sort()
          )
          expect(Object.keys(dead[0]).sort()).toEqual(
            [
              "aggregate_id",
              "attempts",
              "created_at",
              "event_id",
              "event_type",
              "id",
              "last_error",
              "processed_at",
              "status"
            ]
          )
          expect((yield* cli("outbox", "dead")).stdout).toContain("MAX_ATTEMPTS=10")

          const before = json(yield* cli("saga", "show", stranded, "--json"))
          expect(before.ledger.status).toBe("NEEDS_ATTENTION")
          expect(before.sagas).toEqual([])
          expect(before.events[0].status).toBe("dead")

          const attention = json(yield* cli("sagas", "list", "--state", "needs_attention", "--json"))
          expect(attention.map((s: { id: string }) => s.id).sort()).toEqual([parked.sagaId, handled.sagaId].sort())
          expect(Object.keys(attention[0]).sort()).toEqual(
            [
              "created_at",
              "current_step",
              "duration_ms",
              "error",
              "id",
              "order_id",
              "saga_type",
              "state",
              "trigger_event_id",
              "updated_at"
            ]
          )

          // A retry whose guarded update waits for a racing change that then commits names the state
          // it lost to, read after the wait, not the needs_attention it had read before.
          const racer = yield* ownSession(db.url)
          yield* Effect.promise(() => racer.query("begin"))
          yield* Effect.promise(() =>
            racer.query("update saga_instances set state = 'running' where id = $1", [handled.sagaId])
          )
          const loser = yield* Effect.fork(cli("saga", "retry", handled.sagaId.toUpperCase()))
          yield* until(
            "the CLI's retry waits on the racing session's lock",
            scalar(sql<{ value: number }>`
              select count(*)::int as value from pg_stat_activity
              where wait_event_type = 'Lock' and query like '%update saga_instances i%'`),
            (n) => n > 0,
            20
          )
          yield* Effect.promise(() => racer.query("commit"))
          const lost = yield* Fiber.join(loser)
          expect(lost.code).toBe(1)
          expect(lost.stderr).toContain(`saga ${handled.sagaId} is running, not needs_attention`)
          yield* sql`update saga_instances set state = 'needs_attention' where id = ${handled.sagaId}`

          const resolved = yield* cli("saga", "resolve", handled.sagaId, "--note", "refunded by hand, ticket 4711")
          expect(resolved.code, resolved.stderr).toBe(0)
          const resolvedTwice = yield* cli("saga", "resolve", handled.sagaId, "--note", "again")
          expect(resolvedTwice.code).toBe(1)
          expect(resolvedTwice.stderr).toContain("is resolved, not needs_attention")
          const handledShown = json(yield* cli("saga", "show", handled.orderId, "--json"))
          expect(handledShown.sagas[0].state).toBe("resolved")
          expect(handledShown.sagas[0].operator_actions[0]).toMatchObject({
            action: "saga_resolve",
            note: "refunded by hand, ticket 4711"
          })
          expect((yield* cli("saga", "show", handled.orderId)).stdout).toContain("refunded by hand, ticket 4711")
          const handledRow = yield* outboxRowOf(handled.orderId)
          expect((yield* cli("outbox", "replay", handledRow.id)).stderr).toContain("which an operator resolved")

          // A real replica, as `npm run worker` runs it.
          const worker: WorkerProcess = yield* Effect.acquireRelease(
            Effect.sync(() =>
              spawnWorker({
                DATABASE_URL: db.url,
                ORDERS_SERVICE_URL: urls.orders,
                INVENTORY_SERVICE_URL: urls.inventory,
                PAYMENTS_SERVICE_URL: urls.payments,
                SERVICE_TOKEN: "test-service-token",
                POLL_INTERVAL_MS: "60000"
              }, entries.main)
            ),
            (w) => Effect.promise(() => w.stop("SIGTERM"))
          )
          yield* Effect.promise(() => worker.waitFor(/LISTEN order_events established/, 60_000))

          const pong = json(yield* cli("ping", "--json", "--timeout", "30s"))
          expect(pong.latency_ms).toBeGreaterThanOrEqual(0)
          const status = json(yield* cli("status", "--json"))
          expect(status.replicas).toHaveLength(1)
          expect(status.replicas[0].alive).toBe(true)
          expect(status.outbox).toMatchObject({ dead: 3, processing: 0 })
          expect(status.sagas).toMatchObject({ needs_attention: 1, resolved: 1 })
          expect(status.circuits).toBeNull()

          // Replay A: its ledger row goes back to PENDING in the same transaction; the worker is
          // NOTIFYd (polling is a minute away) and the order settles.
          const deadA = yield* outboxRowOf(stranded)
          const replayed = yield* cli("outbox", "replay", deadA.id)
          expect(replayed.code, replayed.stderr).toBe(0)
          expect(replayed.stdout).toContain(`order ${stranded} back to PENDING`)
          expect((yield* awaitStatus(stranded, ["PENDING"], "30 seconds")).status).toBe("CONFIRMED")
          // The ledger settles inside the handler; the outbox row is marked done just after.
          const settled = yield* outboxRowOf(stranded).pipe(
            Effect.filterOrFail((row) => row.status !== "processing"),
            Effect.retry(Schedule.spaced("50 millis"))
          )
          expect(settled).toMatchObject({ status: "done", last_error: null })
          const shown = json(yield* cli("saga", "show", stranded, "--json"))
          expect(shown.ledger.status).toBe("CONFIRMED")
          expect(shown.sagas[0].state).toBe("completed")
          expect(shown.sagas[0].steps.length).toBeGreaterThan(0)
          for (const step of shown.sagas[0].steps) {
            expect(step.idempotency_key).toBe(`${shown.sagas[0].id}:${step.step}:${step.phase}`)
            expect(step.attempts).toBeGreaterThan(0)
          }
          const timeline = (yield* cli("saga", "show", stranded.toUpperCase())).stdout
          expect(timeline).toContain("ledger CONFIRMED")
          expect(timeline).toContain("completed")
          expect((yield* cli("outbox", "replay", deadA.id)).code).toBe(1)

          // Retry B twice at once while the replica runs: exactly one resumes it, once.
          const [first, second] = yield* Effect.all([
            cli("saga", "retry", parked.orderId),
            cli("saga", "retry", parked.sagaId)
          ], {
            concurrency: 2
          })
          expect([first.code, second.code].sort()).toEqual([0, 1])
          expect([first.stderr, second.stderr].join("")).toMatch(/not needs_attention/)
          expect([first.stderr, second.stderr].join("")).not.toMatch(/is needs_attention, not/)
          expect((yield* awaitStatus(parked.orderId, ["PENDING", "NEEDS_ATTENTION"], "30 seconds")).status).toBe(
            "CONFIRMED"
          )
          const [after] = yield* sql<{ state: string; retries: number }>`
          select state, (select count(*)::int from operator_actions where saga_id = ${parked.sagaId} and action = 'saga_retry') as retries
          from saga_instances where id = ${parked.sagaId}`
          expect(after).toEqual({ state: "completed", retries: 1 })
          expect((yield* cli("saga", "retry", parked.sagaId)).stderr).toContain("is completed, not needs_attention")
          // By order id, as the race's loser sees it when the winner has already committed.
          for (const args of [["retry"], ["resolve", "--note", "handled"]]) {
            const late = yield* cli("saga", ...args, parked.orderId.toUpperCase())
            expect(late.code).toBe(1)
            expect(late.stderr).toContain(
              `order ${parked.orderId}: its saga ${parked.sagaId} is completed, not needs_attention`
            )
          }

          // Prune: nothing is old enough, then one done row backdated.
          expect((yield* cli("outbox", "prune", "--older-than", "1h")).stdout).toContain("deleted 0 done row(s)")
          yield* sql`update outbox set processed_at = now() - interval '2 hours' where id = ${deadA.id}::bigint`
          expect((yield* cli("outbox", "prune", "--older-than", "1h")).stdout).toContain("deleted 1 done row(s)")

          const listed = json(
            yield* cli("sagas", "list", "--type", "OrderPlaced", "--since", "1h", "--limit", "2", "--json")
          )
          expect(listed).toHaveLength(2)
          expect(json(yield* cli("sagas", "list", "--type", "NoSuchSaga", "--json"))).toEqual([])
        }).pipe(Effect.scoped),
      { timeout: 240_000 }
    )

    it.effect(
      "`orchestrator run` is a replica: SIGTERM stops it gracefully, exit code 0",
      () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const urls = yield* ServiceUrls
          const replica = yield* Effect.acquireRelease(
            Effect.sync(() =>
              spawnWorker(
                {
                  DATABASE_URL: db.url,
                  ORDERS_SERVICE_URL: urls.orders,
                  INVENTORY_SERVICE_URL: urls.inventory,
                  PAYMENTS_SERVICE_URL: urls.payments,
                  SERVICE_TOKEN: "test-service-token",
                  WORKER_ID: "cli-run",
                  SHUTDOWN_GRACE_MS: "500"
                },
                entries.cli,
                ["run"]
              )
            ),
            (w) => Effect.promise(() => w.stop("SIGKILL"))
          )
          yield* Effect.promise(() => replica.waitFor(/LISTEN order_events established/, 120_000))
          expect(yield* Effect.promise(() => replica.stop("SIGTERM")), replica.output()).toBe(0)
          expect(replica.output()).toContain("worker stopped")
        }).pipe(Effect.scoped),
      { timeout: 180_000 }
    )

    it.effect(
      "ping without a worker fails in time with exit code 1; the bin runs as a process",
      () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const sql = yield* SqlClient.SqlClient
          const ping = yield* cli("ping", "--timeout", "500ms")
          expect(ping.code).toBe(1)
          expect(ping.stderr).toContain("no worker handled the ping within 500 ms")
          const left = yield* sql`select 1 from outbox where event_type = 'Ping' and status = 'pending'`
          expect(left).toHaveLength(0)

          // A command stopped by a signal did not finish: exit 1, not 0 (only `run` stops with 0).
          const stopped = yield* Effect.acquireRelease(
            Effect.sync(() => spawnWorker({ DATABASE_URL: db.url }, entries.cli, ["ping", "--timeout", "60s"])),
            (w) => Effect.promise(() => w.stop("SIGKILL"))
          )
          yield* until(
            "the ping's event is written",
            scalar(sql<{ value: number }>`
              select count(*)::int as value from outbox where event_type = 'Ping' and status = 'pending'`),
            (n) => n > 0,
            60
          )
          expect(yield* Effect.promise(() => stopped.stop("SIGTERM")), stopped.output()).toBe(1)
          yield* sql`delete from outbox where event_type = 'Ping'`

          const bad = yield* bin(["sagas", "list", "--limit", "x"], { DATABASE_URL: db.url })
          expect(bad.code).toBe(2)
          const status = yield* bin(["status", "--json"], { DATABASE_URL: db.url })
          expect(status.code, status.stderr).toBe(0)
          expect(Object.keys(JSON.parse(status.stdout)).sort()).toEqual(["circuits", "outbox", "replicas", "sagas"])
          // Neither DATABASE_URL nor DATABASE_*: npm start's embedded Postgres, named in the error.
          const nowhere = yield* bin(["status"], { EMBEDDED_PG_PORT: "1" })
          expect(nowhere.code).toBe(1)
          expect(nowhere.stderr).toContain("127.0.0.1:1/ecommerce")
          expect(nowhere.stderr).toContain("npm start's embedded Postgres")
        }).pipe(Effect.scoped),
      { timeout: 120_000 }
    )
  }
)

/** The outbox repository's guarded writes and claims, called directly (no worker running). */
import { TestDatabase } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import pg from "pg"
import { makeReaper } from "../src/outbox/Maintenance.ts"
import { makeOutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { makeWakeups } from "../src/outbox/Wakeups.ts"
import { WorkerTestDatabase } from "./fixtures/inProcessWorker.ts"
import { insert, row } from "./fixtures/outboxRows.ts"
import { scalar, until } from "./fixtures/processWorker.ts"

layer(WorkerTestDatabase, { excludeTestServices: true })("outbox repository", (it) => {
  it.effect("a write with a stale lease token is rejected once the row has been re-claimed", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const a = makeOutboxRepo(sql, { workerId: "replica-a", leaseMs: 60_000 })
      const b = makeOutboxRepo(sql, { workerId: "replica-b", leaseMs: 60_000 })
      const id = yield* insert("fence-1", "Ping", {})
      const [claimedByA] = (yield* a.claim(1000)).filter((r) => r.id === id)
      expect(claimedByA).toBeDefined()
      // A stalls past its lease; the reaper hands the row back and B claims it.
      yield* sql`update outbox set locked_until = now() - interval '1 second' where id = ${id}`
      yield* a.reapExpired(10, 1_000)
      const [claimedByB] = (yield* b.claim(1000)).filter((r) => r.id === id)
      expect(claimedByB!.attempts).toBe(2)
      expect(claimedByB!.lease_token).not.toBe(claimedByA!.lease_token)

      const staleToken = claimedByA!.lease_token
      expect(yield* a.complete([{ id, leaseToken: staleToken, status: "dead", delayMs: 0, error: "stale" }])).toEqual(
        []
      )
      expect([...(yield* a.extendLeases([{ id, leaseToken: staleToken }]))]).toEqual([])
      expect(yield* a.release([{ id, leaseToken: staleToken }])).toBe(0)
      expect(yield* row(id)).toMatchObject({ status: "processing", lease_token: claimedByB!.lease_token })

      expect(yield* b.complete([{ id, leaseToken: claimedByB!.lease_token, status: "done", delayMs: 0, error: null }]))
        .toEqual([
          { id, unblocksSuccessor: false }
        ])
      expect(yield* row(id)).toMatchObject({ status: "done", attempts: 2, lease_token: null })
    }))

  it.effect("an expired lease on the last allowed attempt sends the row to dead with the reason", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = makeOutboxRepo(sql, { workerId: "crashy", leaseMs: 60_000 })
      const id = yield* insert("reap-1", "Ping", {})
      yield* sql`update outbox set attempts = 2 where id = ${id}`
      expect((yield* repo.claim(1000)).some((r) => r.id === id)).toBe(true)
      yield* sql`update outbox set locked_until = now() - interval '1 second' where id = ${id}`
      const reaped = yield* repo.reapExpired(3, 1_000)
      expect(reaped).toContainEqual({ id, status: "dead" })
      expect(yield* row(id)).toMatchObject({
        status: "dead",
        attempts: 3,
        last_error: "lease held by crashy expired during attempt 3 of 3 (worker crashed or stalled)"
      })
    }))

  it.effect("only a processing row holds locked_until, so the reaper (which asks only that) takes nothing else", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = makeOutboxRepo(sql, { workerId: "stray", leaseMs: 60_000 })
      // Allowed by 0001's lease check alone (the other lease columns are null), refused since 0090.
      const stray = yield* sql`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, processed_at, locked_until)
        values ('test', 'stray-done', 'Ping', '{}', 'done', now(), now() - interval '1 second')`.pipe(Effect.flip)
      expect((stray.cause as { constraint?: string }).constraint).toBe("outbox_lease_until_processing")
      const id = yield* insert("stray-pending", "Ping", {})
      const refused = yield* sql`
        update outbox set locked_until = now() - interval '1 second' where id = ${id}`.pipe(Effect.flip)
      expect((refused.cause as { constraint?: string }).constraint).toBe("outbox_lease_until_processing")
      expect(yield* repo.reapExpired(5, 1_000)).toEqual([])
      expect(yield* row(id)).toMatchObject({ status: "pending", attempts: 0 })
      yield* sql`delete from outbox where id = ${id}`
    }))

  it.effect("the reaper takes up to its limit a statement, oldest lease first; one pass takes them all", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = makeOutboxRepo(sql, { workerId: "many-crashed", leaseMs: 60_000 })
      yield* sql`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload, status, attempts, locked_by,
                            locked_until, lease_token)
        select 'test', 'expired-' || g, 'Ping', '{}'::jsonb, 'processing', 1, 'gone',
               now() - g * interval '1 second', gen_random_uuid()
        from generate_series(1, 2500) g`
      const oldest = yield* repo.reapExpired(5, 10)
      expect(oldest).toHaveLength(10)
      const reaped = yield* sql<{ aggregate_id: string }>`
        select aggregate_id from outbox where id = any(${oldest.map((r) => r.id)}::bigint[]) order by id`
      expect(reaped.map((r) => r.aggregate_id)).toEqual(
        Array.from({ length: 10 }, (_, i) => `expired-${2491 + i}`)
      )
      // The loop: statements of 1,000 until one comes back short, within its first pass (the
      // next is 15 s away with this lease).
      const wakeups = yield* makeWakeups
      const reaper = yield* Effect.fork(makeReaper({ repo, wakeups, leaseMs: 60_000, maxAttempts: 5 }))
      yield* until(
        "one reaper pass requeues all 2,500",
        scalar(sql<{ value: number }>`select count(*)::int as value from outbox where locked_by = 'gone'`),
        (n) => n === 0,
        10
      )
      yield* Fiber.interrupt(reaper)
      yield* sql`delete from outbox where aggregate_id like 'expired-%'`
    }))

  it.effect("a claim beside a row locked by another transaction returns the other rows at once", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const db = yield* TestDatabase
      const repo = makeOutboxRepo(sql, { workerId: "skip-locked", leaseMs: 60_000 })
      const locked = yield* insert("locked-1", "Ping", {})
      const free = [yield* insert("locked-2", "Ping", {}), yield* insert("locked-3", "Ping", {})]
      const other = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: db.url })
          await client.connect()
          await client.query("begin")
          await client.query("select id from outbox where id = $1 for update", [locked])
          return client
        }),
        (client) => Effect.promise(() => client.query("rollback").then(() => client.end()))
      )
      expect(other).toBeDefined()
      const claimed = yield* repo.claim(1_000).pipe(
        Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("the claim waited on the locked row") })
      )
      const ids = claimed.map((r) => r.id)
      expect(ids).toEqual(expect.arrayContaining(free))
      expect(ids).not.toContain(locked)
      yield* repo.complete(
        claimed.map((r) => ({ id: r.id, leaseToken: r.lease_token, status: "done", delayMs: 0, error: null }))
      )
    }).pipe(Effect.scoped))
})

/**
 * Retention: each service prunes its own idempotency keys (orders also its cancellation marks)
 * older than the window, as its own role, in batches, one instance at a time.
 */
import type { ServiceRole } from "@ecommerce/db"
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { pruneBatch, pruneRound, type RetentionTarget } from "@ecommerce/http-kit"
import { rolePool } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { inject } from "vitest"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

const keys = (schema: string): RetentionTarget => ({ table: `${schema}.idempotency_keys`, column: "created_at" })
const services: ReadonlyArray<[ServiceRole, RetentionTarget]> = [
  ["orders", keys("orders")],
  ["inventory", keys("inventory")],
  ["payments", keys("payments")],
  ["edge_api", keys("edge")]
]
const marks: RetentionTarget = { table: "orders.cancellation_marks", column: "created_at" }
const all = [...services.map(([, target]) => target), marks]

/** `old` rows 200 h old and `fresh` rows 1 h old in `target`, as the superuser. */
const seed = (target: RetentionTarget, old: number, fresh: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const row = (age: number) =>
      target === marks
        ? sql`insert into orders.cancellation_marks (order_id, reason, created_at)
              values (${randomUUID()}, 'test', now() - make_interval(hours => ${age}))`
        : sql`insert into ${sql(target.table)} (key, fingerprint, response, created_at)
              values (${randomUUID()}, 'f', '{}'::jsonb, now() - make_interval(hours => ${age}))`
    for (let i = 0; i < old; i++) yield* row(200)
    for (let i = 0; i < fresh; i++) yield* row(1)
  })

const counts = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const result: Record<string, { old: number; fresh: number }> = {}
  for (const target of all) {
    const [row] = yield* sql<{ old: number; fresh: number }>`
      select count(*) filter (where created_at < now() - interval '100 hours')::int as old,
             count(*) filter (where created_at >= now() - interval '100 hours')::int as fresh
      from ${sql(target.table)}`
    result[target.table] = row!
  }
  return result
})

const clear = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => Effect.forEach(all, (target) => sql`delete from ${sql(target.table)}`, { discard: true })
)

layer(TestDatabaseLive(adminUrl, template), { excludeTestServices: true })("retention", (it) => {
  it.effect("each service prunes only its own rows older than the window, as its own role, in batches", () =>
    Effect.gen(function*() {
      yield* clear
      for (const target of all) yield* seed(target, 5, 3)
      const before = yield* counts
      for (const target of all) expect(before[target.table]).toEqual({ old: 5, fresh: 3 })

      // Batches of 2: three statements for five rows, and only the orders keys.
      const deleted = yield* pruneRound(keys("orders"), 100, 2).pipe(Effect.provide(rolePool("orders")))
      expect(deleted).toBe(5)
      const afterOrders = yield* counts
      expect(afterOrders["orders.idempotency_keys"]).toEqual({ old: 0, fresh: 3 })
      for (const target of all.filter((t) => t.table !== "orders.idempotency_keys")) {
        expect(afterOrders[target.table]).toEqual({ old: 5, fresh: 3 })
      }

      for (const [role, target] of services.slice(1)) {
        expect(yield* pruneRound(target, 100).pipe(Effect.provide(rolePool(role)))).toBe(5)
      }
      expect(yield* pruneRound(marks, 100).pipe(Effect.provide(rolePool("orders")))).toBe(5)
      const after = yield* counts
      for (const target of all) expect(after[target.table]).toEqual({ old: 0, fresh: 3 })
    }))

  it.effect("one instance at a time: while another session holds the table's lock, a batch deletes nothing", () =>
    Effect.gen(function*() {
      yield* clear
      yield* seed(keys("inventory"), 3, 0)
      const db = yield* TestDatabase
      const other = yield* Effect.acquireRelease(
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: db.url })
          await client.connect()
          await client.query("select pg_advisory_lock(hashtextextended('retention:inventory.idempotency_keys', 0))")
          return client
        }),
        (client) => Effect.promise(() => client.end())
      )
      const inventory = rolePool("inventory")
      expect(yield* pruneBatch(keys("inventory"), 100).pipe(Effect.provide(inventory))).toBe(0)
      expect((yield* counts)["inventory.idempotency_keys"]).toEqual({ old: 3, fresh: 0 })
      // Another table's lock is not this one's.
      yield* seed(keys("payments"), 1, 0)
      expect(yield* pruneBatch(keys("payments"), 100).pipe(Effect.provide(rolePool("payments")))).toBe(1)
      yield* Effect.promise(() => other.query("select pg_advisory_unlock_all()"))
      expect(yield* pruneBatch(keys("inventory"), 100).pipe(Effect.provide(inventory))).toBe(3)
    }).pipe(Effect.scoped))
})

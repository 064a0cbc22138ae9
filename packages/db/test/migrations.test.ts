import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { inject } from "vitest"
import { migrate } from "../src/Migrations.ts"
import { makeTestDatabase, TestDatabaseLive } from "../src/testing.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

layer(TestDatabaseLive(adminUrl, template), { excludeTestServices: true })("migrations", (it) => {
  it.effect("running them again is a no-op", () =>
    Effect.gen(function*() {
      const applied = yield* migrate()
      expect(applied).toEqual([])
    }))

  it.effect("the outbox has the producer contract's columns and defaults", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ eventId: string; status: string; attempts: number; headers: unknown }>`
        insert into outbox (aggregate_type, aggregate_id, event_type, payload)
        values ('order', 'o-1', 'Ping', '{}')
        returning event_id as "eventId", status, attempts, headers`
      expect(rows[0]!.status).toBe("pending")
      expect(rows[0]!.attempts).toBe(0)
      expect(rows[0]!.headers).toEqual({})
      expect(rows[0]!.eventId).toMatch(/^[0-9a-f-]{36}$/)
    }))
})

describe("migrations on an empty database", () => {
  it.live("two concurrent runs, each with its own pool, apply every migration exactly once", () =>
    Effect.gen(function*() {
      const db = yield* makeTestDatabase(adminUrl, "template0")
      const pool = () => PgClient.layer({ url: Redacted.make(db.url), maxConnections: 2 })
      const [a, b] = yield* Effect.all(
        [Effect.provide(migrate(), pool()), Effect.provide(migrate(), pool())],
        { concurrency: 2 }
      )
      const applied = [...a, ...b].map(([id]) => id).sort((x, y) => x - y)
      const files = yield* Effect.provide(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ id: number }>`select migration_id as id from effect_sql_migrations order by 1`
        ),
        pool()
      )
      expect(applied).toEqual(files.map((row) => row.id))
      expect(applied.length).toBeGreaterThanOrEqual(2)
      // One run did all the work; the other found nothing to do.
      expect(Math.min(a.length, b.length)).toBe(0)
    }).pipe(Effect.scoped))

  it.live("a failed migration's error names it and Postgres's reason; nothing of its batch stays applied", () =>
    Effect.gen(function*() {
      const db = yield* makeTestDatabase(adminUrl, "template0")
      const directory = mkdtempSync(join(tmpdir(), "migrations-"))
      writeFileSync(join(directory, "0001_table.sql"), "create table probe (id integer);")
      writeFileSync(join(directory, "0002_broken.sql"), "select 1 / 0;")
      const failed = yield* migrate(directory).pipe(
        Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 2 })),
        Effect.flip
      )
      expect(failed.message).toBe("Migration \"2_broken\" failed: Failed to execute statement: division by zero")
      const tables = yield* Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`select 1 from pg_tables where tablename = 'probe'`),
        PgClient.layer({ url: Redacted.make(db.url), maxConnections: 1 })
      )
      expect(tables).toEqual([])
    }).pipe(Effect.scoped))
})

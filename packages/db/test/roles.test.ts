import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { inject } from "vitest"
import { applyRoles, rolePassword, ServiceRoles, type ServiceRole } from "../src/Roles.ts"
import { TestDatabase, TestDatabaseLive } from "../src/testing.ts"

const adminUrl = inject("adminUrl")
const template = inject("templateDatabase")

/** Runs `statement` logged in as `role`; yields "ok" or the Postgres error message. */
const as = (role: ServiceRole, statement: string) =>
  Effect.gen(function*() {
    const db = yield* TestDatabase
    const url = new URL(db.url)
    url.username = role
    url.password = Redacted.value(yield* rolePassword(role))
    return yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(
      Effect.as("ok"),
      Effect.catchTag("SqlError", (error) => Effect.succeed(String((error.cause as Error).message))),
      Effect.provide(PgClient.layer({ url: Redacted.make(url.toString()), maxConnections: 1 }))
    )
  }).pipe(Effect.scoped)

layer(TestDatabaseLive(adminUrl, template), { excludeTestServices: true })("service roles", (it) => {
  it.effect("the orchestrator's role is denied the services' schemas", () =>
    Effect.gen(function*() {
      expect(yield* as("orchestrator", "select * from inventory.stock")).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "update inventory.stock set reserved = 0")).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "select * from payments.authorizations")).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "select * from orders.orders")).toMatch(/permission denied/)
    }))

  it.effect("the orchestrator's role uses the public tables", () =>
    Effect.gen(function*() {
      expect(yield* as("orchestrator", "select * from outbox")).toBe("ok")
      expect(yield* as("orchestrator", "update order_ledger set status = status")).toBe("ok")
      expect(yield* as("orchestrator", "select * from worker_heartbeats")).toBe("ok")
    }))

  it.effect("each service's role reaches its own schema and nothing else", () =>
    Effect.gen(function*() {
      expect(yield* as("inventory", "select * from inventory.stock")).toBe("ok")
      expect(yield* as("inventory", "select * from orders.orders")).toMatch(/permission denied/)
      expect(yield* as("inventory", "select * from outbox")).toMatch(/permission denied/)
      expect(yield* as("orders", "select * from orders.orders")).toBe("ok")
      expect(yield* as("orders", "select * from payments.authorizations")).toMatch(/permission denied/)
      expect(yield* as("payments", "select * from payments.authorizations")).toBe("ok")
      expect(yield* as("payments", "select * from order_ledger")).toMatch(/permission denied/)
    }))

  it.effect("the edge API's role writes ledger and outbox rows but cannot process the outbox", () =>
    Effect.gen(function*() {
      expect(yield* as("edge_api", "select * from catalogue")).toBe("ok")
      expect(yield* as(
        "edge_api",
        "insert into outbox (aggregate_type, aggregate_id, event_type, payload) values ('order', 'x', 'Ping', '{}')"
      )).toBe("ok")
      expect(yield* as("edge_api", "update outbox set status = 'done'")).toMatch(/permission denied/)
      expect(yield* as("edge_api", "update order_ledger set status = 'CONFIRMED'")).toMatch(/permission denied/)
      expect(yield* as("edge_api", "select * from inventory.stock")).toMatch(/permission denied/)
    }))

  it.effect("no service role can create a table in public, even where PUBLIC was granted it (Postgres < 15)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // Before Postgres 15 every database gives PUBLIC create on schema public; restore that default
      // here, then apply the roles as `db:roles` would on such a server.
      yield* sql`grant create on schema public to public`
      yield* applyRoles
      for (const role of ServiceRoles) {
        expect(yield* as(role, `create table public.sneaky_${role} (id int)`)).toMatch(/permission denied/)
      }
    }))

  it.effect("a table a later migration adds to edge is granted to the edge API's role", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`create table edge.later_table (id int)`
      expect(yield* as("edge_api", "insert into edge.later_table values (1)")).toBe("ok")
      expect(yield* as("edge_api", "select * from edge.later_table")).toBe("ok")
      expect(yield* as("orders", "select * from edge.later_table")).toMatch(/permission denied/)
    }))
})

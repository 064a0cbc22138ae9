import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { readFileSync } from "node:fs"
import { inject } from "vitest"
import { applyRoles, rolePassword, type ServiceRole, ServiceRoles } from "../src/Roles.ts"
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

const designDoc = new URL("../../../engineering-design.md", import.meta.url)
const schemas = ["public", "edge", "orders", "inventory", "payments"]
const verbOrder = ["select", "insert", "update", "delete", "truncate", "references", "trigger"]

/** "select, update (b, a)" -> "select, update (a, b)": privileges in a fixed order, columns sorted. */
const canonical = (grants: ReadonlyMap<string, ReadonlyArray<string> | "table">): string =>
  [...grants.entries()]
    .sort(([a], [b]) => verbOrder.indexOf(a) - verbOrder.indexOf(b))
    .map(([verb, columns]) => columns === "table" ? verb : `${verb} (${[...columns].sort().join(", ")})`)
    .join(", ") || "—"

/** One cell of the documented table, split on the commas outside parentheses. */
const parseCell = (cell: string): string => {
  const grants = new Map<string, ReadonlyArray<string> | "table">()
  if (cell === "—") return canonical(grants)
  for (const part of cell.match(/[a-z]+(?: \([^)]*\))?/g) ?? []) {
    const [, verb, columns] = /^([a-z]+)(?: \(([^)]*)\))?$/.exec(part)!
    grants.set(verb!, columns === undefined ? "table" : columns.split(",").map((c) => c.trim()))
  }
  return canonical(grants)
}

/** engineering-design.md §4.1's table: `{ "outbox": { edge_api: "insert (...)", ... }, "edge.*": ... }`. */
const documentedGrants = () => {
  const text = readFileSync(designDoc, "utf8")
  const lines = text.slice(text.indexOf("| Table | `edge_api`")).split("\n")
  const header = lines[0]!.split("|").slice(2, -1).map((cell) => cell.trim().replaceAll("`", ""))
  const rows = new Map<string, Record<string, string>>()
  for (const line of lines.slice(2)) {
    if (!line.startsWith("|")) break
    const [table, ...cells] = line.split("|").slice(1, -1).map((cell) => cell.trim().replaceAll("`", ""))
    rows.set(table!, Object.fromEntries(header.map((role, i) => [role, parseCell(cells[i]!)])))
  }
  return { roles: header, rows }
}

layer(TestDatabaseLive(adminUrl, template), { excludeTestServices: true })("service roles", (it) => {
  it.effect("every role holds exactly the privileges engineering-design.md §4.1 lists, table by table", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { roles, rows } = documentedGrants()
      expect([...roles].sort()).toEqual([...ServiceRoles].sort())
      const tables = yield* sql<{ schema: string; name: string }>`
        select table_schema as schema, table_name as name from information_schema.tables
        where table_schema in ${sql.in(schemas)} and table_type = 'BASE TABLE' order by 1, 2`
      const tableGrants = yield* sql<{ schema: string; name: string; grantee: string; verb: string }>`
        select table_schema as schema, table_name as name, grantee, lower(privilege_type) as verb
        from information_schema.role_table_grants
        where table_schema in ${sql.in(schemas)} and grantee in ${sql.in(ServiceRoles)}`
      const columnGrants = yield* sql<{ schema: string; name: string; grantee: string; verb: string; column: string }>`
        select table_schema as schema, table_name as name, grantee, lower(privilege_type) as verb, column_name as column
        from information_schema.column_privileges
        where table_schema in ${sql.in(schemas)} and grantee in ${sql.in(ServiceRoles)}`
      const actual: Record<string, Record<string, string>> = {}
      const expected: Record<string, Record<string, string>> = {}
      for (const { name, schema } of tables) {
        const label = schema === "public" ? name : `${schema}.${name}`
        const documented = rows.get(label) ?? rows.get(`${schema}.*`)
        expect(documented, `${label} has no row in engineering-design.md §4.1`).toBeDefined()
        expected[label] = documented!
        actual[label] = Object.fromEntries(ServiceRoles.map((role) => {
          const grants = new Map<string, Array<string> | "table">()
          for (const g of tableGrants) {
            if (g.schema === schema && g.name === name && g.grantee === role) grants.set(g.verb, "table")
          }
          // column_privileges also lists table-level privileges once per column: keep the rest.
          for (const g of columnGrants) {
            if (g.schema !== schema || g.name !== name || g.grantee !== role || grants.get(g.verb) === "table") continue
            const columns = grants.get(g.verb)
            grants.set(g.verb, [...(columns === undefined || columns === "table" ? [] : columns), g.column])
          }
          return [role, canonical(grants)]
        }))
      }
      expect(actual).toEqual(expected)
    }))

  it.effect("a producer cannot set the outbox's processing columns or a ledger row's status", () =>
    Effect.gen(function*() {
      for (const producer of ["edge_api", "outbox_producer"] as const) {
        expect(
          yield* as(
            producer,
            "insert into outbox (aggregate_type, aggregate_id, event_type, payload, headers) values ('order', 'x', 'Ping', '{}', '{}')"
          )
        ).toBe("ok")
        expect(
          yield* as(
            producer,
            "insert into outbox (aggregate_type, aggregate_id, event_type, payload, attempts) values ('order', 'x', 'Ping', '{}', 2147483647)"
          )
        ).toMatch(/permission denied/)
        expect(
          yield* as(
            producer,
            "insert into outbox (aggregate_type, aggregate_id, event_type, payload, status) values ('order', 'x', 'Ping', '{}', 'done')"
          )
        ).toMatch(/permission denied/)
        expect(
          yield* as(
            producer,
            `insert into order_ledger (order_id, customer_id, items, amount, currency, authorization_id, status)
           values (gen_random_uuid(), 'c', '[]', 1, 'EUR', gen_random_uuid(), 'CONFIRMED')`
          )
        ).toMatch(/permission denied/)
        expect(yield* as(producer, "update outbox set attempts = 0")).toMatch(/permission denied/)
        expect(yield* as(producer, "delete from outbox")).toMatch(/permission denied/)
      }
      expect(yield* as("outbox_producer", "select * from order_ledger")).toMatch(/permission denied/)
      expect(yield* as("outbox_producer", "select * from edge.idempotency_keys")).toMatch(/permission denied/)
    }))

  it.effect("the orchestrator cannot change prices, the migrations record or write outbox rows", () =>
    Effect.gen(function*() {
      expect(yield* as("orchestrator", "update catalogue set unit_price = 1")).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "select * from catalogue")).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "delete from effect_sql_migrations")).toMatch(/permission denied/)
      expect(
        yield* as(
          "orchestrator",
          "insert into outbox (aggregate_type, aggregate_id, event_type, payload) values ('order', 'x', 'Ping', '{}')"
        )
      ).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "update order_ledger set amount = 1")).toMatch(/permission denied/)
      expect(yield* as("orchestrator", "select * from outbox_claim('w', 1, 1000)")).toBe("ok")
    }))

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
      expect(
        yield* as(
          "edge_api",
          "insert into outbox (aggregate_type, aggregate_id, event_type, payload) values ('order', 'x', 'Ping', '{}')"
        )
      ).toBe("ok")
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

import { SqlClient } from "@effect/sql"
import { Config, Effect, Redacted } from "effect"

/**
 * One Postgres login role per process kind. Each service role may use only its own schema; the edge
 * API and the orchestrator share the outbox, order_ledger and catalogue in `public`. Roles are
 * cluster-wide, so they are applied by `npm run db:roles` (and the test setup), not by migrations.
 */
export const ServiceRoles = ["orders", "inventory", "payments", "edge_api", "orchestrator"] as const
export type ServiceRole = (typeof ServiceRoles)[number]

/** `<ROLE>_DATABASE_PASSWORD`, e.g. `EDGE_API_DATABASE_PASSWORD`; development default `<role>-dev-password`. */
export const rolePassword = (role: ServiceRole): Config.Config<Redacted.Redacted<string>> =>
  Config.redacted(`${role.toUpperCase()}_DATABASE_PASSWORD`).pipe(
    Config.withDefault(Redacted.make(`${role}-dev-password`))
  )

/**
 * Static grants, sent as one simple-protocol script like a migration file (no user input in it).
 * `alter default privileges` covers tables that later migrations create, when the same admin role
 * runs them; re-running this script after migrating covers the rest.
 */
const grants = `
revoke all on schema orders, inventory, payments, edge from public;
-- Before Postgres 15 every role may create tables in public; only the admin's migrations may.
revoke create on schema public from public;

grant usage on schema orders to orders;
grant select, insert, update, delete on all tables in schema orders to orders;
grant usage, select on all sequences in schema orders to orders;
alter default privileges in schema orders grant select, insert, update, delete on tables to orders;
alter default privileges in schema orders grant usage, select on sequences to orders;

grant usage on schema inventory to inventory;
grant select, insert, update, delete on all tables in schema inventory to inventory;
grant usage, select on all sequences in schema inventory to inventory;
alter default privileges in schema inventory grant select, insert, update, delete on tables to inventory;
alter default privileges in schema inventory grant usage, select on sequences to inventory;

grant usage on schema payments to payments;
grant select, insert, update, delete on all tables in schema payments to payments;
grant usage, select on all sequences in schema payments to payments;
alter default privileges in schema payments grant select, insert, update, delete on tables to payments;
alter default privileges in schema payments grant usage, select on sequences to payments;

-- The edge API reads prices, writes ledger rows and outbox rows, and keeps its own idempotency keys.
grant usage on schema edge to edge_api;
grant select, insert, update, delete on all tables in schema edge to edge_api;
grant usage, select on all sequences in schema edge to edge_api;
alter default privileges in schema edge grant select, insert, update, delete on tables to edge_api;
alter default privileges in schema edge grant usage, select on sequences to edge_api;
grant usage on schema public to edge_api;
grant select on catalogue to edge_api;
grant select, insert on order_ledger to edge_api;
grant insert on outbox to edge_api;

-- The orchestrator owns the processing side of public: the outbox, the ledger, its heartbeats and
-- whatever tables its later migrations add there. Never the services' schemas.
grant usage on schema public to orchestrator;
grant select, insert, update, delete on all tables in schema public to orchestrator;
grant usage, select on all sequences in schema public to orchestrator;
alter default privileges in schema public grant select, insert, update, delete on tables to orchestrator;
alter default privileges in schema public grant usage, select on sequences to orchestrator;
`

const upsertRole = `
do $$
declare
  role_name text := current_setting('ecommerce.role_name');
  role_password text := current_setting('ecommerce.role_password');
begin
  if exists (select 1 from pg_roles where rolname = role_name) then
    execute format('alter role %I with login password %L', role_name, role_password);
  else
    execute format('create role %I with login password %L', role_name, role_password);
  end if;
end
$$`

/**
 * Creates each role if missing (or resets its password to the configured one), then grants. Run it
 * as the admin that runs the migrations, after migrating. Safe to run again, and concurrently.
 */
export const applyRoles = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(
    Effect.gen(function*() {
      // CREATE ROLE races with itself across databases of one cluster: serialize on a lock.
      yield* sql`select pg_advisory_xact_lock(hashtext('ecommerce.roles'))`
      for (const role of ServiceRoles) {
        const password = yield* rolePassword(role)
        // DDL takes no bind parameters. The name and password travel as bind parameters into
        // transaction-local settings, so neither statement text (logged by Postgres, recorded in
        // spans) ever contains the password.
        yield* sql`select set_config('ecommerce.role_name', ${role}, true), set_config('ecommerce.role_password', ${Redacted.value(password)}, true)`
        yield* sql.unsafe(upsertRole)
      }
      yield* sql.unsafe(grants)
    })
  )
}).pipe(Effect.withSpan("Roles.applyRoles"))

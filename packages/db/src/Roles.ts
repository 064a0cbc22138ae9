import { SqlClient } from "@effect/sql"
import { Config, Effect, Redacted } from "effect"

/**
 * One Postgres login role per process kind, plus `outbox_producer` for services outside this repo that
 * place orders (README, "Writing events"). Each service role may use only its own schema; in `public`
 * every role gets exactly the tables, columns and verbs it uses, as engineering-design.md §4 lists
 * them (packages/db/test/roles.test.ts compares that table with the catalog). Roles are cluster-wide,
 * so they are applied by `npm run db:roles` (and the test setup), not by migrations.
 */
export const ServiceRoles = ["orders", "inventory", "payments", "edge_api", "orchestrator", "outbox_producer"] as const
export type ServiceRole = (typeof ServiceRoles)[number]

/** `<ROLE>_DATABASE_PASSWORD`, e.g. `EDGE_API_DATABASE_PASSWORD`; development default `<role>-dev-password`. */
export const rolePassword = (role: ServiceRole): Config.Config<Redacted.Redacted<string>> =>
  Config.redacted(`${role.toUpperCase()}_DATABASE_PASSWORD`).pipe(
    Config.withDefault(Redacted.make(`${role}-dev-password`))
  )

/**
 * Static grants, sent as one simple-protocol script like a migration file (no user input in it).
 * In the services' own schemas `alter default privileges` covers tables that later migrations
 * create, when the same admin role runs them. In `public` nothing is granted by default: every table
 * is granted here, by name, and a table added there needs its lines here and in §4.
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

grant usage on schema edge to edge_api;
grant select, insert, update, delete on all tables in schema edge to edge_api;
grant usage, select on all sequences in schema edge to edge_api;
alter default privileges in schema edge grant select, insert, update, delete on tables to edge_api;
alter default privileges in schema edge grant usage, select on sequences to edge_api;

-- public: start from nothing (this also undoes the wide grants and default privileges that earlier
-- versions of this script gave the orchestrator), then grant what each role uses.
alter default privileges in schema public revoke all on tables from orchestrator;
alter default privileges in schema public revoke all on sequences from orchestrator;
revoke all on all tables in schema public from orders, inventory, payments, edge_api, orchestrator, outbox_producer;
revoke all on all sequences in schema public from orders, inventory, payments, edge_api, orchestrator, outbox_producer;
grant usage on schema public to edge_api, orchestrator, outbox_producer;

-- Producers (the edge API, outside services) insert the producer columns of the outbox and of the
-- ledger, nothing else: the processing columns (status, attempts, leases, ...) and a ledger row's
-- status belong to the orchestrator. The outbox id is an identity column: no sequence grant needed.
grant insert (event_id, aggregate_type, aggregate_id, event_type, payload, headers, created_at)
  on outbox to edge_api, outbox_producer;
grant insert (order_id, customer_id, items, amount, currency, authorization_id)
  on order_ledger to edge_api, outbox_producer;
-- The edge prices checkouts and shows orders.
grant select on catalogue, order_ledger to edge_api;

-- The orchestrator claims, settles and prunes outbox rows, settles ledger rows (reading them whole),
-- and keeps its heartbeats and saga state. Never the catalogue, the migrations table or a schema.
grant select, update, delete on outbox to orchestrator;
grant select, update (status, reason, updated_at) on order_ledger to orchestrator;
grant select, insert, update, delete on worker_heartbeats to orchestrator;
grant select, insert, update on saga_instances, saga_steps to orchestrator;
-- Retention (SAGA_RETENTION_HOURS) deletes finished sagas; their steps go by the foreign key's cascade.
grant delete on saga_instances to orchestrator;
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
        yield* sql`select set_config('ecommerce.role_name', ${role}, true), set_config('ecommerce.role_password', ${
          Redacted.value(password)
        }, true)`
        yield* sql.unsafe(upsertRole)
      }
      yield* sql.unsafe(grants)
    })
  )
}).pipe(Effect.withSpan("Roles.applyRoles"))

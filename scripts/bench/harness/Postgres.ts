/**
 * One Postgres server for the run (embedded, with pg_stat_statements preloaded, unless DATABASE_URL
 * names a server), databases per system, and statement counts from pg_stat_statements. The harness's
 * own queries log in as `bench_harness`, so counts filtered by user see only the systems under test.
 */
import { Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { databaseUrl, withCredentials } from "../../../packages/db/src/DatabaseUrl.ts"
import { ensureDatabase, freePort, startEmbedded } from "../../../packages/db/src/embedded.ts"
import { statFields } from "./Proc.ts"
import { round } from "./Stats.ts"

export interface Server {
  /** Superuser URL of a database on the server (the systems under test log in with it). */
  readonly url: (database: string) => string
  /** The harness's own login (excluded from statement counts). */
  readonly harnessUrl: (database: string) => string
  /** The postmaster's pid when the server runs on this machine (embedded), for CPU. */
  readonly postmaster: number | undefined
  readonly statements: boolean
  /** track_commit_timestamp is on: wake latency starts at the commit, not just before it. */
  readonly commitTimestamps: boolean
  readonly version: string
  readonly embedded: boolean
  readonly stop: () => Promise<void>
}

const queryOnce = async <R extends pg.QueryResultRow>(url: string, text: string, values: Array<unknown> = []) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text, values)).rows
  } finally {
    await client.end()
  }
}

export const startServer = async (log: (line: string) => void): Promise<Server> => {
  let adminUrl = process.env.DATABASE_URL
  let stop = async () => {}
  let embedded = false
  if (!adminUrl) {
    embedded = true
    const dataDir = mkdtempSync(join(tmpdir(), "bench-pg-"))
    const port = await freePort()
    const options = { dataDir, port, persistent: true }
    let server = await startEmbedded(options)
    // pg_stat_statements must be preloaded, which takes a restart.
    await queryOnce(server.adminUrl(), "alter system set shared_preload_libraries = 'pg_stat_statements'")
    await queryOnce(server.adminUrl(), "alter system set pg_stat_statements.max = 10000")
    // Commit times on the server clock, for wake latency (commit → handler's first statement).
    await queryOnce(server.adminUrl(), "alter system set track_commit_timestamp = on")
    await server.stop()
    server = await startEmbedded(options)
    adminUrl = server.adminUrl()
    stop = async () => {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  const superuser = adminUrl
  await queryOnce(
    superuser,
    `do $$ begin
    if not exists (select from pg_roles where rolname = 'bench_harness') then
      create role bench_harness superuser login password 'bench_harness';
    end if; end $$`
  )
  const [{ version }] = await queryOnce<{ version: string }>(
    superuser,
    "select current_setting('server_version') as version"
  )
  let statements = false
  try {
    await queryOnce(superuser, "create extension if not exists pg_stat_statements")
    await queryOnce(superuser, "select count(*) from pg_stat_statements")
    statements = true
  } catch (error) {
    log(`pg_stat_statements unavailable (${error instanceof Error ? error.message : error}): no statement counts`)
  }
  const [{ setting }] = await queryOnce<{ setting: string }>(
    superuser,
    "select current_setting('track_commit_timestamp') as setting"
  )
  let postmaster: number | undefined
  if (embedded) {
    // Read the backend's parent while its connection is open (the backend exits with it).
    const client = await connect(superuser)
    const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid
    postmaster = Number(statFields(pid)?.[1])
    await client.end()
  }
  const url = (database: string) => databaseUrl(superuser, database)
  const harnessUrl = (database: string) =>
    withCredentials(url(database), "bench_harness", Redacted.make("bench_harness"))
  return {
    url,
    harnessUrl,
    postmaster,
    statements,
    commitTimestamps: setting === "on",
    version: version!,
    embedded,
    stop
  }
}

/** A fresh database (dropped first if a previous run left it). */
export const freshDatabase = async (server: Server, name: string): Promise<void> => {
  await queryOnce(server.harnessUrl("postgres"), `drop database if exists ${name} with (force)`)
  await ensureDatabase(server.harnessUrl("postgres"), name)
  if (server.statements) await queryOnce(server.harnessUrl(name), "create extension if not exists pg_stat_statements")
}

export const connect = async (url: string): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: url })
  // A dropped connection fails the next query (and so the part) instead of crashing the run.
  client.on("error", (error) => console.error(`harness connection: ${error.message}`))
  await client.connect()
  return client
}

/** Statements the given users ran in the database since the last reset (top-level, utility included). */
export const statementCount = async (harness: pg.Client, database: string, users: ReadonlyArray<string>) => {
  const rows = await harness.query<{ n: string | null }>(
    `select sum(calls)::bigint as n from pg_stat_statements s
     join pg_database d on d.oid = s.dbid join pg_roles r on r.oid = s.userid
     where d.datname = $1 and r.rolname = any($2)`,
    [database, users]
  )
  return Number(rows.rows[0]?.n ?? 0)
}

export const resetStatements = (harness: pg.Client) => harness.query("select pg_stat_statements_reset()")

/** The busiest statements of a user, for the report: text, calls, mean ms. */
export const topStatements = async (harness: pg.Client, database: string, users: ReadonlyArray<string>, limit = 8) =>
  (await harness.query<{ query: string; calls: string; mean: number }>(
    `select s.query, s.calls, s.mean_exec_time as mean from pg_stat_statements s
     join pg_database d on d.oid = s.dbid join pg_roles r on r.oid = s.userid
     where d.datname = $1 and r.rolname = any($2) order by s.calls desc limit $3`,
    [database, users, limit]
  )).rows.map((r) => ({
    query: r.query.replace(/\s+/g, " ").slice(0, 160),
    calls: Number(r.calls),
    meanMs: round(r.mean, 3)
  }))

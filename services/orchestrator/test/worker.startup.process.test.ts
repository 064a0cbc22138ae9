/**
 * A worker process that cannot start: a bad setting, or Postgres down for STARTUP_TIMEOUT_MS; one
 * line that names the cause, never the password.
 */
import { freePort } from "@ecommerce/db/embedded"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { afterEach } from "vitest"
import { entries, expectNoLeakedProcesses, spawnWorker } from "./fixtures/processes.ts"
import { Database } from "./fixtures/processWorker.ts"

afterEach(expectNoLeakedProcesses)

layer(Database, { excludeTestServices: true })("worker processes: start-up failures", (it) => {
  it.effect("a bad setting fails at once with one line naming the variable", () =>
    Effect.gen(function*() {
      for (
        const [name, value, message] of [
          ["WORKER_CONCURRENCY", "abc", /WORKER_CONCURRENCY.*Expected an integer value but received \\?"abc/],
          ["LEASE_MS", "10", /LEASE_MS.*must be an integer >= 300/],
          ["POLL_INTERVAL_MS", "-5", /POLL_INTERVAL_MS.*must be a positive integer/],
          ["DATABASE_PORT", "99999", /DATABASE_PORT/],
          ["LOG_LEVEL", "loud", /LOG_LEVEL.*Expected a log level but received \\?"loud/]
        ] as const
      ) {
        const w = spawnWorker({ [name]: value, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" }, entries.main)
        const code = yield* Effect.promise(() => w.exited)
        expect(code).toBe(1)
        const lines = w.output().trim().split("\n")
        expect(lines).toHaveLength(1)
        expect(lines[0]).toMatch(/level=ERROR .*invalid configuration/)
        expect(lines[0]).toMatch(message)
      }
      // Five process starts in a row (each transpiles with tsx): a bound, not a speed assertion.
    }), 240_000)

  it.effect(
    "with Postgres down it retries for STARTUP_TIMEOUT_MS, then exits non-zero without leaking the password",
    () =>
      Effect.gen(function*() {
        const port = yield* Effect.promise(() => freePort())
        const started = Date.now()
        const w = spawnWorker(
          { DATABASE_URL: `postgres://ecommerce:s3cret-pw@127.0.0.1:${port}/ecommerce`, STARTUP_TIMEOUT_MS: "2000" },
          entries.main
        )
        expect(yield* Effect.promise(() => w.exited)).toBe(1)
        expect(Date.now() - started).toBeGreaterThanOrEqual(2_000)
        expect(w.output()).toMatch(
          new RegExp(
            `cannot start: Postgres at 127\\.0\\.0\\.1:${port}/ecommerce is unreachable after 2000 ms \\(STARTUP_TIMEOUT_MS\\): connect ECONNREFUSED`
          )
        )
        expect(w.output()).not.toContain("s3cret-pw")
      }),
    60_000
  )
})

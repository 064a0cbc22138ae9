/**
 * `npm run bench:drain`: how fast replicas drain no-op Ping events.
 * For each replica count, starts the workers on an empty outbox, inserts BENCH_ROWS (default 50,000)
 * Ping rows in one statement (its NOTIFY wakes them), and times until every row is `done`.
 * Repeats BENCH_RUNS times (default 3) and prints the median. Uses DATABASE_URL's server if set,
 * else a throwaway embedded Postgres.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { ensureDatabase, freePort, startEmbedded } from "../packages/db/src/embedded.ts"
import { databaseUrl } from "../packages/db/src/DatabaseUrl.ts"

const root = fileURLToPath(new URL("..", import.meta.url))
const rows = Number(process.env.BENCH_ROWS ?? 50_000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const replicaCounts = (process.env.BENCH_REPLICAS ?? "1,2").split(",").map(Number)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const runMigrations = (url: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "packages/db/src/bin/migrate.ts"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "Warn" },
      stdio: "inherit"
    })
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`migrate exited ${code}`))))
  })

const startWorker = (url: string, index: number): ChildProcess =>
  spawn(process.execPath, ["--import", "tsx", "services/orchestrator/src/main.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "Warn", WORKER_ID: `bench-${index}` },
    stdio: ["ignore", "inherit", "inherit"]
  })

const stopWorker = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.on("exit", () => resolve())
    child.kill("SIGTERM")
  })

const main = async () => {
  let serverUrl = process.env.DATABASE_URL
  let stop = async () => {}
  if (!serverUrl) {
    const dataDir = mkdtempSync(join(tmpdir(), "bench-pg-"))
    const server = await startEmbedded({ dataDir, port: await freePort(), persistent: false, onLog: (line) => process.env.BENCH_PG_LOG && console.error(line) })
    serverUrl = server.adminUrl()
    stop = async () => {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  const url = databaseUrl(serverUrl, "bench_drain")
  await ensureDatabase(serverUrl, "bench_drain")
  await runMigrations(url)
  const client = new pg.Client({ connectionString: url })
  await client.connect()

  console.log(`draining ${rows} Ping rows, ${runs} run(s) per replica count`)
  const results: Array<string> = []
  for (const replicas of replicaCounts) {
    const rates: Array<number> = []
    for (let run = 0; run < runs; run++) {
      await client.query("truncate outbox, worker_heartbeats")
      const workers = Array.from({ length: replicas }, (_, i) => startWorker(url, i))
      while (Number((await client.query("select count(*) from worker_heartbeats")).rows[0].count) < replicas) {
        await sleep(100)
      }
      await sleep(500) // let each LISTEN connect
      const started = performance.now()
      await client.query(
        `insert into outbox (aggregate_type, aggregate_id, event_type, payload)
         select 'bench', 'bench-' || g, 'Ping', '{}'::jsonb from generate_series(1, $1::int) g`,
        [rows]
      )
      let lastReport = performance.now()
      while (Number((await client.query("select count(*) from outbox where status = 'done'")).rows[0].count) < rows) {
        await sleep(50)
        if (process.env.BENCH_PROGRESS && performance.now() - lastReport > 1000) {
          lastReport = performance.now()
          const states = await client.query("select status, count(*)::int as n from outbox group by 1 order by 1")
          console.log(states.rows.map((r) => `${r.status}=${r.n}`).join(" "))
        }
      }
      const seconds = (performance.now() - started) / 1000
      const duplicates = Number((await client.query("select count(*) from outbox where attempts <> 1")).rows[0].count)
      await Promise.all(workers.map(stopWorker))
      rates.push(rows / seconds)
      console.log(`  ${replicas} replica(s), run ${run + 1}: ${seconds.toFixed(2)} s, ${Math.round(rows / seconds)} events/s, rows run more than once: ${duplicates}`)
    }
    results.push(`${replicas} replica(s): median ${Math.round(median(rates))} events/s (runs: ${rates.map(Math.round).join(", ")})`)
  }
  console.log(results.join("\n"))
  await client.end()
  await stop()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

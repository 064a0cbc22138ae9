/**
 * `npm run bench [-- [--quick] [part ...]]`: ours against graphile-worker and DBOS Transact on one
 * Postgres server (embedded unless DATABASE_URL is set), interleaved rounds, medians and ratios in
 * one run. Parts: drain, wake, recovery, claim, rss, start, sagas (all by default). `--quick` makes
 * fewer rounds and rows (a full quick run takes about 4 minutes on 2 cores).
 * Writes bench/results/<timestamp>.json and regenerates docs/benchmarks.md (+ its SVG charts).
 * `npm run bench:drain` is `npm run bench -- drain` (BENCH_ROWS and BENCH_RUNS override its rows and rounds;
 * BENCH_SAGA_ORDERS the orders per saga round; BENCH_LABEL labels the run on the page).
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
import { join } from "node:path"
import { killChildren, root, startServer } from "./Harness.ts"
import { claim } from "./parts/claim.ts"
import { drain } from "./parts/drain.ts"
import { recovery } from "./parts/recovery.ts"
import { rss } from "./parts/rss.ts"
import { sagas } from "./parts/sagas.ts"
import { start } from "./parts/start.ts"
import { wake } from "./parts/wake.ts"
import { writeReport } from "./report.ts"

const allParts = ["drain", "wake", "sagas", "start", "recovery", "claim", "rss"] as const
type Part = (typeof allParts)[number]

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const unknown = args.filter((a) => a !== "--quick" && !(allParts as ReadonlyArray<string>).includes(a))
if (unknown.length > 0) {
  console.error(`unknown part(s) ${unknown.join(", ")}; parts: ${allParts.join(", ")} (and --quick)`)
  process.exit(2)
}
const selected: ReadonlyArray<Part> = args.filter((a): a is Part => (allParts as ReadonlyArray<string>).includes(a))
const parts = selected.length > 0 ? selected : allParts

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

const git = (...command: Array<string>) => {
  try {
    return execFileSync("git", command, { cwd: root }).toString().trim()
  } catch {
    return "unknown"
  }
}

const packageVersion = (name: string) =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version as string

const main = async () => {
  const startedAt = new Date()
  const loadAtStart = loadavg()
  log(`bench: ${parts.join(", ")}${quick ? " (quick)" : ""}`)
  const server = await startServer(log)
  const results: Record<string, unknown> = {}
  const failures: Record<string, string> = {}
  mkdirSync(join(root, "bench", "results"), { recursive: true })
  const file = join("bench", "results", `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`)
  const document = () => ({
    startedAt: startedAt.toISOString(),
    // BENCH_LABEL: what the run measures, for the page (e.g. "baseline: main 3917a39's code").
    label: process.env.BENCH_LABEL ?? null,
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    quick,
    parts,
    commit: git("rev-parse", "--short", "HEAD"),
    dirty: git("status", "--porcelain", "--untracked-files=no") !== "",
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? "unknown",
      memoryGb: Math.round(totalmem() / 2 ** 30 * 10) / 10,
      loadAverage: { start: loadAtStart, end: loadavg() },
      node: process.version,
      postgres: server.version,
      postgresEmbedded: server.embedded,
      pgStatStatements: server.statements
    },
    versions: {
      "graphile-worker": packageVersion("graphile-worker"),
      "@dbos-inc/dbos-sdk": packageVersion("@dbos-inc/dbos-sdk"),
      effect: packageVersion("effect")
    },
    results,
    failures
  })
  // Written after every part, so that a run cut short keeps what it measured.
  const save = () => {
    const doc = document()
    writeFileSync(join(root, file), JSON.stringify(doc, null, 2) + "\n")
    // Only a run of every part replaces the page (a `bench:drain` while developing must not).
    if (selected.length === 0) writeReport(doc, file)
    return doc
  }
  try {
    for (const part of parts) {
      const partStarted = performance.now()
      log(`--- ${part}`)
      try {
        results[part] = await runPart(part, server)
      } catch (error) {
        failures[part] = error instanceof Error ? error.message : String(error)
        log(`${part} failed: ${failures[part]}`)
        killChildren()
      }
      log(`${part} took ${Math.round((performance.now() - partStarted) / 1000)} s`)
      save()
    }
  } finally {
    killChildren()
    await server.stop()
  }
  const final = save()
  log(
    selected.length === 0
      ? `wrote ${file} and docs/benchmarks.md`
      : `wrote ${file} (\`npm run bench:report ${file}\` renders it)`
  )
  console.log(summaryLines(final.results).join("\n"))
  if (Object.keys(failures).length > 0) process.exit(1)
}

const runPart = (part: Part, server: Awaited<ReturnType<typeof startServer>>): Promise<unknown> => {
  switch (part) {
    case "drain":
      return drain(server, {
        rounds: Number(process.env.BENCH_RUNS ?? (quick ? 3 : 5)),
        rows: Number(process.env.BENCH_ROWS ?? (quick ? 10_000 : 50_000)),
        defaultRows: quick ? 2_000 : 10_000,
        log
      })
    case "wake":
      return wake(server, { samples: quick ? 100 : 300, log })
    case "recovery":
      return recovery(server, { samples: quick ? 3 : 5, log })
    case "claim":
      return claim(server, { doneRows: 1_000_000, rows: quick ? 10_000 : 50_000, log })
    case "rss":
      return rss(server, { rows: quick ? 50_000 : 100_000, log })
    case "start":
      return start(server, { samples: quick ? 3 : 5, log })
    case "sagas":
      return sagas(server, {
        rounds: quick ? 2 : 3,
        orders: Number(process.env.BENCH_SAGA_ORDERS ?? (quick ? 100 : 500)),
        unloaded: quick ? 10 : 50,
        log
      })
  }
}

/** The console summary: the headline numbers and ratios. */
const summaryLines = (results: Record<string, unknown>): Array<string> => {
  const lines = ["", "=== summary (medians) ==="]
  const r = results as Record<
    string,
    {
      summary?: Record<string, unknown>
      medians?: Array<Record<string, unknown>>
      ratios?: Array<unknown>
      telemetry?: unknown
      telemetrySampled?: unknown
    }
  >
  if (r.drain?.medians) {
    for (const m of r.drain.medians) {
      lines.push(
        `drain ${m.system} ×${m.processes}: ${m.eventsPerSecond} ev/s, CPU ${m.workerCpuUsPerEvent} + ${m.postgresCpuUsPerEvent} µs/ev, ${m.statementsPer1000} stmts/1k`
      )
    }
    lines.push(`drain ratios: ${JSON.stringify(r.drain.ratios)}`)
    lines.push(
      `drain telemetry: ${JSON.stringify(r.drain.telemetry)}; sampled: ${JSON.stringify(r.drain.telemetrySampled)}`
    )
  }
  for (const part of ["wake", "recovery", "claim", "rss", "start", "sagas"]) {
    if (r[part]?.summary) lines.push(`${part}: ${JSON.stringify(r[part]!.summary)}`)
  }
  return lines
}

main().catch((error) => {
  console.error(error)
  killChildren()
  process.exit(1)
})

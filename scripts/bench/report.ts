/**
 * docs/benchmarks.md and its charts (docs/benchmarks/*.svg), generated from one results document.
 * `npm run bench` calls it after a full run; `npm run bench:report [bench/results/<file>.json]`
 * regenerates the page from a stored run (the newest by default).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { root } from "./Harness.ts"

/* eslint-disable @typescript-eslint/no-explicit-any -- the results document is plain JSON written by main.ts */
type Json = any

const fmt = (x: unknown, digits = 0): string =>
  typeof x === "number" && Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : "–"

// --- SVG ---------------------------------------------------------------------------------------

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const palette = ["#2563eb", "#dc2626", "#9ca3af", "#16a34a", "#9333ea"]

/** The shared canvas of every chart: 640×320, a bold title, a plot area left/top/bottom of the margins. */
const canvas = { width: 640, height: 320, left: 70, top: 40, bottom: 50 }
const plot = { h: canvas.height - canvas.top - canvas.bottom, w: canvas.width - canvas.left - 20 }
const titled = (title: string) => [
  `<text x="${canvas.width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`
]

/** Grouped bars: one group per category, one bar per series. */
export const barChart = (
  title: string,
  unit: string,
  categories: ReadonlyArray<string>,
  series: ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<number | null> }>
): string => {
  const { height, left, top, width } = canvas
  const { h: plotH, w: plotW } = plot
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0))) * 1.1
  const groupW = plotW / categories.length
  const barW = (groupW * 0.7) / series.length
  const parts = titled(title)
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    const y = top + plotH - (plotH * i) / 4
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`)
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`)
  }
  parts.push(
    `<text x="14" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 14 ${
      top + plotH / 2
    })" text-anchor="middle">${escape(unit)}</text>`
  )
  categories.forEach((category, c) => {
    const x0 = left + c * groupW + groupW * 0.15
    series.forEach((s, k) => {
      const v = s.values[c]
      if (v === null || v === undefined) return
      const h = (plotH * v) / max
      const x = x0 + k * barW
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${
          h.toFixed(1)
        }" fill="${palette[k % palette.length]}"/>`
      )
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${
          (top + plotH - h - 4).toFixed(1)
        }" text-anchor="middle" font-size="10">${fmt(v)}</text>`
      )
    })
    parts.push(
      `<text x="${(left + c * groupW + groupW / 2).toFixed(1)}" y="${
        top + plotH + 18
      }" text-anchor="middle" font-size="12">${escape(category)}</text>`
    )
  })
  series.forEach((s, k) => {
    const x = left + k * 170
    parts.push(`<rect x="${x}" y="${height - 18}" width="12" height="12" fill="${palette[k % palette.length]}"/>`)
    parts.push(`<text x="${x + 16}" y="${height - 8}" font-size="12">${escape(s.name)}</text>`)
  })
  return svg(width, height, parts)
}

/** Cumulative distributions (x: value, y: share of samples at or below it). */
export const cdfChart = (
  title: string,
  unit: string,
  series: ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<number> }>
) => {
  const { height, left, top, width } = canvas
  const { h: plotH, w: plotW } = plot
  const sortedAll = series.flatMap((s) => s.values).sort((a, b) => a - b)
  // The 99th percentile bounds the axis, so one outlier does not flatten the curves.
  const max = Math.max(1e-3, sortedAll[Math.floor(sortedAll.length * 0.99)] ?? 1) * 1.1
  const parts = titled(title)
  for (let i = 0; i <= 4; i++) {
    const x = left + (plotW * i) / 4
    const y = top + plotH - (plotH * i) / 4
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`)
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${i * 25}%</text>`)
    parts.push(
      `<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${fmt((max * i) / 4, 1)}</text>`
    )
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle" font-size="12">${escape(unit)}</text>`
  )
  series.forEach((s, k) => {
    const sorted = [...s.values].sort((a, b) => a - b)
    const points = sorted.map((v, i) => {
      const x = left + (plotW * Math.min(v, max)) / max
      const y = top + plotH - (plotH * (i + 1)) / sorted.length
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    parts.push(
      `<polyline fill="none" stroke="${palette[k % palette.length]}" stroke-width="2" points="${points.join(" ")}"/>`
    )
    const lx = left + k * 190
    parts.push(`<rect x="${lx}" y="${height - 14}" width="12" height="12" fill="${palette[k % palette.length]}"/>`)
    parts.push(`<text x="${lx + 16}" y="${height - 4}" font-size="12">${escape(s.name)}</text>`)
  })
  return svg(width, height, parts)
}

const svg = (width: number, height: number, parts: ReadonlyArray<string>) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
  `font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`

// --- the page ----------------------------------------------------------------------------------

const verdict = (ok: boolean | null) => ok === null ? "not measured" : ok ? "met" : "missed"

const targets = (r: Json): Array<[string, string, string]> => {
  const rows: Array<[string, string, string]> = []
  const d = r.drain
  if (d) {
    for (const ratio of d.ratios) {
      rows.push([
        `drain, ${ratio.processes} process(es) ≥ 1.0× graphile-worker tuned (aim 1.5×)`,
        `${fmt(ratio.throughputVsTuned, 2)}×`,
        verdict(ratio.throughputVsTuned === null ? null : ratio.throughputVsTuned >= 1)
      ])
      rows.push([
        `worker + Postgres CPU per event, ${ratio.processes} process(es), within 1.5× of graphile's`,
        `${fmt(ratio.cpuPerEventVsTuned, 2)}×`,
        verdict(ratio.cpuPerEventVsTuned === null ? null : ratio.cpuPerEventVsTuned <= 1.5)
      ])
    }
  }
  const w = r.wake?.summary
  if (w) {
    rows.push([
      "wake p50 ≤ graphile-worker's",
      `${fmt(w.ours.p50Ms, 2)} ms vs ${fmt(w.graphileTuned.p50Ms, 2)} ms (${fmt(w.p50Ratio, 2)}×)`,
      verdict(w.p50Ratio <= 1)
    ])
    rows.push(["wake p99 ≤ 6 ms", `${fmt(w.ours.p99Ms, 2)} ms`, verdict(w.ours.p99Ms <= 6)])
  }
  const rec = r.recovery?.summary
  if (rec) {
    rows.push([
      "recovery after SIGKILL ≤ 3 s",
      `${fmt(rec.medianSeconds, 2)} s median, ${fmt(rec.maxSeconds, 2)} s max`,
      verdict(rec.medianSeconds <= 3)
    ])
  }
  const c = r.claim?.summary
  if (c) {
    rows.push([
      "pruning cost independent of history (1k vs 1M done rows)",
      c.pruneMeanMs.small === null && c.pruneMeanMs.large === null
        ? "no prune statement ran during the drains"
        : `${fmt(c.pruneMeanMs.small, 2)} ms vs ${fmt(c.pruneMeanMs.large, 2)} ms per prune statement`,
      c.pruneMeanMs.large === null
        ? "not measured"
        : verdict(c.pruneMeanMs.large <= Math.max(1, 2 * (c.pruneMeanMs.small ?? 0)))
    ])
  }
  const s = r.sagas?.summary
  if (s) {
    rows.push([
      "≤ 2 orchestrator statements per saga step",
      `${fmt(s.ours.statementsPerStep, 2)}`,
      verdict(s.ours.statementsPerStep === null ? null : s.ours.statementsPerStep <= 2)
    ])
    rows.push([
      "saga throughput ≥ 1.3× DBOS Transact (50 ms poll)",
      `${fmt(s.oursVsDbos, 2)}×`,
      verdict(s.oursVsDbos === null ? null : s.oursVsDbos >= 1.3)
    ])
    rows.push([
      "saga throughput ≥ 0.8× bare calls",
      `${fmt(s.oursVsBare, 2)}×`,
      verdict(s.oursVsBare === null ? null : s.oursVsBare >= 0.8)
    ])
  }
  const st = r.start?.summary
  if (st) {
    rows.push([
      "replica start < 0.5 s (production build)",
      `${fmt(st.production.startMs)} ms (tsx: ${fmt(st.tsx.startMs)} ms)`,
      verdict(st.production.startMs < 500)
    ])
    rows.push([
      "idle RSS < 120 MB (production build)",
      `${fmt(st.production.idleRssMb, 1)} MB (tsx: ${fmt(st.tsx.idleRssMb, 1)} MB)`,
      verdict(st.production.idleRssMb < 120)
    ])
  }
  return rows
}

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)]
    .join("\n")

export const renderReport = (doc: Json, file: string): { markdown: string; charts: Record<string, string> } => {
  const r = doc.results
  const charts: Record<string, string> = {}
  const out: Array<string> = []
  out.push("# Benchmarks")
  out.push("")
  out.push(
    `<!-- Generated by \`npm run bench\` from ${file}; regenerate with \`npm run bench:report\`, do not edit by hand. -->`
  )
  out.push("")
  if (doc.label) out.push(`**${doc.label}**`, "")
  out.push(
    `Run of commit \`${doc.commit}\`${doc.dirty ? " (with uncommitted changes)" : ""} at ${doc.startedAt}, ` +
      `${doc.quick ? "quick mode" : "full mode"}, ${doc.seconds} s, parts: ${
        doc.parts.join(", ")
      }. Raw numbers: \`${file}\`.`
  )
  out.push("")
  out.push(
    "`npm run bench` runs every part; `npm run bench -- --quick drain wake` runs some, with fewer rounds and rows;"
  )
  out.push("`npm run bench:drain` is the drain part alone. Everything runs against one Postgres server (embedded, with")
  out.push(
    "`pg_stat_statements` and `track_commit_timestamp` on, unless `DATABASE_URL` names one); each system has its own"
  )
  out.push(
    "database on it, and rounds alternate between the systems so that drift on a shared machine hits all of them."
  )
  out.push("")
  out.push("## Machine")
  out.push("")
  const m = doc.machine
  out.push(table(["nproc", "CPU", "memory", "load average at start / end", "Node", "Postgres"], [[
    String(m.nproc),
    m.cpu,
    `${m.memoryGb} GB`,
    `${(m.loadAverage?.start ?? []).map((x: number) => x.toFixed(1)).join(" ")} / ${
      (m.loadAverage?.end ?? []).map((x: number) => x.toFixed(1)).join(" ")
    }`,
    m.node,
    `${m.postgres}${m.postgresEmbedded ? " (embedded)" : ""}`
  ]]))
  out.push("")
  out.push(
    `Peers: graphile-worker ${doc.versions["graphile-worker"]}, DBOS Transact (@dbos-inc/dbos-sdk) ${
      doc.versions["@dbos-inc/dbos-sdk"]
    }; effect ${doc.versions.effect}.`
  )
  out.push("A load average far above nproc means other work shared the cores: absolute numbers then say little, the")
  out.push("ratios between interleaved systems more.")
  out.push("")
  out.push("## Targets (issue 11)")
  out.push("")
  out.push(table(["target", "measured", ""], targets(r)))
  out.push("")
  if (r.drain) {
    const d = r.drain
    out.push("## Drain")
    out.push("")
    out.push(
      `${fmt(d.settings.rows)} no-op events inserted in one statement (graphile-worker's defaults: ${
        fmt(d.settings.defaultRows)
      }), ` +
        `timed from the insert to the last one done; ${d.settings.rounds} interleaved rounds, medians. Ours: the production build ` +
        "of the orchestrator with default settings (its Ping handler). graphile-worker tuned: `concurrentJobs: 16`, " +
        "`localQueue: { size: 500 }`, `completeJobBatchDelay: 0`, `failJobBatchDelay: 0`; default: concurrency 1, no local queue, no batching. " +
        "CPU: the worker processes' user+system time (/proc), Postgres: every server process's (the postmaster, with reaped " +
        "backends, and its live children). Statements: pg_stat_statements calls of the workers' login (top level, utility included)."
    )
    out.push("")
    out.push(table(
      [
        "system",
        "processes",
        "events/s",
        "worker CPU µs/event",
        "Postgres CPU µs/event",
        "statements / 1,000 events",
        "peak RSS MB"
      ],
      d.medians.map((
        x: Json
      ) => [
        x.system,
        String(x.processes),
        fmt(x.eventsPerSecond),
        fmt(x.workerCpuUsPerEvent, 1),
        fmt(x.postgresCpuUsPerEvent, 1),
        fmt(x.statementsPer1000, 1),
        fmt(x.peakRssMb, 1)
      ])
    ))
    out.push("")
    out.push(table(
      [
        "processes",
        "ours / graphile tuned",
        "ours / graphile default",
        "CPU per event, ours / tuned",
        "statements, ours / tuned"
      ],
      d.ratios.map((
        x: Json
      ) => [
        String(x.processes),
        `${fmt(x.throughputVsTuned, 2)}×`,
        `${fmt(x.throughputVsDefault, 2)}×`,
        `${fmt(x.cpuPerEventVsTuned, 2)}×`,
        `${fmt(x.statementsVsTuned, 2)}×`
      ])
    ))
    out.push("")
    if (d.telemetry) {
      const t = d.telemetry
      out.push(
        `Telemetry on (\`ours-telemetry\`: traces, metrics and logs over OTLP/HTTP to a loopback receiver, SDK defaults), ` +
          `1 process: ${fmt(t.eventsPerSecondOn)} events/s against ${fmt(t.eventsPerSecondOff)} off, ` +
          `${fmt(t.throughputOnVsOff, 2)}× (worker CPU ${fmt(t.workerCpuUsPerEventOn, 1)} against ${
            fmt(t.workerCpuUsPerEventOff, 1)
          } µs/event).`
      )
      out.push("")
    }
    const systems = ["ours", "graphile-tuned", "graphile-default"]
    charts["drain.svg"] = barChart(
      "Drain throughput by process count (medians)",
      "events/s",
      ["1 process", "2 processes"],
      systems.map((system) => ({
        name: system,
        values: [1, 2].map((p) =>
          d.medians.find((x: Json) => x.system === system && x.processes === p)?.eventsPerSecond ?? null
        )
      }))
    )
    out.push("![drain throughput](benchmarks/drain.svg)")
    out.push("")
  }
  if (r.wake) {
    const w = r.wake.summary
    out.push("## Wake latency")
    out.push("")
    out.push(
      `One event at a time into an idle worker, ${w.ours.samples} samples each, alternating: from the producer's commit ` +
        `(${w.from}, server clock) to the handler's first statement (its clock_timestamp()). Ours: one replica of the worker's ` +
        "test process (services/orchestrator/test/fixtures/test-worker.ts, default settings, `Record` handler), compiled like the " +
        "production build; graphile-worker tuned, a `record` task."
    )
    out.push("")
    out.push(table(["system", "p50 ms", "p90 ms", "p99 ms", "max ms"], [
      ["ours", fmt(w.ours.p50Ms, 2), fmt(w.ours.p90Ms, 2), fmt(w.ours.p99Ms, 2), fmt(w.ours.maxMs, 2)],
      [
        "graphile-worker tuned",
        fmt(w.graphileTuned.p50Ms, 2),
        fmt(w.graphileTuned.p90Ms, 2),
        fmt(w.graphileTuned.p99Ms, 2),
        fmt(w.graphileTuned.maxMs, 2)
      ]
    ]))
    out.push("")
    charts["wake.svg"] = cdfChart("Wake latency, commit → handler's first statement", "ms", [
      { name: "ours", values: r.wake.samplesMs.ours },
      { name: "graphile-worker tuned", values: r.wake.samplesMs.graphileTuned }
    ])
    out.push("![wake latency distribution](benchmarks/wake.svg)")
    out.push("")
  }
  if (r.recovery) {
    out.push("## Recovery after SIGKILL")
    out.push("")
    out.push(
      "Two replicas (defaults); an event whose first attempt hangs starts on one, which is SIGKILLed; measured from the kill to " +
        `the other replica's handler start (server clock). Samples: ${
          r.recovery.seconds.map((s: number) => `${fmt(s, 2)} s`).join(", ")
        }; ` +
        `median ${fmt(r.recovery.summary.medianSeconds, 2)} s. graphile-worker: ${r.recovery.summary.graphileWorker}.`
    )
    out.push("")
  }
  if (r.claim) {
    const c = r.claim
    out.push("## Claim cost against history")
    out.push("")
    out.push(
      `Drain of ${
        fmt(c.settings.rows)
      } events (1 replica, defaults, 2 runs each) with 1,000 done rows in the outbox and with ` +
        `${fmt(c.settings.doneRows)}, after ANALYZE.`
    )
    out.push("")
    out.push(table(["done rows", "events/s", "claim statement mean ms", "prune statement mean ms"], [
      ["1,000", fmt(c.small.eventsPerSecond), fmt(c.small.claimMeanMs, 3), fmt(c.small.pruneMeanMs, 3)],
      [fmt(c.settings.doneRows), fmt(c.large.eventsPerSecond), fmt(c.large.claimMeanMs, 3), fmt(c.large.pruneMeanMs, 3)]
    ]))
    out.push("")
    out.push(
      `Drain ratio (large / small): ${fmt(c.summary.drainRatio, 2)}; claim ratio: ${fmt(c.summary.claimRatio, 2)}.`
    )
    out.push("")
  }
  if (r.rss) {
    const s = r.rss.summary
    out.push("## Memory over a long drain")
    out.push("")
    out.push(`One process drains ${fmt(r.rss.settings.rows)} no-op events; RSS sampled every 100 ms.`)
    out.push("")
    out.push(table(["system", "idle before MB", "median during MB", "peak MB", "idle after MB"], [
      ["ours", fmt(s.ours.idleMb, 1), fmt(s.ours.medianDuringMb, 1), fmt(s.ours.peakMb, 1), fmt(s.ours.afterMb, 1)],
      [
        "graphile-worker tuned",
        fmt(s.graphileTuned.idleMb, 1),
        fmt(s.graphileTuned.medianDuringMb, 1),
        fmt(s.graphileTuned.peakMb, 1),
        fmt(s.graphileTuned.afterMb, 1)
      ]
    ]))
    out.push("")
  }
  if (r.start) {
    const s = r.start.summary
    out.push("## Production build: replica start and idle memory")
    out.push("")
    out.push(
      "`npm run build` compiles each entrypoint with esbuild into dist/ (the Dockerfile and docker-compose.yml run those files with " +
        "plain `node`). Start = process spawn → the replica's first worker_heartbeats row; idle RSS 3 s later; medians of " +
        `${r.start.settings.samples} interleaved samples.`
    )
    out.push("")
    out.push(table(["how", "start ms", "idle RSS MB"], [
      [
        "production build (`node dist/services/orchestrator/main.js`)",
        fmt(s.production.startMs),
        fmt(s.production.idleRssMb, 1)
      ],
      [
        "tsx (`node --import tsx services/orchestrator/src/main.ts`, as `npm start`)",
        fmt(s.tsx.startMs),
        fmt(s.tsx.idleRssMb, 1)
      ]
    ]))
    out.push("")
  }
  if (r.sagas) {
    const s = r.sagas.summary
    const st = r.sagas.settings
    out.push("## Sagas end to end")
    out.push("")
    out.push(
      `The real services (production build, one process each) on the same Postgres. Per round ${
        fmt(st.orders)
      } checkouts are ` +
        "placed through the edge API while no saga runner is up; then one system runs all the OrderPlaced sagas (a burst); " +
        `${st.rounds} interleaved rounds, medians. Ours: one orchestrator replica with defaults (events released in one statement ` +
        "after it started). DBOS Transact: a workflow with one step per call (+ the ledger update as a step), on a queue with " +
        `concurrency ${st.concurrency} and a ${st.dbosPollMs} ms polling interval. Bare calls: the same four HTTP calls at the ` +
        "same concurrency with no persistence. Unloaded latency: one saga at a time " +
        `(${
          fmt(st.unloaded)
        }); ours from the outbox row's commit to the saga's last write, DBOS from enqueue to its last step.`
    )
    out.push("")
    const row = (
      name: string,
      x: Json
    ) => [
      name,
      fmt(x.sagasPerSecond, 1),
      fmt(x.runnerCpuMsPerSaga, 2),
      fmt(x.postgresCpuMsPerSaga, 2),
      fmt(x.servicesCpuMsPerSaga, 2),
      fmt(x.statementsPerSaga, 1),
      fmt(x.statementsPerStep, 2),
      fmt(x.unloadedP50Ms, 1),
      fmt(x.unloadedP99Ms, 1)
    ]
    out.push(table(
      [
        "system",
        "sagas/s",
        "runner CPU ms/saga",
        "Postgres CPU ms/saga",
        "services CPU ms/saga",
        "statements/saga",
        "statements/step",
        "unloaded p50 ms",
        "unloaded p99 ms"
      ],
      [row("ours", s.ours), row(`DBOS Transact (${st.dbosPollMs} ms poll)`, s.dbos), row("bare calls", s.bare)]
    ))
    out.push("")
    out.push(
      `Ours / DBOS: ${fmt(s.oursVsDbos, 2)}×; ours / bare calls: ${
        fmt(s.oursVsBare, 2)
      }×. Statements per step divide by the saga's ${st.sagaSteps} units (authorization, createOrder, reserveStock, capturePayment, confirmOrder); DBOS's count both its system database and the ledger update.`
    )
    out.push("")
    charts["sagas.svg"] = barChart("Saga throughput, burst of checkouts (medians)", "sagas/s", ["sagas/s"], [
      { name: "ours", values: [s.ours.sagasPerSecond] },
      { name: `DBOS (${st.dbosPollMs} ms poll)`, values: [s.dbos.sagasPerSecond] },
      { name: "bare calls", values: [s.bare.sagasPerSecond] }
    ])
    out.push("![saga throughput](benchmarks/sagas.svg)")
    out.push("")
  }
  if (Object.keys(doc.failures ?? {}).length > 0) {
    out.push("## Parts that failed in this run")
    out.push("")
    for (const [part, message] of Object.entries(doc.failures)) out.push(`- ${part}: ${String(message).split("\n")[0]}`)
    out.push("")
  }
  return { markdown: out.join("\n"), charts }
}

export const writeReport = (doc: Json, file: string) => {
  const { charts, markdown } = renderReport(doc, file)
  mkdirSync(join(root, "docs", "benchmarks"), { recursive: true })
  for (const [name, content] of Object.entries(charts)) writeFileSync(join(root, "docs", "benchmarks", name), content)
  writeFileSync(join(root, "docs", "benchmarks.md"), markdown)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const given = process.argv[2]
  const file = given ??
    join(
      "bench",
      "results",
      readdirSync(join(root, "bench", "results")).filter((f) => f.endsWith(".json")).sort().at(-1)!
    )
  writeReport(JSON.parse(readFileSync(join(root, file), "utf8")), file)
  console.log(`wrote docs/benchmarks.md from ${file}`)
}

import { cdfChart } from "./Charts.ts"
import { fmt, type Json, table } from "./Format.ts"

/** Wake latency from commit to the handler, with its distribution chart. */
export const wakeSection = (r: Json, out: Array<string>, charts: Record<string, string>) => {
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

/** Time from a replica's SIGKILL to the other replica's handler start. */
export const recoverySection = (r: Json, out: Array<string>) => {
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

/** Claim and prune cost with a small and a large done history. */
export const claimSection = (r: Json, out: Array<string>) => {
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
  if (c.prune) prunePassTable(c, out)
}

/** One pass of the done-row pruner at each history size (scripts/bench/parts/prune.ts). */
const prunePassTable = (c: Json, out: Array<string>) => {
  const p = c.summary.prunePass
  out.push(
    `Pruning: one pass of the done-row pruner (\`OutboxRepo.pruneDone\` repeated while a batch of 500 comes back ` +
      `full, as \`makePruner\` runs it every minute), timed before the small drain and after the large one, ${
        fmt(c.settings.pruneSamples)
      } passes per case, medians. ` +
      "Idle: every done row is inside the retention window (the usual state), nothing is deleted. Expiring: 500 rows " +
      "just past the window were added before each pass, which deletes them. Statement mean and blocks (shared " +
      "buffers hit or read per call) are pg_stat_statements' for the pruner's statement over the case's passes."
  )
  out.push("")
  const row = (at: Json) => [
    fmt(at.doneRows),
    fmt(at.idle.passMs, 2),
    fmt(at.idle.statementMeanMs, 3),
    fmt(at.idle.blocksPerCall, 1),
    fmt(at.expiring.passMs, 2),
    fmt(at.expiring.statementMeanMs, 3),
    fmt(at.expiring.blocksPerCall, 1)
  ]
  out.push(table([
    "done rows",
    "idle pass ms",
    "statement mean ms",
    "blocks / call",
    "expiring pass ms",
    "statement mean ms",
    "blocks / call"
  ], [row(c.prune.small), row(c.prune.large)]))
  out.push("")
  out.push(
    `Prune pass ratio (large / small): idle ${fmt(p.idleRatio, 2)}, expiring ${fmt(p.expiringRatio, 2)}.`
  )
  out.push("")
}

/** RSS over a long drain. */
export const rssSection = (r: Json, out: Array<string>) => {
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

/** Production build against tsx: replica start and idle memory. */
export const startSection = (r: Json, out: Array<string>) => {
  const s = r.start.summary
  out.push("## Production build: replica start and idle memory")
  out.push("")
  out.push(
    "`npm run build` compiles each entrypoint with esbuild into dist/ (the Dockerfile and docker-compose.yml run those files with " +
      "plain `node`; the orchestrator's bundle runs from V8's code cache, which the build writes). Start = process spawn → the " +
      "replica's first worker_heartbeats row (written after deploy safety and the first sweeps, just before it claims); idle RSS " +
      `3 s later; medians of ${r.start.settings.samples} interleaved samples. Where the time goes: engineering-design.md §3.10.`
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

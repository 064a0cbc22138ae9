import { fmt, type Json } from "./Format.ts"

const verdict = (ok: boolean | null) => ok === null ? "not measured" : ok ? "met" : "missed"

/**
 * A prune pass at 1M done rows against one at 1k, idle and expiring: independent of history when
 * the large pass takes at most twice the small one (or 1 ms more, for passes of a millisecond).
 */
const pruneTarget = (p: Json): [string, string, string] => {
  const flat = (small: number | null, large: number | null) =>
    small === null || large === null ? null : large <= Math.max(2 * small, small + 1)
  const idle = flat(p.idleMs.small, p.idleMs.large)
  const expiring = flat(p.expiringMs.small, p.expiringMs.large)
  return [
    `pruning cost independent of history (${fmt(p.doneRows.small)} vs ${fmt(p.doneRows.large)} done rows)`,
    `one pass: idle ${fmt(p.idleMs.small, 2)} vs ${fmt(p.idleMs.large, 2)} ms (${fmt(p.idleRatio, 2)}×), ` +
    `deleting 500 ${fmt(p.expiringMs.small, 2)} vs ${fmt(p.expiringMs.large, 2)} ms (${fmt(p.expiringRatio, 2)}×)`,
    verdict(idle === null || expiring === null ? null : idle && expiring)
  ]
}

/**
 * The issue-11 targets, one row each: what was aimed at, what was measured, met or missed. Just
 * over 80 lines only because it is a flat list of such rows, one short block per target.
 */
export const targets = (r: Json): Array<[string, string, string]> => {
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
  if (c?.prunePass) {
    rows.push(pruneTarget(c.prunePass))
  } else if (c) {
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

/** CPU and RSS of processes, read from /proc. */
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100

/** The fields of /proc/<pid>/stat after the command name (Postgres.ts reads the postmaster from them). */
export const statFields = (pid: number): Array<string> | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may hold spaces; everything after its closing parenthesis is fixed.
    return text.slice(text.lastIndexOf(")") + 2).split(" ")
  } catch {
    return undefined
  }
}

/** User + system CPU of one process, in ms (0 once it is gone). */
export const processCpuMs = (pid: number): number => {
  const f = statFields(pid)
  return f ? ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks : 0
}

/** Resident set size of one process, in MB. */
export const rssMb = (pid: number): number => {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match ? Number(match[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/**
 * CPU of the whole Postgres server: the postmaster (with its reaped children's time, cutime +
 * cstime, so backends that exited still count) plus every live child: backends, WAL writer,
 * checkpointer, autovacuum. It includes the harness's own polling backend (the same for every system).
 */
export const postgresCpuMs = (postmaster: number | undefined): number => {
  if (postmaster === undefined) return NaN
  const own = statFields(postmaster)
  if (!own) {
    console.error(`Postgres's postmaster (pid ${postmaster}) is gone: no Postgres CPU`)
    return NaN
  }
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const f = statFields(Number(entry))
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12])
  }
  return (ticks * 1000) / clockTicks
}

/**
 * Replica start: process spawn → its first worker_heartbeats row, for the production build
 * (`node dist/services/orchestrator/main.js`) and for tsx (`node --import tsx .../src/main.ts`,
 * what `npm start` runs), interleaved; idle RSS 3 s after the heartbeat.
 */
import {
  awaitHeartbeat,
  connect,
  freshDatabase,
  launch,
  median,
  ourEntry,
  round,
  rssMb,
  runOnce,
  type Server,
  sleep
} from "../Harness.ts"

export interface StartOptions {
  readonly samples: number
  readonly log: (line: string) => void
}

const variants = {
  production: [ourEntry.orchestrator],
  tsx: ["--import", "tsx", "services/orchestrator/src/main.ts"]
} as const

export const start = async (server: Server, options: StartOptions) => {
  const database = "bench_start"
  await freshDatabase(server, database)
  await runOnce(ourEntry.migrate, { DATABASE_URL: server.url(database) })
  const harness = await connect(server.harnessUrl(database))
  const samples: Record<keyof typeof variants, Array<{ startMs: number; idleRssMb: number }>> = {
    production: [],
    tsx: []
  }
  let seq = 0
  try {
    for (let sample = 1; sample <= options.samples; sample++) {
      for (const variant of Object.keys(variants) as Array<keyof typeof variants>) {
        const id = `start-${++seq}`
        const child = launch([...variants[variant]], {
          DATABASE_URL: server.url(database),
          LOG_LEVEL: "Warn",
          WORKER_ID: id
        }, id)
        await awaitHeartbeat(harness, [id])
        const startMs = performance.now() - child.spawnedAt
        await sleep(3000)
        const idleRssMb = rssMb(child.pid)
        await child.stop()
        samples[variant].push({ startMs: round(startMs)!, idleRssMb: round(idleRssMb, 1)! })
        options.log(`start ${variant}: ${Math.round(startMs)} ms, idle RSS ${idleRssMb.toFixed(1)} MB`)
      }
    }
  } finally {
    await harness.end()
  }
  const summarize = (xs: ReadonlyArray<{ startMs: number; idleRssMb: number }>) => ({
    startMs: round(median(xs.map((x) => x.startMs))),
    idleRssMb: round(median(xs.map((x) => x.idleRssMb)), 1)
  })
  const summary = { production: summarize(samples.production), tsx: summarize(samples.tsx) }
  return { settings: { samples: options.samples }, summary, samples }
}

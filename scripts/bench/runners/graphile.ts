/**
 * One graphile-worker process for the benchmark (the peer). Settings from BENCH_GW_* (the harness
 * sets them): concurrency, local queue size (0 = off, graphile's default), batch delays (-1 = off,
 * graphile's default). Prints "ready" once its LISTEN connection is up.
 * Tasks: `noop`; `record` inserts its mark and the server clock into wake_calls, as its first statement.
 */
import { Logger, run } from "graphile-worker"
import { EventEmitter } from "node:events"

const numberFrom = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const concurrency = numberFrom("BENCH_GW_CONCURRENCY", 1)
const localQueue = numberFrom("BENCH_GW_LOCAL_QUEUE", 0)
const batchDelay = numberFrom("BENCH_GW_BATCH_DELAY", -1)

const events = new EventEmitter()
let ready = false
events.on("pool:listen:success", () => {
  if (!ready) console.log("ready")
  ready = true
})

const runner = await run({
  events,
  noHandleSignals: false,
  preset: {
    worker: {
      connectionString: process.env.DATABASE_URL!,
      concurrentJobs: concurrency,
      maxPoolSize: Math.max(10, concurrency + 2),
      ...(localQueue > 0 ? { localQueue: { size: localQueue } } : {}),
      ...(batchDelay >= 0 ? { completeJobBatchDelay: batchDelay, failJobBatchDelay: batchDelay } : {})
    }
  },
  // Errors only: its per-job info lines would cost it CPU that ours does not spend (LOG_LEVEL=Warn).
  logger: new Logger(() => (level, message) => {
    if (level === "error") console.error(message)
  }),
  taskList: {
    noop: async () => {},
    record: async (payload, helpers) => {
      await helpers.query("insert into wake_calls (mark, at) values ($1, clock_timestamp())", [
        (payload as { mark: number }).mark
      ])
    }
  }
})
await runner.promise

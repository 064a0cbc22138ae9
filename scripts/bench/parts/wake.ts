/**
 * Wake latency of an idle worker: the harness commits one event at a time (and, in the same
 * transaction, a row in wake_marks); the handler's first statement records clock_timestamp().
 * Latency = that time − the transaction's commit timestamp (track_commit_timestamp, server clock),
 * or − clock_timestamp() taken just before the commit when the server does not track commits.
 * Ours: one replica of the worker's test process (its `Record` handler) with default settings;
 * graphile-worker: one tuned process (its `record` task). Samples alternate between the two, one
 * event in flight at a time, 30–70 ms apart, so each system is idle when woken.
 */
import {
  awaitHeartbeat,
  compile,
  connect,
  createTestCalls,
  freshDatabase,
  launch,
  ourEntry,
  quantile,
  round,
  runOnce,
  type Server,
  sleep,
  testWorkerEntry
} from "../Harness.ts"
import { graphileSettings } from "./drain.ts"

export interface WakeOptions {
  readonly samples: number
  readonly log: (line: string) => void
}

const marks = `
  create table if not exists wake_marks (
    mark bigint primary key, before_commit timestamptz not null default clock_timestamp());
  create table if not exists wake_calls (mark bigint not null, at timestamptz not null)`

const distribution = (xs: ReadonlyArray<number>) => ({
  samples: xs.length,
  p50Ms: round(quantile(xs, 0.5), 2),
  p90Ms: round(quantile(xs, 0.9), 2),
  p99Ms: round(quantile(xs, 0.99), 2),
  maxMs: round(quantile(xs, 1), 2)
})

export const wake = async (server: Server, options: WakeOptions) => {
  await freshDatabase(server, "bench_wake_ours")
  await runOnce(ourEntry.migrate, { DATABASE_URL: server.url("bench_wake_ours") })
  await freshDatabase(server, "bench_wake_graphile")
  const ours = await connect(server.harnessUrl("bench_wake_ours"))
  const peer = await connect(server.harnessUrl("bench_wake_graphile"))
  await createTestCalls(server.harnessUrl("bench_wake_ours"))
  await ours.query(marks)
  await peer.query(marks)
  const testWorker = await compile(testWorkerEntry)
  const graphileRunner = await compile("scripts/bench/runners/graphile.ts")
  const ourWorker = launch([testWorker], {
    DATABASE_URL: server.url("bench_wake_ours"),
    LOG_LEVEL: "Warn",
    WORKER_ID: "wake-1"
  }, "test-worker")
  const peerWorker = launch(
    [graphileRunner],
    { DATABASE_URL: server.url("bench_wake_graphile"), ...graphileSettings["graphile-tuned"] },
    "graphile-worker"
  )
  try {
    await awaitHeartbeat(ours, ["wake-1"])
    await peerWorker.line(/^ready$/)
    await sleep(1000)
    for (let mark = 1; mark <= options.samples; mark++) {
      await ours.query("begin")
      await ours.query("insert into wake_marks (mark) values ($1)", [mark])
      await ours.query(
        `insert into outbox (aggregate_type, aggregate_id, event_type, payload)
         values ('bench', 'wake-' || $1::text, 'Record', jsonb_build_object('mark', $1::bigint))`,
        [mark]
      )
      await ours.query("commit")
      await sleep(30 + Math.random() * 40)
      await peer.query("begin")
      await peer.query("insert into wake_marks (mark) values ($1)", [mark])
      await peer.query("select graphile_worker.add_job('record', json_build_object('mark', $1::bigint))", [mark])
      await peer.query("commit")
      await sleep(30 + Math.random() * 40)
    }
    await sleep(1000)
    const start = server.commitTimestamps ? "pg_xact_commit_timestamp(m.xmin)" : "m.before_commit"
    const oursMs = (await ours.query<{ ms: number }>(
      `select extract(epoch from (c.at - ${start})) * 1000 as ms
       from test_calls c join outbox o on o.id = c.outbox_id join wake_marks m on m.mark = (o.payload->>'mark')::bigint
       where c.attempt = 1`
    )).rows.map((r) => Number(r.ms))
    const peerMs = (await peer.query<{ ms: number }>(
      `select extract(epoch from (c.at - ${start})) * 1000 as ms from wake_calls c join wake_marks m using (mark)`
    )).rows.map((r) => Number(r.ms))
    const summary = {
      from: server.commitTimestamps ? "commit timestamp" : "clock before commit",
      ours: distribution(oursMs),
      graphileTuned: distribution(peerMs),
      p50Ratio: round(quantile(oursMs, 0.5) / quantile(peerMs, 0.5), 2),
      p99Ratio: round(quantile(oursMs, 0.99) / quantile(peerMs, 0.99), 2)
    }
    options.log(`wake: ours ${JSON.stringify(summary.ours)}; graphile ${JSON.stringify(summary.graphileTuned)}`)
    return { settings: { samples: options.samples }, summary, samplesMs: { ours: oursMs, graphileTuned: peerMs } }
  } finally {
    await Promise.all([ourWorker.stop(), peerWorker.stop()])
    await ours.end()
    await peer.end()
  }
}

/**
 * Recovery: two replicas of the worker's test process with default settings; an event whose first
 * attempt hangs (the fixture's `Sleep` handler) starts on one, which the harness then SIGKILLs.
 * Recovery = the other replica's handler start (server clock) − the kill (server clock, read right
 * after kill()). The killed replica is restarted before the next sample.
 * graphile-worker is not measured: it has no heartbeat, and a crashed worker's jobs stay locked
 * until its 4-hour lock timeout.
 */
import {
  awaitHeartbeat,
  type Child,
  compile,
  connect,
  createTestCalls,
  freshDatabase,
  launch,
  median,
  ourEntry,
  round,
  runOnce,
  type Server,
  testWorkerEntry,
  waitFor
} from "../Harness.ts"

export interface RecoveryOptions {
  readonly samples: number
  readonly log: (line: string) => void
}

export const recovery = async (server: Server, options: RecoveryOptions) => {
  const database = "bench_recovery"
  await freshDatabase(server, database)
  await runOnce(ourEntry.migrate, { DATABASE_URL: server.url(database) })
  const harness = await connect(server.harnessUrl(database))
  await createTestCalls(server.harnessUrl(database))
  const testWorker = await compile(testWorkerEntry)
  let seq = 0
  const replicas = new Map<string, Child>()
  const startReplica = async () => {
    const id = `recovery-${++seq}`
    replicas.set(id, launch([testWorker], { DATABASE_URL: server.url(database), LOG_LEVEL: "Warn", WORKER_ID: id }, id))
    await awaitHeartbeat(harness, [id])
    return id
  }
  const seconds: Array<number> = []
  try {
    await Promise.all([startReplica(), startReplica()])
    for (let sample = 1; sample <= options.samples; sample++) {
      const inserted = await harness.query<{ id: string }>(
        `insert into outbox (aggregate_type, aggregate_id, event_type, payload)
         values ('bench', 'recovery-' || $1::text, 'Sleep', '{"ms": [600000]}') returning id`,
        [sample]
      )
      const outboxId = inserted.rows[0]!.id
      const first = async () =>
        (await harness.query<{ worker_id: string }>(
          "select worker_id from test_calls where outbox_id = $1 and attempt = 1",
          [outboxId]
        ))
          .rows[0]?.worker_id
      await waitFor("the first attempt", async () => (await first()) !== undefined, 30_000)
      const owner = (await first())!
      const victim = replicas.get(owner)!
      victim.process.kill("SIGKILL")
      const killedAt = (await harness.query<{ at: Date }>("select clock_timestamp() as at")).rows[0]!.at
      replicas.delete(owner)
      await waitFor(
        "another replica to start the event",
        async () =>
          Number(
            (await harness.query("select count(*) from test_calls where outbox_id = $1 and attempt = 2", [outboxId]))
              .rows[0].count
          ) > 0,
        120_000,
        20
      )
      const resumedAt =
        (await harness.query<{ at: Date }>("select at from test_calls where outbox_id = $1 and attempt = 2", [
          outboxId
        ]))
          .rows[0]!.at
      const s = (resumedAt.getTime() - killedAt.getTime()) / 1000
      seconds.push(s)
      options.log(`recovery sample ${sample}: ${s.toFixed(2)} s`)
      await victim.stop()
      await startReplica()
    }
  } finally {
    await Promise.all([...replicas.values()].map((r) => r.stop()))
    await harness.end()
  }
  const summary = {
    medianSeconds: round(median(seconds), 2),
    maxSeconds: round(Math.max(...seconds), 2),
    graphileWorker: "not measured: a crashed worker's jobs stay locked until graphile-worker's 4 h lock timeout"
  }
  return { settings: { samples: options.samples }, summary, seconds }
}

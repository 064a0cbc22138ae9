import { DatabaseConfig } from "@ecommerce/db"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Cause, Chunk, Clock, Duration, Effect, Exit, Fiber, FiberSet, Layer, Option, Queue, Random, Schedule } from "effect"
import { makeReplicaRegistry } from "../replicas/ReplicaRegistry.ts"
import { WorkerConfig } from "../WorkerConfig.ts"
import { retryDelayMs } from "./Backoff.ts"
import { EventHandlers, type OutboxEvent } from "./EventHandler.ts"
import { runListener } from "./Listener.ts"
import { type ClaimedRow, type Completion, makeOutboxRepo } from "./OutboxRepo.ts"

interface Running {
  readonly row: ClaimedRow
  readonly startedAt: number
  fiber: Fiber.RuntimeFiber<void> | undefined
}

/** Backoff for writing completions while Postgres is unavailable: 100 ms doubling to 5 s. */
const completionWriteRetry = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered
)

const toEvent = (row: ClaimedRow): OutboxEvent => ({
  id: row.id,
  eventId: row.event_id,
  aggregateType: row.aggregate_type,
  aggregateId: row.aggregate_id,
  eventType: row.event_type,
  payload: row.payload,
  headers: typeof row.headers === "object" && row.headers !== null ? (row.headers as Record<string, unknown>) : {},
  attempt: row.attempts,
  createdAt: row.created_at
})

const firstLine = (text: string) => text.split("\n")[0] ?? text

/**
 * A time limit that works inside a finalizer. Finalizers run uninterruptibly, and a timeout works
 * by interrupting the effect it limits: without `interruptible` the limit would wait forever.
 */
const boundedInFinalizer = (duration: Duration.DurationInput) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.timeout(Effect.interruptible(self), duration)

/**
 * One replica's outbox loop. Fibers, all in this scope:
 * - fetcher: waits for a wake-up (NOTIFY, poll tick, freed capacity, retry timer), then claims
 *   batches sized to free capacity until a claim comes back short. Wake-ups go through a
 *   one-slot dropping queue, so any burst of notifications collapses into one pending wake-up.
 * - handlers: one fiber per claimed row; each ends by queueing a Completion.
 * - flusher: writes all queued completions in one guarded statement per batch.
 * - heartbeat: every LEASE_MS / 3, stops handlers past HANDLER_TIMEOUT_MS (a retryable failure),
 *   extends the leases of the others, interrupts any whose lease was lost; touches worker_heartbeats.
 * - reaper: returns rows with expired leases (crashed replicas) to the queue.
 * - poller and listener: produce wake-ups.
 * Shutdown (scope close) stops claiming, drains for SHUTDOWN_GRACE_MS, then releases the rest.
 */
export const runWorker = Effect.gen(function*() {
  const config = yield* WorkerConfig
  const db = yield* DatabaseConfig
  const sql = yield* SqlClient.SqlClient
  const handlers = yield* EventHandlers
  const repo = makeOutboxRepo(sql, { workerId: config.workerId, leaseMs: config.leaseMs })
  const replicas = makeReplicaRegistry(sql, config.workerId, config.concurrency)

  const running = new Map<string, Running>()
  const wakeUps = yield* Queue.dropping<void>(1)
  const wake = () => void wakeUps.unsafeOffer(undefined)
  const completions = yield* Queue.unbounded<Completion>()
  /** The last claim filled its batch, so more rows are probably waiting. */
  let mayHaveMore = true
  let stopping = false

  const handlerFibers = yield* FiberSet.make<void>()
  const loops = yield* FiberSet.make<unknown>()

  // --- running one event -------------------------------------------------------------------

  const finished = (row: ClaimedRow, status: "done" | "dead", error: string | null): Completion => ({
    id: row.id,
    leaseToken: row.lease_token,
    status,
    delayMs: 0,
    error
  })

  const retryOrDead = (row: ClaimedRow, message: string) =>
    row.attempts >= config.maxAttempts
      ? Effect.succeed(
        finished(row, "dead", `gave up after ${row.attempts} attempts (MAX_ATTEMPTS=${config.maxAttempts}): ${message}`)
      )
      : Effect.map(Random.next, (random): Completion => ({
        id: row.id,
        leaseToken: row.lease_token,
        status: "pending",
        delayMs: retryDelayMs(row.attempts, config.retryBaseMs, config.retryMaxMs, random),
        error: message
      }))

  const execute = (row: ClaimedRow): Effect.Effect<Completion> =>
    Effect.gen(function*() {
      const handler = handlers.get(row.event_type)
      if (handler === undefined) {
        return finished(
          row,
          "dead",
          `unknown event_type "${row.event_type}": no handler is registered for it (known: ${[...handlers.keys()].join(", ")})`
        )
      }
      const size = Buffer.byteLength(JSON.stringify(row.payload))
      if (size > config.maxPayloadBytes) {
        return finished(row, "dead", `payload is ${size} bytes, over MAX_PAYLOAD_BYTES (${config.maxPayloadBytes})`)
      }
      // HANDLER_TIMEOUT_MS is enforced by the heartbeat's watchdog, not a timer per run: a timeout
      // per handler fiber cost about a third of the drain rate.
      const exit = yield* handler.run(toEvent(row)).pipe(
        Effect.exit
      )
      if (Exit.isSuccess(exit)) return finished(row, "done", null)
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) {
        const error = failure.value
        if (error._tag === "Park") {
          const parked: Completion = {
            id: row.id,
            leaseToken: row.lease_token,
            status: "parked",
            delayMs: Math.max(0, error.delayMs),
            error: `parked: ${error.reason}`
          }
          return parked
        }
        return error._tag === "HandlerError" && error.retryable
          ? yield* retryOrDead(row, error.message)
          : finished(row, "dead", error.message)
      }
      // A defect is a bug in the handler: retry (it may be transient), then dead-letter with the cause.
      return yield* retryOrDead(row, `handler crashed: ${firstLine(Cause.pretty(exit.cause))}`)
    }).pipe(Effect.annotateLogs({ event_id: row.event_id, event_type: row.event_type }))

  const dispatch = (row: ClaimedRow) =>
    Effect.gen(function*() {
      const entry: Running = { row, startedAt: yield* Clock.currentTimeMillis, fiber: undefined }
      running.set(row.id, entry)
      entry.fiber = yield* FiberSet.run(
        handlerFibers,
        Effect.flatMap(execute(row), (completion) =>
          // Leaving `running` and entering the completion queue happen together, so shutdown
          // never loses a row between the two. If the entry is gone, the watchdog or a lost
          // lease already decided this run's fate: its outcome is not written.
          Effect.uninterruptible(Effect.suspend(() => {
            if (running.get(row.id) !== entry) return Effect.void
            running.delete(row.id)
            if (mayHaveMore) wake()
            return Queue.offer(completions, completion)
          }))).pipe(Effect.asVoid)
      )
    })

  // --- fetcher -----------------------------------------------------------------------------

  let claimFailing = false
  const claimUntilFullOrEmpty = Effect.gen(function*() {
    while (!stopping) {
      // Let handlers that are finishing right now free their slots first: one larger claim
      // beats several tiny ones.
      yield* Effect.yieldNow()
      const free = config.concurrency - running.size
      if (free <= 0) {
        // This wake-up is spent; the next finishing handler must bring the fetcher back.
        mayHaveMore = true
        return
      }
      const rows = yield* repo.claim(free)
      if (claimFailing) {
        claimFailing = false
        yield* Effect.logInfo("claiming works again")
      }
      mayHaveMore = rows.length === free
      for (const row of rows) yield* dispatch(row)
      if (!mayHaveMore) return
    }
  }).pipe(
    Effect.catchAll((error: SqlError) =>
      Effect.gen(function*() {
        if (!claimFailing) {
          claimFailing = true
          yield* Effect.logWarning(`claim failed (${firstLine(String(error.cause ?? error.message))}); retrying`)
        }
        // Wake-ups keep coming (poll, NOTIFY): do not turn each into a query against a sick database.
        yield* Effect.sleep("1 second")
        wake()
      })
    )
  )

  const fetcher = Effect.forever(Effect.zipRight(Queue.take(wakeUps), claimUntilFullOrEmpty))

  // --- completions -------------------------------------------------------------------------

  let retryWakeAt = Number.POSITIVE_INFINITY
  /** Wakes the fetcher when the earliest scheduled retry becomes due, instead of waiting for a poll. */
  const scheduleRetryWake = (batch: ReadonlyArray<Completion>) =>
    Effect.gen(function*() {
      const delays = batch.filter((c) => c.status === "pending" || c.status === "parked").map((c) => c.delayMs)
      if (delays.length === 0) return
      const now = yield* Clock.currentTimeMillis
      const at = now + Math.min(...delays)
      if (at >= retryWakeAt) return
      retryWakeAt = at
      yield* FiberSet.run(
        loops,
        Effect.sleep(Duration.millis(at - now)).pipe(Effect.zipRight(Effect.sync(() => {
          if (retryWakeAt === at) retryWakeAt = Number.POSITIVE_INFINITY
          wake()
        })))
      )
    })

  let writeFailing = false
  const writeCompletions = (batch: ReadonlyArray<Completion>) =>
    repo.complete(batch).pipe(
      Effect.tapError((error) =>
        writeFailing ? Effect.void : Effect.sync(() => {
          writeFailing = true
        }).pipe(Effect.zipRight(Effect.logWarning(`writing ${batch.length} completion(s) failed (${firstLine(String(error.cause ?? error.message))}); retrying`)))
      ),
      Effect.retry(completionWriteRetry),
      Effect.tap((results) =>
        Effect.gen(function*() {
          if (writeFailing) {
            writeFailing = false
            yield* Effect.logInfo("completions are written again")
          }
          if (results.length < batch.length) {
            yield* Effect.logWarning(
              `${batch.length - results.length} completion(s) rejected: the lease was lost (expired and taken by another worker)`
            )
          }
          if (results.some((r) => r.unblocksSuccessor)) wake()
          yield* scheduleRetryWake(batch)
        })
      )
    )

  let batchBeingWritten: ReadonlyArray<Completion> = []
  const flusher = Effect.forever(
    Effect.gen(function*() {
      const batch = yield* Queue.takeBetween(completions, 1, 1_000)
      batchBeingWritten = Chunk.toReadonlyArray(batch)
      yield* writeCompletions(batchBeingWritten)
      batchBeingWritten = []
    })
  )

  // --- leases, replicas, recovery ----------------------------------------------------------

  /**
   * Interrupts handlers that ran past HANDLER_TIMEOUT_MS and records a retryable failure for them.
   * Runs with every heartbeat, so a run is stopped at most LEASE_MS / 3 after its limit.
   */
  const watchdog = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    for (const entry of [...running.values()]) {
      if (now - entry.startedAt <= config.handlerTimeoutMs) continue
      running.delete(entry.row.id)
      if (entry.fiber) yield* Fiber.interruptFork(entry.fiber)
      yield* Queue.offer(
        completions,
        yield* retryOrDead(entry.row, `handler did not finish within HANDLER_TIMEOUT_MS (${config.handlerTimeoutMs} ms)`)
      )
      mayHaveMore = true
      wake()
    }
  })

  const heartbeat = Effect.gen(function*() {
    yield* watchdog
    const held = [...running.values()].map((entry) => ({ id: entry.row.id, leaseToken: entry.row.lease_token }))
    const kept = yield* repo.extendLeases(held)
    let lost = 0
    for (const { id, leaseToken } of held) {
      const entry = running.get(id)
      if (kept.has(id) || entry === undefined || entry.row.lease_token !== leaseToken) continue
      running.delete(id)
      lost++
      if (entry.fiber) yield* Fiber.interruptFork(entry.fiber)
    }
    if (lost > 0) yield* Effect.logWarning(`lost the lease of ${lost} running event(s); interrupted their handlers`)
    yield* replicas.touch
  }).pipe(
    Effect.catchAll((error) => Effect.logWarning(`heartbeat failed: ${firstLine(String(error.cause ?? error.message))}`)),
    Effect.repeat(Schedule.spaced(Duration.millis(Math.floor(config.leaseMs / 3))))
  )

  const reaper = repo.reapExpired(config.maxAttempts).pipe(
    Effect.flatMap((rows) => {
      if (rows.length === 0) return Effect.void
      const dead = rows.filter((r) => r.status === "dead").length
      wake()
      return Effect.logWarning(
        `recovered ${rows.length} event(s) whose lease expired` + (dead > 0 ? ` (${dead} dead after MAX_ATTEMPTS)` : "")
      )
    }),
    Effect.catchAll(() => Effect.void),
    Effect.repeat(Schedule.spaced(Duration.millis(Math.max(250, Math.floor(config.leaseMs / 2)))))
  )

  /**
   * Once a minute (and at start): deletes old `done` rows in batches of 1,000, and forgets replicas
   * silent for ten lease periods (at least a minute), which died without deregistering.
   */
  const pruneBatch = 1_000
  const pruneDone = config.doneRetentionHours === 0
    ? Effect.void
    : repo.pruneDone(config.doneRetentionHours, pruneBatch).pipe(Effect.repeat({ while: (deleted) => deleted === pruneBatch }))
  const forgetSilentReplicas = replicas.forgetSilent(Math.max(60_000, 10 * config.leaseMs)).pipe(
    Effect.flatMap((forgotten) =>
      forgotten === 0 ? Effect.void : Effect.logInfo(`forgot ${forgotten} replica(s) silent for over ten lease periods`)
    )
  )
  const pruner = Effect.all([pruneDone, forgetSilentReplicas], { discard: true }).pipe(
    Effect.catchAll((error) => Effect.logWarning(`pruning failed: ${firstLine(String(error.cause ?? error.message))}`)),
    Effect.repeat(Schedule.spaced("1 minute"))
  )

  const poller = Effect.sync(wake).pipe(Effect.repeat(Schedule.spaced(Duration.millis(config.pollIntervalMs))))

  // --- start -------------------------------------------------------------------------------

  yield* replicas.register
  const flusherFiber = yield* Effect.forkScoped(flusher)
  const heartbeatFiber = yield* Effect.forkScoped(heartbeat)
  yield* FiberSet.run(loops, fetcher)
  yield* FiberSet.run(loops, reaper)
  yield* FiberSet.run(loops, poller)
  yield* FiberSet.run(loops, pruner)
  yield* FiberSet.run(
    loops,
    runListener({
      db,
      applicationName: `orchestrator-listener:${config.workerId}`.slice(0, 63),
      probeIntervalMs: config.listenProbeMs,
      pollIntervalMs: config.pollIntervalMs,
      wake
    })
  )
  yield* Effect.logInfo(
    `worker started: concurrency=${config.concurrency} lease=${config.leaseMs}ms poll=${config.pollIntervalMs}ms handlers=${
      [...handlers.keys()].join(",")
    }`
  )

  // Registered last, so it runs first when the scope closes: before the fiber sets and the pool.
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      stopping = true
      yield* FiberSet.clear(loops)
      if (running.size > 0) {
        yield* Effect.logInfo(`shutting down: waiting up to ${config.shutdownGraceMs} ms for ${running.size} running handler(s)`)
        yield* Effect.sync(() => running.size === 0).pipe(
          Effect.repeat({ until: (idle) => idle, schedule: Schedule.spaced("20 millis") }),
          boundedInFinalizer(Duration.millis(config.shutdownGraceMs)),
          Effect.ignore
        )
      }
      const unfinished = [...running.values()].map((entry) => ({ id: entry.row.id, leaseToken: entry.row.lease_token }))
      yield* FiberSet.clear(handlerFibers)
      yield* Fiber.interrupt(flusherFiber)
      const remaining = [...batchBeingWritten, ...Chunk.toReadonlyArray(yield* Queue.takeAll(completions))]
      const written = yield* repo.complete(remaining).pipe(boundedInFinalizer("5 seconds"), Effect.option)
      const released = yield* repo.release(unfinished).pipe(boundedInFinalizer("5 seconds"), Effect.option)
      yield* Fiber.interrupt(heartbeatFiber)
      yield* replicas.deregister.pipe(boundedInFinalizer("2 seconds"), Effect.ignore)
      yield* Effect.logInfo(
        `worker stopped: wrote ${Option.match(written, { onNone: () => "no", onSome: (r) => String(r.length) })} final completion(s), ` +
          `released ${Option.match(released, { onNone: () => `none of ${unfinished.length} (their leases will expire)`, onSome: String })} unfinished event(s)`
      )
    })
  )
}).pipe(Effect.withSpan("Worker.start"))

export const WorkerLive = Layer.scopedDiscard(
  Effect.flatMap(WorkerConfig, (config) => runWorker.pipe(Effect.annotateLogs("worker", config.workerId)))
)

import { DatabaseConfig } from "@ecommerce/db"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Fiber, FiberSet, Layer, Option, Queue } from "effect"
import { makeReplicaRegistry, type ReplicaRegistry } from "../replicas/ReplicaRegistry.ts"
import { retryAtStartup } from "../StartupFailure.ts"
import { WorkerConfig } from "../WorkerConfig.ts"
import type { Completion } from "./Completion.ts"
import { makeDispatcher } from "./Dispatcher.ts"
import { EventHandlers } from "./EventHandler.ts"
import { makeFetcher } from "./Fetcher.ts"
import { type Flusher, makeFlusher } from "./Flusher.ts"
import { makeLeases } from "./Leases.ts"
import { runListener } from "./Listener.ts"
import { makePruner, makeReaper, makeRowGauge } from "./Maintenance.ts"
import { type ClaimedRow, makeOutboxRepo, type OutboxRepo } from "./OutboxRepo.ts"
import { makePace } from "./Pace.ts"
import { makeRunner } from "./Runner.ts"
import { makeRunningSet, type RunningSet } from "./RunningSet.ts"
import { drainCheck, pollEvery } from "./Schedules.ts"
import { makeSupervisor } from "./Supervisor.ts"
import { makeWakeups, type Wakeups } from "./Wakeups.ts"

/**
 * A time limit that works inside a finalizer. Finalizers run uninterruptibly, and a timeout works
 * by interrupting the effect it limits: without `interruptible` the limit would wait forever.
 */
const boundedInFinalizer = (duration: Duration.DurationInput) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.timeout(Effect.interruptible(self), duration)

interface Parts {
  readonly config: WorkerConfig
  readonly repo: OutboxRepo
  readonly replicas: ReplicaRegistry
  readonly running: RunningSet
  readonly flusher: Flusher
  readonly flags: { stopping: boolean }
  readonly loops: FiberSet.FiberSet<unknown>
  readonly handlerFibers: FiberSet.FiberSet<void, unknown>
  readonly timers: FiberSet.FiberSet<unknown>
  readonly flusherFiber: Fiber.RuntimeFiber<void>
  readonly leasesFiber: Fiber.RuntimeFiber<void>
}

/**
 * Stops claiming, waits up to SHUTDOWN_GRACE_MS for running handlers, then writes every completion
 * still queued and releases the unfinished rows without counting their attempt. Leases (and the
 * heartbeat) stop last, so nothing held expires while it is being handed back.
 */
const shutdown = (parts: Parts) =>
  Effect.gen(function*() {
    const { config, repo, running } = parts
    parts.flags.stopping = true
    // Bounded: a claim in flight finishes before its fiber stops (Fetcher.ts), and a claim stuck on
    // a dead connection must not hold shutdown forever (its rows' leases then expire).
    yield* FiberSet.clear(parts.loops).pipe(boundedInFinalizer("5 seconds"), Effect.ignore)
    if (running.running() > 0) {
      yield* Effect.logInfo(
        `shutting down: waiting up to ${config.shutdownGraceMs} ms for ${running.running()} running handler(s)`
      )
      yield* Effect.sync(() => running.running() === 0).pipe(
        Effect.repeat({ until: (idle) => idle, schedule: drainCheck }),
        boundedInFinalizer(Duration.millis(config.shutdownGraceMs)),
        Effect.ignore
      )
    }
    const unfinished = running.takeAll()
    yield* FiberSet.clear(parts.handlerFibers)
    yield* Fiber.interrupt(parts.flusherFiber)
    yield* FiberSet.clear(parts.timers)
    const remaining = yield* parts.flusher.remaining
    const written = yield* repo.complete(remaining).pipe(boundedInFinalizer("5 seconds"), Effect.option)
    // Dead-lettered events log their line and every result is counted, as in the loop.
    if (Option.isSome(written)) yield* parts.flusher.afterFinalWrite(remaining, written.value)
    const leases = unfinished.map((entry) => ({ id: entry.row.id, leaseToken: entry.row.lease_token }))
    const released = yield* repo.release(leases).pipe(boundedInFinalizer("5 seconds"), Effect.option)
    yield* Fiber.interrupt(parts.leasesFiber)
    yield* parts.replicas.deregister.pipe(boundedInFinalizer("2 seconds"), Effect.ignore)
    const wrote = Option.match(written, { onNone: () => "no", onSome: (r) => String(r.length) })
    const releasedText = Option.match(released, {
      onNone: () => `none of ${leases.length} (their leases will expire)`,
      onSome: String
    })
    yield* Effect.logInfo(
      `worker stopped: wrote ${wrote} final completion(s), released ${releasedText} unfinished event(s)`
    )
  })

interface LoopParts {
  readonly config: WorkerConfig
  readonly db: DatabaseConfig
  readonly repo: OutboxRepo
  readonly replicas: ReplicaRegistry
  readonly running: RunningSet
  readonly wakeups: Wakeups
  readonly flags: { mayHaveMore: boolean; stopping: boolean }
  readonly capacity: () => number
  readonly hold: (rows: ReadonlyArray<ClaimedRow>) => Effect.Effect<void>
  readonly start: Effect.Effect<void>
  readonly fork: (name: string, loop: Effect.Effect<unknown, unknown>) => Effect.Effect<unknown>
}

/** The loops that claim and keep the table tidy, each supervised under its name. */
const forkLoops = ({ capacity, config, db, flags, fork, replicas, repo, running, start, wakeups, hold }: LoopParts) =>
  Effect.gen(function*() {
    yield* fork("fetcher", makeFetcher({ repo, running, wakeups, flags, capacity, hold, start }))
    yield* fork("reaper", makeReaper({ repo, wakeups, leaseMs: config.leaseMs, maxAttempts: config.maxAttempts }))
    yield* fork(
      "pruner",
      makePruner({ repo, replicas, leaseMs: config.leaseMs, doneRetentionHours: config.doneRetentionHours })
    )
    yield* fork("row-gauge", makeRowGauge(repo))
    yield* fork("poller", Effect.repeat(Effect.sync(() => wakeups.wake("poll")), pollEvery(config.pollIntervalMs)))
    yield* fork(
      "listener",
      runListener({
        db,
        applicationName: `orchestrator-listener:${config.workerId}`.slice(0, 63),
        probeIntervalMs: config.listenProbeMs,
        pollIntervalMs: config.pollIntervalMs,
        wake: () => wakeups.wake("notify")
      })
    )
  })

/**
 * One replica's outbox worker, composed from its parts (each a module of its own):
 * - fetcher (Fetcher.ts): on a wake-up, claims batches sized to free capacity;
 * - RunningSet.ts: the rows held, queued locally (WORKER_PREFETCH) or running, and the decision of
 *   each run's fate from its Exit; handlers (Runner.ts): one fiber per running row, started by
 *   the dispatcher (Dispatcher.ts);
 * - flusher (Flusher.ts): writes completions in batches;
 * - leases (Leases.ts): watchdog, lease extension, the replica's heartbeat row;
 * - reaper, pruner, row gauge (Maintenance.ts); poller and listener (Listener.ts): wake-ups.
 * Each loop runs supervised (Supervisor.ts) with its own log annotation.
 * Shutdown (scope close) stops claiming, drains for SHUTDOWN_GRACE_MS, then releases the rest.
 */
export const runWorker = Effect.gen(function*() {
  const config = yield* WorkerConfig
  const db = yield* DatabaseConfig
  const sql = yield* SqlClient.SqlClient
  const handlers = yield* EventHandlers
  const repo = makeOutboxRepo(sql, { workerId: config.workerId, leaseMs: config.leaseMs })
  const replicas = makeReplicaRegistry(sql, config.workerId, config.concurrency)
  const supervisor = yield* makeSupervisor

  const flags = { mayHaveMore: true, stopping: false }
  const wakeups = yield* makeWakeups
  const completions = yield* Queue.unbounded<Completion>()
  const running = makeRunningSet(config, (completion) => void completions.unsafeOffer(completion))
  const run = makeRunner({ handlers, maxPayloadBytes: config.maxPayloadBytes, maxAttempts: config.maxAttempts })
  const handlerFibers = yield* FiberSet.make<void, unknown>()
  const timers = yield* FiberSet.make<unknown>()
  const loops = yield* FiberSet.make<unknown>()

  const pace = makePace({ concurrency: config.concurrency, prefetch: config.prefetch })
  const { hold, start } = makeDispatcher({
    running,
    run,
    handlerFibers,
    wakeups,
    flags,
    pace,
    concurrency: config.concurrency
  })

  const flusher = makeFlusher({ repo, completions, wakeups, timers })
  const fork = (name: string, loop: Effect.Effect<unknown, unknown>) =>
    FiberSet.run(loops, supervisor.supervise(name, loop))

  yield* replicas.register.pipe(retryAtStartup("registering the replica in worker_heartbeats"))
  const flusherFiber = yield* Effect.forkScoped(supervisor.supervise("flusher", flusher.loop))
  const leasesFiber = yield* Effect.forkScoped(supervisor.supervise(
    "leases",
    makeLeases({
      repo,
      running,
      wakeups,
      flags,
      leaseMs: config.leaseMs,
      handlerTimeoutMs: config.handlerTimeoutMs,
      touchReplica: replicas.touch,
      fetcherUp: () => supervisor.isUp("fetcher")
    })
  ))
  yield* forkLoops({ config, db, repo, replicas, running, wakeups, flags, capacity: pace.capacity, hold, start, fork })
  yield* Effect.logInfo(
    `worker started: concurrency=${config.concurrency} lease=${config.leaseMs}ms poll=${config.pollIntervalMs}ms handlers=${
      [...handlers.keys()].join(",")
    }`
  )

  // Registered last, so it runs first when the scope closes: before the fiber sets and the pool.
  yield* Effect.addFinalizer(() =>
    shutdown({
      config,
      repo,
      replicas,
      running,
      flusher,
      flags,
      loops,
      handlerFibers,
      timers,
      flusherFiber,
      leasesFiber
    })
  )
})

export const WorkerLive = Layer.scopedDiscard(
  Effect.flatMap(WorkerConfig, (config) => runWorker.pipe(Effect.annotateLogs("worker", config.workerId)))
)

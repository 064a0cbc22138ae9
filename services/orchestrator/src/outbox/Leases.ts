import { Clock, Effect, Exit, Fiber } from "effect"
import { TimedOut } from "./Completion.ts"
import { errorSummary, makeOutageLog } from "./OutageLog.ts"
import type { OutboxRepo } from "./OutboxRepo.ts"
import type { RunningSet } from "./RunningSet.ts"
import { heartbeatEvery } from "./Schedules.ts"
import type { Wakeups } from "./Wakeups.ts"

export interface LeasesOptions {
  readonly repo: OutboxRepo
  readonly running: RunningSet
  readonly wakeups: Wakeups
  readonly leaseMs: number
  readonly handlerTimeoutMs: number
  /** Refreshes the replica's worker_heartbeats row. */
  readonly touchReplica: Effect.Effect<void, unknown>
  /** False while the fetcher is down: a replica that takes no work must not look alive. */
  readonly fetcherUp: () => boolean
  readonly flags: { mayHaveMore: boolean }
}

/**
 * The heartbeat, every LEASE_MS / 3: stops runs past HANDLER_TIMEOUT_MS (the watchdog: a timer per
 * run cost about a third of the drain rate), extends the leases of the others, forgets and
 * interrupts any whose lease was lost, and refreshes the replica's row.
 */
export const makeLeases = (options: LeasesOptions) => {
  const { running } = options
  const outage = makeOutageLog("heartbeats work again")

  const watchdog = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const overdue = running.startedBefore(now - options.handlerTimeoutMs)
    const timedOut = Exit.fail(
      new TimedOut(`handler did not finish within HANDLER_TIMEOUT_MS (${options.handlerTimeoutMs} ms)`)
    )
    for (const entry of overdue) {
      if (!(yield* running.finish(entry, timedOut))) continue
      if (entry.fiber) yield* Fiber.interruptFork(entry.fiber)
      options.flags.mayHaveMore = true
      options.wakeups.wake("capacity")
    }
  })

  const extend = Effect.gen(function*() {
    const held = running.leases()
    const kept = yield* options.repo.extendLeases(held)
    let lost = 0
    for (const lease of held) {
      if (kept.has(lease.id)) continue
      const entry = running.drop(lease)
      if (entry === undefined) continue
      lost++
      if (entry.fiber) yield* Fiber.interruptFork(entry.fiber)
    }
    if (lost === 0) return
    yield* Effect.logWarning(`lost the lease of ${lost} held event(s); interrupted their handlers`)
    options.wakeups.wake("capacity")
  })

  const beat = Effect.gen(function*() {
    yield* watchdog
    yield* extend
    if (options.fetcherUp()) yield* options.touchReplica
    yield* outage.succeeded
  }).pipe(
    Effect.catchAll((error) =>
      outage.failed(`heartbeat failed (${errorSummary(error as { message: string })}); retrying with the next one`)
    )
  )

  return Effect.repeat(beat, heartbeatEvery(options.leaseMs))
}

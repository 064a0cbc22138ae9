import { Chunk, Clock, Duration, Effect, FiberSet, Metric, Queue } from "effect"
import type { Completion } from "./Completion.ts"
import * as Metrics from "./Metrics.ts"
import { errorSummary, makeOutageLog } from "./OutageLog.ts"
import type { CompletionResult, OutboxRepo } from "./OutboxRepo.ts"
import { completionWriteRetry } from "./Schedules.ts"
import type { Wakeups } from "./Wakeups.ts"

const resultOf = (completion: Completion): Metrics.ProcessedResult =>
  completion.status === "pending" ? "retry" : completion.status

/**
 * A timer for the earliest retry or park among written completions, so it runs when due instead of
 * at the next poll. One timer at a time: a later due time never replaces an earlier one.
 */
const makeRetryWake = (options: { readonly wakeups: Wakeups; readonly timers: FiberSet.FiberSet<unknown> }) => {
  let retryWakeAt = Number.POSITIVE_INFINITY
  return (batch: ReadonlyArray<Completion>) =>
    Effect.gen(function*() {
      let delay = Number.POSITIVE_INFINITY
      for (const c of batch) if (c.status === "pending" || c.status === "parked") delay = Math.min(delay, c.delayMs)
      if (delay === Number.POSITIVE_INFINITY) return
      const now = yield* Clock.currentTimeMillis
      const at = now + delay
      if (at >= retryWakeAt) return
      retryWakeAt = at
      yield* FiberSet.run(
        options.timers,
        Effect.sleep(Duration.millis(delay)).pipe(Effect.zipRight(Effect.sync(() => {
          if (retryWakeAt === at) retryWakeAt = Number.POSITIVE_INFINITY
          options.wakeups.wake("retry_timer")
        })))
      )
    })
}

/**
 * What follows a write: logs each dead-lettered event (one warning line), counts results (one
 * counter update per type and result), wakes the fetcher when a finished event unblocks its
 * aggregate's next one, and arms the retry timer.
 */
const makeAfterWrite = (options: {
  readonly wakeups: Wakeups
  /** Absent at shutdown: nothing is left to wake. */
  readonly scheduleRetryWake?: (batch: ReadonlyArray<Completion>) => Effect.Effect<void>
}) =>
(batch: ReadonlyArray<Completion>, results: ReadonlyArray<CompletionResult>) =>
  Effect.gen(function*() {
    const written = new Set<string>()
    let unblocks = false
    for (const r of results) {
      written.add(r.id)
      if (r.unblocksSuccessor) unblocks = true
    }
    if (results.length < batch.length) {
      yield* Effect.logWarning(
        `${
          batch.length - results.length
        } completion(s) rejected: the lease was lost (expired and taken by another worker)`
      )
    }
    const counts = new Map<Metric.Metric.Counter<number>, number>()
    for (const c of batch) {
      if (!written.has(c.id)) continue
      const counter = Metrics.processedFor(c.eventType, resultOf(c))
      counts.set(counter, (counts.get(counter) ?? 0) + 1)
      if (c.status === "dead") {
        yield* Effect.logWarning(`event dead-lettered: ${c.error}`).pipe(
          Effect.annotateLogs({ event_id: c.eventId, event_type: c.eventType, outbox_id: c.id })
        )
      }
    }
    for (const [counter, n] of counts) yield* Metric.incrementBy(counter, n)
    if (unblocks) options.wakeups.wake("capacity")
    if (options.scheduleRetryWake) yield* options.scheduleRetryWake(batch)
  })

/**
 * Writes queued completions, all that are waiting in one guarded statement, retrying through an
 * outage, then runs `afterWrite` on what was written.
 */
export const makeFlusher = (options: {
  readonly repo: OutboxRepo
  readonly completions: Queue.Queue<Completion>
  readonly wakeups: Wakeups
  readonly timers: FiberSet.FiberSet<unknown>
}) => {
  const outage = makeOutageLog("completions are written again")
  const afterWrite = makeAfterWrite({ wakeups: options.wakeups, scheduleRetryWake: makeRetryWake(options) })
  /** The batch taken off the queue but not yet written: shutdown must not lose it. */
  let inFlight: ReadonlyArray<Completion> = []

  const write = (batch: ReadonlyArray<Completion>) =>
    options.repo.complete(batch).pipe(
      Effect.tapError((error) =>
        outage.failed(`writing ${batch.length} completion(s) failed (${errorSummary(error)}); retrying`)
      ),
      Effect.retry(completionWriteRetry),
      Effect.tap(() => outage.succeeded),
      Effect.flatMap((results) => afterWrite(batch, results))
    )

  const loop = Effect.forever(
    Effect.gen(function*() {
      if (inFlight.length === 0) {
        inFlight = Chunk.toReadonlyArray(yield* Queue.takeBetween(options.completions, 1, 5_000))
      }
      yield* write(inFlight)
      inFlight = []
    })
  )

  /** At shutdown, after the loop stopped: everything not yet written, including a batch cut short. */
  const remaining = Effect.map(Queue.takeAll(options.completions), (rest) => {
    const all = [...inFlight, ...Chunk.toReadonlyArray(rest)]
    inFlight = []
    return all
  })

  /** For the final write at shutdown: the same logs and counts, no timers. */
  const afterFinalWrite = makeAfterWrite({ wakeups: options.wakeups })

  return { loop, remaining, afterFinalWrite } as const
}

export type Flusher = ReturnType<typeof makeFlusher>

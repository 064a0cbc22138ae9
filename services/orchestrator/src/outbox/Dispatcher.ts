import { Clock, Effect, FiberSet } from "effect"
import type { ClaimedRow } from "./OutboxRepo.ts"
import type { Pace } from "./Pace.ts"
import type { Runner } from "./Runner.ts"
import type { Held, RunningSet } from "./RunningSet.ts"
import type { Wakeups } from "./Wakeups.ts"

export interface DispatcherOptions {
  readonly running: RunningSet
  readonly run: Runner
  readonly handlerFibers: FiberSet.FiberSet<void, unknown>
  readonly wakeups: Wakeups
  readonly concurrency: number
  /** Run times feed it; it says when a finishing run wakes the fetcher (when the last claim was full). */
  readonly pace: Pace
  readonly flags: { readonly mayHaveMore: boolean; readonly stopping: boolean }
}

/**
 * Starts claimed rows: `hold` takes a claim into the local queue, `start` starts what fits in
 * free handler slots; each finishing run hands its Exit to the running set (which alone decides the
 * completion), records its run time (Pace.ts sizes the local queue from it), starts the next
 * queued row itself, and wakes the fetcher once the local queue has drained by half, so claims
 * stay large.
 */
export const makeDispatcher = (options: DispatcherOptions) => {
  const { flags, running } = options

  const startRun = (entry: Held) =>
    FiberSet.run(
      options.handlerFibers,
      // The handler runs interruptibly whatever the forking fiber's state: a finishing run starts
      // the next queued row from its uninterruptible part, and a fork inherits that (the watchdog,
      // lease loss and shutdown could not interrupt such a handler).
      Effect.uninterruptible(
        Effect.exit(Effect.interruptible(options.run(entry.row))).pipe(
          Effect.flatMap((exit) => running.finish(entry, exit)),
          Effect.flatMap((finished) => {
            if (!finished) return Effect.void
            return Effect.flatMap(Clock.currentTimeMillis, (now) => {
              options.pace.record(now - (entry.startedAt ?? now))
              if (flags.mayHaveMore && running.size() <= options.pace.lowWater()) options.wakeups.wake("capacity")
              return startQueuedAt(now)
            })
          })
        )
      )
    ).pipe(Effect.map((fiber) => {
      entry.fiber = fiber
    }))

  const noFreeSlot = () => flags.stopping || running.running() >= options.concurrency

  /** Starts queued rows while handler slots are free, stamping them as started at `now`. */
  const startQueuedAt = (now: number): Effect.Effect<void> =>
    Effect.suspend(function loop(): Effect.Effect<void> {
      if (noFreeSlot()) return Effect.void
      const entry = running.next(now)
      return entry === undefined ? Effect.void : Effect.zipRight(startRun(entry), Effect.suspend(loop))
    })

  /** The same, reading the clock only when a slot is free. */
  const startQueued: Effect.Effect<void> = Effect.suspend(() =>
    noFreeSlot() ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, startQueuedAt)
  )

  const hold = (rows: ReadonlyArray<ClaimedRow>) =>
    Effect.sync(() => {
      for (const row of rows) running.hold(row)
    })

  return { hold, start: startQueued } as const
}

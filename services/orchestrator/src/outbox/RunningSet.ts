import { Effect, type Exit, type Fiber, Random } from "effect"
import { type Completion, completionOf, type RetryPolicy, type RunFailure } from "./Completion.ts"
import type { ClaimedRow } from "./OutboxRepo.ts"

/** A row this replica holds a lease on: queued locally (`startedAt` undefined) or running. */
export interface Held {
  readonly row: ClaimedRow
  startedAt: number | undefined
  fiber: Fiber.RuntimeFiber<void, unknown> | undefined
}

export interface Lease {
  readonly id: string
  readonly leaseToken: string
}

/**
 * The rows this replica holds a lease on: a local queue of claimed rows (prefetch, so a claim can
 * be larger than the free handler slots) and the ones running. It alone removes an entry, and each
 * removal has one meaning: `finish` decides the completion from the run's Exit (through
 * `completionOf`, the only such decision) and hands it to `settle`; `drop` forgets a row whose lease
 * was lost (nothing is written: the row is someone else's now); `takeAll` empties the set at
 * shutdown (the rows are released). A run that finishes after its entry was removed writes nothing.
 * Leases of queued rows are kept alive like those of running ones.
 */
export const makeRunningSet = (policy: RetryPolicy, settle: (completion: Completion) => void) => {
  const entries = new Map<string, Held>()
  const queue: Array<Held> = []
  let runningCount = 0

  const hold = (row: ClaimedRow): Held => {
    const entry: Held = { row, startedAt: undefined, fiber: undefined }
    entries.set(row.id, entry)
    queue.push(entry)
    return entry
  }

  /** The next queued row to start, marked running; undefined when none is queued. */
  const next = (now: number): Held | undefined => {
    while (queue.length > 0) {
      const entry = queue.shift()!
      if (entries.get(entry.row.id) !== entry) continue
      entry.startedAt = now
      runningCount++
      return entry
    }
    return undefined
  }

  const remove = (entry: Held) => {
    entries.delete(entry.row.id)
    if (entry.startedAt !== undefined) runningCount--
  }

  const finish = (entry: Held, exit: Exit.Exit<void, RunFailure>): Effect.Effect<boolean> =>
    Effect.map(Random.next, (random) => {
      if (entries.get(entry.row.id) !== entry) return false
      remove(entry)
      settle(completionOf(entry.row, exit, policy, random))
      return true
    })

  const drop = (lease: Lease): Held | undefined => {
    const entry = entries.get(lease.id)
    if (entry === undefined || entry.row.lease_token !== lease.leaseToken) return undefined
    remove(entry)
    return entry
  }

  const takeAll = (): ReadonlyArray<Held> => {
    const all = [...entries.values()]
    entries.clear()
    queue.length = 0
    runningCount = 0
    return all
  }

  return {
    hold,
    next,
    finish,
    drop,
    takeAll,
    /** Rows held: queued and running. */
    size: () => entries.size,
    running: () => runningCount,
    leases: (): ReadonlyArray<Lease> =>
      [...entries.values()].map((e) => ({ id: e.row.id, leaseToken: e.row.lease_token })),
    startedBefore: (time: number): ReadonlyArray<Held> =>
      [...entries.values()].filter((e) => e.startedAt !== undefined && e.startedAt < time)
  } as const
}

export type RunningSet = ReturnType<typeof makeRunningSet>

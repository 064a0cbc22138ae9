import { Effect, type Exit, type Fiber, Random } from "effect"
import { type Completion, completionOf, type RetryPolicy, type RunFailure } from "./Completion.ts"
import type { ClaimedRow } from "./OutboxRepo.ts"

export interface Running {
  readonly row: ClaimedRow
  readonly startedAt: number
  fiber: Fiber.RuntimeFiber<void, unknown> | undefined
}

export interface Lease {
  readonly id: string
  readonly leaseToken: string
}

/**
 * The rows this replica holds a lease on and runs. It alone removes an entry, and each removal has
 * one meaning: `finish` decides the completion from the run's Exit (through `completionOf`, the only
 * such decision) and hands it to `settle`; `drop` forgets a run whose lease was lost (nothing is
 * written: the row is someone else's now); `takeAll` empties the set at shutdown (the rows are
 * released). A run that finishes after its entry was removed writes nothing.
 */
export const makeRunningSet = (
  policy: RetryPolicy,
  settle: (completion: Completion) => void
) => {
  const entries = new Map<string, Running>()

  const add = (row: ClaimedRow, startedAt: number): Running => {
    const entry: Running = { row, startedAt, fiber: undefined }
    entries.set(row.id, entry)
    return entry
  }

  const finish = (entry: Running, exit: Exit.Exit<void, RunFailure>): Effect.Effect<boolean> =>
    Effect.map(Random.next, (random) => {
      if (entries.get(entry.row.id) !== entry) return false
      entries.delete(entry.row.id)
      settle(completionOf(entry.row, exit, policy, random))
      return true
    })

  const drop = (lease: Lease): Running | undefined => {
    const entry = entries.get(lease.id)
    if (entry === undefined || entry.row.lease_token !== lease.leaseToken) return undefined
    entries.delete(lease.id)
    return entry
  }

  const takeAll = (): ReadonlyArray<Running> => {
    const all = [...entries.values()]
    entries.clear()
    return all
  }

  return {
    add,
    finish,
    drop,
    takeAll,
    size: () => entries.size,
    leases: (): ReadonlyArray<Lease> => [...entries.values()].map((e) => ({ id: e.row.id, leaseToken: e.row.lease_token })),
    startedBefore: (time: number): ReadonlyArray<Running> => [...entries.values()].filter((e) => e.startedAt < time)
  } as const
}

export type RunningSet = ReturnType<typeof makeRunningSet>

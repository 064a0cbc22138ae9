import { Cause, Context, Data, Effect } from "effect"
import { loopRestart } from "./Schedules.ts"

export class LoopDied
  extends Data.TaggedError("LoopDied")<{ readonly loop: string; readonly cause: Cause.Cause<unknown> }>
{}

/**
 * What happens when a loop cannot be kept up: by default the process exits non-zero (after the
 * error line), because a replica that limps on without its fetcher or its leases holds work it
 * cannot finish. Correctness does not depend on finalizers: leases expire and others take over.
 * Tests replace it to observe the decision instead of exiting.
 */
export class LoopGivenUp extends Context.Reference<LoopGivenUp>()("@ecommerce/orchestrator/LoopGivenUp", {
  defaultValue: () => (_: LoopDied): Effect.Effect<void> => Effect.sync(() => process.exit(1))
}) {}

/**
 * Runs the worker's long-lived loops. A loop is meant to run forever: one that fails, dies or
 * returns is logged at error with its cause and restarted with `loopRestart`'s backoff; when that
 * budget is spent, `LoopGivenUp` decides (the process exits). Interruption (shutdown) is not a death.
 * `isUp` tells other loops whether a loop is running: the heartbeat stops refreshing the replica's
 * row while the fetcher is down, so operators see a replica that takes no work as silent.
 */
export const makeSupervisor = Effect.gen(function*() {
  const givenUp = yield* LoopGivenUp
  const down = new Set<string>()

  const runOnce = (name: string, loop: Effect.Effect<unknown, unknown>) =>
    Effect.suspend(() => {
      down.delete(name)
      return loop
    }).pipe(
      Effect.zipRight(Effect.dieMessage(`loop ${name} returned`)),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.sync(() => down.add(name)).pipe(
            Effect.zipRight(Effect.logError(`loop ${name} died; restarting it with backoff`, cause)),
            Effect.zipRight(Effect.fail(new LoopDied({ loop: name, cause })))
          )
      )
    )

  const supervise = (name: string, loop: Effect.Effect<unknown, unknown>): Effect.Effect<void> =>
    runOnce(name, loop).pipe(
      Effect.retry(loopRestart),
      Effect.catchAll((died) =>
        Effect.logError(`loop ${name} keeps dying; giving up on this replica`).pipe(Effect.zipRight(givenUp(died)))
      ),
      Effect.annotateLogs("loop", name)
    )

  return { supervise, isUp: (name: string) => !down.has(name) } as const
})

export type Supervisor = Effect.Effect.Success<typeof makeSupervisor>

import { type ConfigError, Effect, Layer, Runtime } from "effect"
import { WorkerConfig } from "./WorkerConfig.ts"

/**
 * What a stop may take beyond SHUTDOWN_GRACE_MS: the sum of its other bounds (stopping the loops 5 s,
 * the final completions 5 s, the release 5 s, deregistering 2 s, the telemetry flush 3 s) and 5 s
 * for closing the pool and exiting.
 */
export const shutdownSlackMs = 25_000

/**
 * A hard bound on a replica's stop. Each step of the worker's shutdown has its own time limit, but
 * a fiber that cannot be interrupted (a claim, from its statement until its rows are held, on a
 * connection that never answers) is still awaited when its fiber set and the pool close. So when
 * the stop begins, this arms a timer: at SHUTDOWN_GRACE_MS + 25 s it logs why and exits 1. Nothing
 * is lost by that: rows still leased to this replica are re-run by another once their lease
 * expires, as after SIGKILL. Wraps the daemon's layer, so its finalizer runs first.
 */
export const withExitDeadline = <E, R>(
  main: Layer.Layer<never, E, R>
): Layer.Layer<never, E | ConfigError.ConfigError, R> =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const config = yield* WorkerConfig
      const runtime = yield* Effect.runtime<never>()
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          const deadlineMs = config.shutdownGraceMs + shutdownSlackMs
          setTimeout(() => {
            Runtime.runSync(runtime)(Effect.logError(
              `shutdown did not finish within ${deadlineMs} ms (SHUTDOWN_GRACE_MS + ${shutdownSlackMs / 1000} s): ` +
                `exiting now; rows still leased to this replica run again elsewhere once their lease expires`
            ))
            process.exit(1)
          }, deadlineMs).unref()
        })
      )
    })
  ).pipe(Layer.provide(main))

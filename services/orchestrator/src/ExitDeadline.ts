import { type ConfigError, Effect, Layer, Runtime } from "effect"
import { WorkerConfig } from "./WorkerConfig.ts"

/**
 * What a stop may take beyond SHUTDOWN_GRACE_MS: the sum of its other bounds (stopping the loops 5 s,
 * the final completions 5 s, the release 5 s, deregistering 2 s, the listener 1 s, the pool 1 s) and
 * 6 s to spare. The telemetry flush (at most 3 s, OtlpSdk.ts) comes after the deadline is cleared:
 * withObservability wraps the daemon from outside.
 */
export const shutdownSlackMs = 25_000

/** setTimeout's longest delay; a longer one fires at once (Node clamps it to 1 ms). */
const maxTimerMs = 2 ** 31 - 1

/** How long the deadline waits for its log line to reach stdout before exiting anyway. */
const flushMs = 1_000

/**
 * A hard bound on a replica's stop. Each step of the worker's shutdown has its own time limit, but
 * a fiber that cannot be interrupted (a claim, from its statement until its rows are held, on a
 * connection or behind a lock that never answers) is still awaited when its fiber set and the pool
 * close. So when the stop begins, this arms a timer: at SHUTDOWN_GRACE_MS + 25 s it logs why and
 * exits 1, once that line has reached stdout (at most 1 s more). Nothing is lost by that: rows
 * still leased to this replica are re-run by another once their lease expires, as after SIGKILL.
 * The timer is cleared when the stop finishes, so it never outlives a stop that did.
 *
 * Wraps the daemon's layer: `arm` is built after `main` and `disarm` before it, so when the scope
 * closes `arm`'s finalizer runs first and `disarm`'s last.
 */
export const withExitDeadline = <E, R>(
  main: Layer.Layer<never, E, R>
): Layer.Layer<never, E | ConfigError.ConfigError, R> => {
  let timer: NodeJS.Timeout | undefined
  const disarm = Layer.scopedDiscard(Effect.addFinalizer(() => Effect.sync(() => clearTimeout(timer))))
  const arm = Layer.scopedDiscard(
    Effect.gen(function*() {
      const config = yield* WorkerConfig
      const runtime = yield* Effect.runtime<never>()
      const deadlineMs = Math.min(config.shutdownGraceMs + shutdownSlackMs, maxTimerMs)
      const exit = () => {
        Runtime.runSync(runtime)(Effect.logError(
          `shutdown did not finish within ${deadlineMs} ms (SHUTDOWN_GRACE_MS + ${shutdownSlackMs / 1000} s): ` +
            `exiting now; rows still leased to this replica run again elsewhere once their lease expires`
        ))
        const now = () => process.exit(1)
        setTimeout(now, flushMs)
        process.stdout.write("", now)
      }
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          timer = setTimeout(exit, deadlineMs).unref()
        })
      )
    })
  )
  return arm.pipe(Layer.provide(main.pipe(Layer.provide(disarm))))
}

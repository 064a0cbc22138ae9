import { Duration, Schedule } from "effect"
import { backoff } from "./Backoff.ts"

/** Every Schedule of the outbox worker, named here so that cadences can be read in one place. */

/** Writing completions while Postgres is unavailable: 100 ms doubling to 5 s, jittered. */
export const completionWriteRetry = backoff(100, 5_000)

/** Reconnecting LISTEN: 250 ms doubling to 30 s; a session that lived a minute starts over. */
export const listenerReconnect = backoff(250, 30_000).pipe(Schedule.resetAfter("1 minute"))

/**
 * Restarting a loop that died: 500 ms doubling to 10 s, at most 5 restarts in a row. A loop that
 * then ran for a minute without dying starts with a fresh budget; one that cannot stay up ends the process.
 */
export const loopRestart = backoff(500, 10_000).pipe(
  Schedule.intersect(Schedule.recurs(5)),
  Schedule.resetAfter("1 minute")
)

/** How long a failing claim waits before the next try, whatever wake-ups arrive meanwhile. */
export const claimFailurePause = Duration.seconds(1)

/**
 * Heartbeats (lease extension, watchdog, replica row): four per lease period, so three can be
 * missed (a stalled event loop, a slow statement) before a live run loses its lease.
 */
export const heartbeatEvery = (leaseMs: number) =>
  Schedule.spaced(Duration.millis(Math.max(75, Math.floor(leaseMs / 4))))

/** The reaper of expired leases: four times per lease period, so recovery takes about LEASE_MS * 1.25. */
export const reaperEvery = (leaseMs: number) => Schedule.spaced(Duration.millis(Math.max(75, Math.floor(leaseMs / 4))))

/** Pruning done rows and silent replicas. */
export const pruneEvery = Schedule.spaced("1 minute")

/** Sampling the `outbox.rows` gauge. */
export const rowGaugeEvery = Schedule.spaced("15 seconds")

/** The safety-net poll for work whose NOTIFY was lost. */
export const pollEvery = (pollIntervalMs: number) => Schedule.spaced(Duration.millis(pollIntervalMs))

/** How often shutdown checks whether the running handlers have finished. */
export const drainCheck = Schedule.spaced("20 millis")

/** Startup database steps: 200 ms doubling to 5 s, for at most STARTUP_TIMEOUT_MS. */
export const startupRetry = (timeoutMs: number) => backoff(200, 5_000).pipe(Schedule.upTo(Duration.millis(timeoutMs)))

import { Config } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { nonNegativeInteger, positiveInteger } from "./IntegerSettings.ts"

/** How long a stop waits for running handlers (docker-compose.yml's stop_grace_period is checked against it). */
export const shutdownGraceMsConfig = nonNegativeInteger("SHUTDOWN_GRACE_MS", 10_000)

/** Every setting of one orchestrator replica; the README's settings table mirrors this. */
export const WorkerConfig = Config.all({
  workerId: Config.string("WORKER_ID").pipe(
    Config.withDefault(`${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`)
  ),
  concurrency: positiveInteger("WORKER_CONCURRENCY", 16),
  // An upper bound: Pace.ts queues only what the handler slots start within ~100 ms at the recent
  // average run time. 512 for fast handlers: claims of ~256 rows keep the local queue from running
  // dry while the next claim is in flight (no-op drain ~3,400 -> ~8,000/s on one replica, loaded
  // 2-core machine); runs of ~100 ms queue 16 (slower ones fewer), so a burst is shared between replicas.
  prefetch: nonNegativeInteger("WORKER_PREFETCH", 512),
  pollIntervalMs: positiveInteger("POLL_INTERVAL_MS", 5_000),
  // Liveness, not duration: a heartbeat extends the lease every LEASE_MS / 4 and HANDLER_TIMEOUT_MS
  // bounds a run, so a short lease recovers a SIGKILLed replica's rows in about LEASE_MS + LEASE_MS / 4.
  leaseMs: Config.integer("LEASE_MS").pipe(
    Config.validate({
      message: "must be an integer >= 300 (heartbeats run every LEASE_MS / 4)",
      validation: (n) => n >= 300
    }),
    Config.withDefault(2_000)
  ),
  maxAttempts: positiveInteger("MAX_ATTEMPTS", 10),
  retryBaseMs: positiveInteger("RETRY_BASE_MS", 1_000),
  retryMaxMs: positiveInteger("RETRY_MAX_MS", 300_000),
  handlerTimeoutMs: positiveInteger("HANDLER_TIMEOUT_MS", 300_000),
  shutdownGraceMs: shutdownGraceMsConfig,
  listenProbeMs: positiveInteger("LISTEN_PROBE_MS", 10_000),
  maxPayloadBytes: positiveInteger("MAX_PAYLOAD_BYTES", 1_048_576),
  doneRetentionHours: nonNegativeInteger("DONE_RETENTION_HOURS", 168)
})

export type WorkerConfig = Config.Config.Success<typeof WorkerConfig>

/** The chaos run's settings, all through Effect `Config` (a bad value names the variable and exits 1). */
import { Config, Option, Redacted } from "effect"

const count = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be an integer >= 0", validation: (n) => n >= 0 }),
    Config.withDefault(fallback)
  )

const rate = (name: string, fallback: number) =>
  Config.number(name).pipe(
    Config.validate({ message: "must be between 0 and 1", validation: (n) => n >= 0 && n <= 1 }),
    Config.withDefault(fallback)
  )

export const ChaosSettings = Config.all({
  /** Checkouts to place (`npm run chaos` places 1,000; the run in `npm test` a few dozen). */
  orders: count("CHAOS_ORDERS", 1000),
  /** Checkouts in flight at once. */
  concurrency: count("CHAOS_CONCURRENCY", 8),
  replicas: count("CHAOS_REPLICAS", 3),
  /** Without it, a private embedded Postgres (which the run restarts once); with it, a database created on that server. */
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
  /**
   * The edge API's client credential, sent as `Authorization: Bearer <key>` and `X-Api-Key: <key>`.
   * The edge API is started with `EDGE_API_KEYS=<this key>`; the services' SERVICE_TOKEN is
   * refused there.
   */
  edgeApiKey: Config.redacted("CHAOS_EDGE_API_KEY").pipe(Config.withDefault(Redacted.make("dev-edge-key"))),
  serviceToken: Config.redacted("SERVICE_TOKEN").pipe(Config.withDefault(Redacted.make("dev-service-token"))),
  /** The orchestrator's per-call timeout; the proxies' delays are longer than it. */
  stepTimeoutMs: count("SAGA_STEP_TIMEOUT_MS", 1000),
  /** Per request through a proxy: answer 503 without forwarding. */
  failBeforeRate: rate("CHAOS_PROXY_FAIL_BEFORE_RATE", 0.05),
  /** Forward (the effect is applied), then answer 503 instead of the real response. */
  failAfterRate: rate("CHAOS_PROXY_FAIL_AFTER_RATE", 0.05),
  /** Forward only after SAGA_STEP_TIMEOUT_MS + 500 ms: the caller has given up, the effect still happens. */
  delayRate: rate("CHAOS_PROXY_DELAY_RATE", 0.03),
  /** Reset the connection, half of them before forwarding and half after. */
  resetRate: rate("CHAOS_PROXY_RESET_RATE", 0.04),
  /** Mean pause between two process/connection faults (replica SIGKILL, pg_terminate_backend). */
  faultEveryMs: count("CHAOS_FAULT_EVERY_MS", 5000),
  /**
   * The replicas' LEASE_MS. The orchestrator's default: with 1500 on a loaded machine, delayed or
   * failed heartbeats lose leases, and every lost lease uses up one of an event's MAX_ATTEMPTS.
   */
  leaseMs: count("CHAOS_LEASE_MS", 5000),
  /** How long the orders may take to settle after the last checkout before the run gives up. */
  settleTimeoutMs: count("CHAOS_SETTLE_TIMEOUT_MS", 300_000),
  /** Where the processes' logs go (one file each). */
  logDir: Config.option(Config.string("CHAOS_LOG_DIR"))
})
export type ChaosSettings = Config.Config.Success<typeof ChaosSettings>

export const externalUrl = (settings: ChaosSettings) => Option.map(settings.databaseUrl, Redacted.value)

import { SqlClient } from "@effect/sql"
import { Deferred, Effect, Schedule, type Scope } from "effect"
import { join } from "node:path"
import { withCredentials } from "../../packages/db/src/DatabaseUrl.ts"
import { type Child, failWhenExits, spawnScoped } from "./Processes.ts"
import type { StartSettings } from "./StartSettings.ts"

export type Spawn = (
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  extra?: Partial<Parameters<typeof spawnScoped>[0]>
) => Effect.Effect<Child, never, Scope.Scope>

/** Spawns a scoped child of `npm start`, run from `root`, logging to `<logDir>/<name>.log`. */
export const makeSpawn = (root: string, logDir: string, graceMs: number): Spawn => (name, script, env, extra = {}) =>
  spawnScoped({ name, script, cwd: root, env, logFile: join(logDir, `${name}.log`), graceMs, ...extra })

/** The embedded Postgres as a child; returns once it says it is ready. Spawn it first, so its scope closes last. */
export const startEmbeddedPostgres = (spawn: Spawn, dataDir: string, port: number) =>
  Effect.gen(function*() {
    const ready = yield* Deferred.make<void>()
    const pg = yield* spawn("postgres", "scripts/demo/postgres.ts", process.env, {
      args: [join(dataDir, "postgres"), String(port)],
      onStdout: (line) => {
        if (line.startsWith("ready ")) Deferred.unsafeDone(ready, Effect.void)
      }
    })
    yield* Effect.raceFirst(Deferred.await(ready), failWhenExits(pg))
  })

const waitHealthy = (url: string) =>
  Effect.tryPromise(() => fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).pipe(
    Effect.filterOrFail((response) => response.ok),
    Effect.retry(Schedule.spaced("200 millis"))
  )

export const replicaIds = ["orchestrator-1", "orchestrator-2"]

/**
 * The four services and two orchestrator replicas as children. Returns once every service answers
 * /health and both replicas have a fresh heartbeat, with an effect that fails when any child exits.
 */
export const startSystem = (spawn: Spawn, settings: StartSettings, adminUrl: string) =>
  Effect.gen(function*() {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: adminUrl,
      EDGE_API_KEYS: settings.edgeKeys,
      EDGE_API_PORT: String(settings.edgePort),
      INVENTORY_PORT: String(settings.inventoryPort),
      PAYMENTS_PORT: String(settings.paymentsPort),
      ORDERS_PORT: String(settings.ordersPort),
      INVENTORY_SERVICE_URL: `http://127.0.0.1:${settings.inventoryPort}`,
      PAYMENTS_SERVICE_URL: `http://127.0.0.1:${settings.paymentsPort}`,
      ORDERS_SERVICE_URL: `http://127.0.0.1:${settings.ordersPort}`
    }
    // The services log in as their own roles by themselves; the orchestrator takes its credentials
    // from DATABASE_URL as given, so here it is given its least-privilege role.
    const orchestratorUrl = withCredentials(adminUrl, "orchestrator", settings.orchestratorPassword)
    const children = [
      yield* spawn("inventory", "services/inventory/src/main.ts", env),
      yield* spawn("payments", "services/payments/src/main.ts", env),
      yield* spawn("orders", "services/orders/src/main.ts", env),
      yield* spawn("edge-api", "services/edge-api/src/main.ts", env),
      ...(yield* Effect.forEach(
        replicaIds,
        (id) => spawn(id, "services/orchestrator/src/main.ts", { ...env, DATABASE_URL: orchestratorUrl, WORKER_ID: id })
      ))
    ]
    const anyExits = Effect.raceAll(children.map(failWhenExits))

    const sql = yield* SqlClient.SqlClient
    const replicasUp = sql<{ n: number }>`
      select count(*)::int as n from worker_heartbeats where worker_id = any(${replicaIds}) and last_seen_at > now() - interval '15 seconds'`
      .pipe(
        Effect.filterOrFail((rows) => rows[0]!.n === replicaIds.length),
        Effect.retry(Schedule.spaced("200 millis"))
      )
    yield* Effect.raceFirst(
      Effect.all([
        ...[settings.inventoryPort, settings.paymentsPort, settings.ordersPort, settings.edgePort].map((port) =>
          waitHealthy(`http://127.0.0.1:${port}`)
        ),
        replicasUp
      ], { concurrency: "unbounded" }),
      anyExits
    )
    return { anyExits }
  })

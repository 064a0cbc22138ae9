import { Effect, Redacted, Schedule } from "effect"
import { withCredentials } from "../../packages/db/src/DatabaseUrl.ts"
import { freePort } from "../../packages/db/src/freePort.ts"
import { call, retried } from "./Http.ts"
import { type Slot, spawnNode, supervised } from "./Processes.ts"
import { startProxy } from "./Proxy.ts"
import type { ChaosSettings } from "./Settings.ts"
import { SCARCE, SKUS } from "./Workload.ts"

const waitHealthy = (name: string, port: number) =>
  call("GET", `http://127.0.0.1:${port}/health`, {}).pipe(
    Effect.flatMap((answer) => (answer.status === 200 ? Effect.void : Effect.fail(answer))),
    Effect.retry(Schedule.spaced("200 millis")),
    Effect.timeoutFail({
      duration: "120 seconds",
      onTimeout: () => new Error(`${name} did not become healthy in 120 s`)
    })
  )

export const direct = (p: number) => `http://127.0.0.1:${p}`

/**
 * The system under test, as supervised OS processes: the four services, a fault-injecting proxy in
 * front of orders, inventory and payments (the edge API talks to payments directly: the faults
 * under test are the orchestrator's) and `settings.replicas` orchestrator replicas. Returns once
 * every service is healthy.
 */
export const startSystem = (settings: ChaosSettings, databaseUrl: string, logDir: string) =>
  Effect.gen(function*() {
    const token = Redacted.value(settings.serviceToken)
    const edgeKey = Redacted.value(settings.edgeApiKey)
    const ports = yield* Effect.all(Array.from({ length: 4 }, () => Effect.promise(freePort)))
    const port = { edge: ports[0]!, inventory: ports[1]!, payments: ports[2]!, orders: ports[3]! }
    const common = { DATABASE_URL: databaseUrl, SERVICE_TOKEN: token, STARTUP_TIMEOUT_MS: "120000" }
    const service = (name: string, script: string, env: Record<string, string>) =>
      supervised(name, spawnNode(name, script, { ...common, ...env }, logDir))
    const services: Array<Slot> = [
      yield* service("inventory", "services/inventory/src/main.ts", { INVENTORY_PORT: String(port.inventory) }),
      yield* service("payments", "services/payments/src/main.ts", { PAYMENTS_PORT: String(port.payments) }),
      yield* service("orders", "services/orders/src/main.ts", { ORDERS_PORT: String(port.orders) }),
      // The edge API talks to payments directly: the faults under test are the orchestrator's.
      yield* service("edge-api", "services/edge-api/src/main.ts", {
        EDGE_API_PORT: String(port.edge),
        PAYMENTS_SERVICE_URL: direct(port.payments),
        EDGE_API_KEYS: edgeKey
      })
    ]

    const rates = {
      failBefore: settings.failBeforeRate,
      failAfter: settings.failAfterRate,
      delay: settings.delayRate,
      reset: settings.resetRate,
      delayMs: settings.stepTimeoutMs + 500
    }
    const proxies = {
      orders: yield* startProxy(direct(port.orders), rates),
      inventory: yield* startProxy(direct(port.inventory), rates),
      payments: yield* startProxy(direct(port.payments), rates)
    }
    const orchestratorUrl = withCredentials(databaseUrl, "orchestrator", Redacted.make("orchestrator-dev-password"))
    let generation = 0
    /** Each slot's current WORKER_ID, to tell a replica that is up (it has a heartbeat row) from one still starting. */
    const workerIds: Array<string> = []
    const replica = (i: number) =>
      supervised(
        `replica-${i}`,
        Effect.suspend(() => {
          const workerId = `chaos-${i}-${++generation}`
          workerIds[i - 1] = workerId
          return spawnNode(`replica-${i}`, "services/orchestrator/src/main.ts", {
            DATABASE_URL: orchestratorUrl,
            SERVICE_TOKEN: token,
            WORKER_ID: workerId,
            ORDERS_SERVICE_URL: proxies.orders.url,
            INVENTORY_SERVICE_URL: proxies.inventory.url,
            PAYMENTS_SERVICE_URL: proxies.payments.url,
            SAGA_STEP_TIMEOUT_MS: String(settings.stepTimeoutMs),
            STARTUP_TIMEOUT_MS: "120000",
            POLL_INTERVAL_MS: "1000",
            LEASE_MS: String(settings.leaseMs),
            CIRCUIT_COOLDOWN_MS: "1000",
            SAGA_INLINE_RETRY_MAX_MS: "1000",
            SAGA_DEAD_LETTER_SWEEP_MS: "2000"
          }, logDir)
        })
      )
    const replicas: Array<Slot> = []
    for (let i = 1; i <= settings.replicas; i++) replicas.push(yield* replica(i))

    yield* Effect.all([
      waitHealthy("inventory", port.inventory),
      waitHealthy("payments", port.payments),
      waitHealthy("orders", port.orders),
      waitHealthy("edge-api", port.edge)
    ], { concurrency: "unbounded" })

    const serviceHeaders = { authorization: `Bearer ${token}` }
    const edgeHeaders = (key: string) => ({
      authorization: `Bearer ${edgeKey}`,
      "x-api-key": edgeKey,
      "idempotency-key": key
    })
    return { port, services, proxies, replicas, workerIds, serviceHeaders, edgeHeaders }
  })

export type System = Effect.Effect.Success<ReturnType<typeof startSystem>>

/** Plenty of everything but the scarce sku, of which about a third of the demand fits. Returns the stock set. */
export const stockUp = (system: System, orders: number, runId: string) =>
  Effect.gen(function*() {
    const scarceStock = Math.max(3, Math.round(orders / 6))
    const onHandBefore: Record<string, number> = {}
    for (const sku of SKUS) {
      const onHand = sku === SCARCE ? scarceStock : 1_000_000
      const headers = { ...system.serviceHeaders, "idempotency-key": `chaos-${runId}-stock-${sku}` }
      yield* call("PUT", `${direct(system.port.inventory)}/stock/${sku}`, headers, { onHand }).pipe(
        retried("30 seconds"),
        Effect.filterOrDieMessage((answer) => answer.status === 200, `could not set the stock of ${sku}`)
      )
      onHandBefore[sku] = onHand
    }
    return onHandBefore
  })

/**
 * A worker process SIGKILLed between two steps of an order saga: createOrder has succeeded,
 * reserveStock's request is held open by the fixture. The real entrypoint (src/main.ts), started
 * next, takes the saga over once the lease expires and finishes it; every service effect is
 * applied once.
 */
import { TestDatabase } from "@ecommerce/db/testing"
import { testToken } from "@ecommerce/http-kit/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterEach, inject } from "vitest"
import { expectNoLeakedProcesses, trackProcess } from "../fixtures/processes.ts"
import { awaitStatus, checkoutOf, effectsOf, placeOrder, ServiceUrls, SystemLive } from "../saga-fixtures/system.ts"

const System = SystemLive({ adminUrl: inject("adminUrl"), template: inject("templateDatabase") })

const holdingWorker = fileURLToPath(new URL("../saga-fixtures/holdingWorker.ts", import.meta.url))
const mainEntry = fileURLToPath(new URL("../../src/main.ts", import.meta.url))

afterEach(expectNoLeakedProcesses)

/** A worker OS process (node + tsx), killed by its own pid when the test's scope closes. */
const startWorker = (entry: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = trackProcess(spawn(process.execPath, ["--import", "tsx", entry], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"]
      }))
      const output: Array<string> = []
      child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()))
      child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()))
      return { child, output }
    }),
    ({ child }) =>
      Effect.sync(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")))
  )

const exited = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

layer(System, { excludeTestServices: true })("crash between two saga steps", (it) => {
  it.scoped(
    "SIGKILL while reserveStock is in flight: another worker finishes the saga, each effect applied once",
    () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const db = yield* TestDatabase
        const urls = yield* ServiceUrls
        const env = {
          DATABASE_URL: db.url,
          ORDERS_SERVICE_URL: urls.orders,
          INVENTORY_SERVICE_URL: urls.inventory,
          PAYMENTS_SERVICE_URL: urls.payments,
          SERVICE_TOKEN: Redacted.value(testToken),
          LEASE_MS: "1000",
          POLL_INTERVAL_MS: "500"
        }
        const [before] = yield* sql<{ reserved: number }>`select reserved from inventory.stock where sku = 'MUG-BLUE'`

        const doomed = yield* startWorker(holdingWorker, env)
        const orderId = yield* placeOrder(checkoutOf())
        // The fixture prints HOLDING once the reserve request is in flight.
        yield* Effect.sleep("100 millis").pipe(
          Effect.repeat({ until: () => doomed.output.join("").includes("HOLDING") || doomed.child.exitCode !== null }),
          Effect.timeoutFail({
            duration: "45 seconds",
            onTimeout: () => new Error(`the holding worker never held: ${doomed.output.join("")}`)
          })
        )
        expect(doomed.child.exitCode).toBe(null)
        const [saga] = yield* sql<{ id: string; state: string; currentStep: string }>`
        select id::text as id, state, current_step as "currentStep" from saga_instances where aggregate_id = ${orderId}`
        expect(saga).toMatchObject({ state: "running", currentStep: "reserveStock" })
        expect(doomed.output.join("")).toContain(`HOLDING ${saga!.id}:reserveStock:forward`)

        doomed.child.kill("SIGKILL")
        yield* exited(doomed.child)

        const survivor = yield* startWorker(mainEntry, env)
        const settled = yield* awaitStatus(orderId).pipe(
          Effect.mapError((error) => new Error(`${error.message}; worker output:\n${survivor.output.join("")}`))
        )
        expect(settled).toEqual({ status: "CONFIRMED", reason: null })
        expect(yield* effectsOf(orderId)).toEqual({ order: "CONFIRMED", reservation: "HELD", payment: "CAPTURED" })

        // Completed steps were not run again; the interrupted one ran once more, with the same key.
        const log = yield* sql<{ step: string; attempts: number; status: string }>`
        select step, attempts, status from saga_steps where saga_id = ${
          saga!.id
        } and phase = 'forward' order by started_at`
        expect(log).toEqual([
          { step: "authorization", attempts: 1, status: "succeeded" },
          { step: "verifyOrder", attempts: 1, status: "succeeded" },
          { step: "createOrder", attempts: 1, status: "succeeded" },
          { step: "reserveStock", attempts: 2, status: "succeeded" },
          { step: "capturePayment", attempts: 1, status: "succeeded" },
          { step: "confirmOrder", attempts: 1, status: "succeeded" }
        ])
        // Each service effect once, counted on the service side by idempotency key and natural key.
        const keys = yield* sql<{ service: string; key: string }>`
        select 'orders' as service, key from orders.idempotency_keys where key like ${`${saga!.id}:%`}
        union all select 'inventory', key from inventory.idempotency_keys where key like ${`${saga!.id}:%`}
        union all select 'payments', key from payments.idempotency_keys where key like ${`${saga!.id}:%`}
        order by 1, 2`
        expect(keys.map((k) => `${k.service} ${k.key.slice(37)}`)).toEqual([
          "inventory reserveStock:forward",
          "orders confirmOrder:forward",
          "orders createOrder:forward",
          "payments capturePayment:forward"
        ])
        const [after] = yield* sql<{ reserved: number }>`select reserved from inventory.stock where sku = 'MUG-BLUE'`
        expect(after!.reserved).toBe(before!.reserved + 2)
        const [outbox] = yield* sql<{ status: string }>`select status from outbox where aggregate_id = ${orderId}`
        expect(outbox?.status).toBe("done")
      }),
    120_000
  )
})

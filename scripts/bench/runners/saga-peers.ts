/**
 * The saga's peers for the benchmark, one process per round. It takes every pending OrderPlaced
 * event from the outbox (marking them done, so our orchestrator never sees them) and runs the
 * OrderPlaced saga's forward path for each: GET /payments/:id (verifyOrder's check of the
 * authorization), POST /orders, POST /reservations, POST /payments/capture/:id with the capture
 * terms, POST /orders/:id/confirmation (the same requests, headers and bodies our saga sends), then
 * settles the ledger row.
 * - BENCH_MODE=dbos: a DBOS Transact workflow with one step per call (+ the ledger update as a
 *   step: six steps), started on a queue with concurrency BENCH_CONCURRENCY and BENCH_POLL_MS queue polling.
 * - BENCH_MODE=bare: the five calls in a plain loop at the same concurrency, no persistence, no ledger.
 * BENCH_SEQUENTIAL=1 runs one saga at a time (unloaded latency). Prints "ready", starts on a "go"
 * line on stdin (so that launching DBOS is not measured), then prints one JSON line.
 * The happy path only: the benchmark's orders are all approved with plenty of stock (a non-2xx throws).
 */
import { DBOS } from "@dbos-inc/dbos-sdk"
import pg from "pg"

interface OrderPlaced {
  readonly orderId: string
  readonly customerId: string
  readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number; readonly unitPrice: number }>
  readonly amount: number
  readonly currency: string
  readonly authorizationId: string
}

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is required`)
  return value
}
const mode = env("BENCH_MODE")
const concurrency = Number(env("BENCH_CONCURRENCY"))
const sequential = process.env.BENCH_SEQUENTIAL === "1"
const urls = {
  orders: env("ORDERS_SERVICE_URL"),
  inventory: env("INVENTORY_SERVICE_URL"),
  payments: env("PAYMENTS_SERVICE_URL")
}
const token = env("SERVICE_TOKEN")
const pool = new pg.Pool({ connectionString: env("DATABASE_URL"), max: 4 })

const call = async (url: string, key: string | undefined, body?: unknown) => {
  const response = await fetch(url, {
    method: key === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(key === undefined ? {} : { "idempotency-key": key }),
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text}`)
}

const calls = (order: OrderPlaced, key: (step: string) => string) =>
  [
    () => call(`${urls.payments}/payments/${order.authorizationId}`, undefined),
    () =>
      call(`${urls.orders}/orders`, key("createOrder"), {
        orderId: order.orderId,
        customerId: order.customerId,
        items: order.items,
        amount: order.amount,
        currency: order.currency
      }),
    () =>
      call(`${urls.inventory}/reservations`, key("reserveStock"), {
        orderId: order.orderId,
        items: order.items.map(({ quantity, sku }) => ({ sku, quantity }))
      }),
    () =>
      call(`${urls.payments}/payments/capture/${order.authorizationId}`, key("capturePayment"), {
        orderId: order.orderId,
        amount: order.amount,
        currency: order.currency
      }),
    () => call(`${urls.orders}/orders/${order.orderId}/confirmation`, key("confirmOrder"))
  ] as const

const stepNames = ["verifyOrder", "createOrder", "reserveStock", "capturePayment", "confirmOrder"]

const settle = (orderId: string) =>
  pool.query(
    "update order_ledger set status = 'CONFIRMED', updated_at = now() where order_id = $1 and status = 'PENDING'",
    [orderId]
  )

const orderSaga = DBOS.registerWorkflow(async (order: OrderPlaced) => {
  const id = DBOS.workflowID!
  const steps = calls(order, (step) => `${id}:${step}:forward`)
  for (let i = 0; i < steps.length; i++) await DBOS.runStep(steps[i]!, { name: stepNames[i]! })
  await DBOS.runStep(async () => {
    await settle(order.orderId)
  }, { name: "settleLedger" })
  return Date.now()
}, { name: "orderSaga" })

/** Runs `work` over `items` with at most `limit` in flight. */
const pooled = async <A>(items: ReadonlyArray<A>, limit: number, work: (item: A) => Promise<void>) => {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!)
  }))
}

const main = async () => {
  if (mode === "dbos") {
    DBOS.setConfig({
      name: "bench-sagas",
      systemDatabaseUrl: env("DBOS_SYSTEM_DATABASE_URL"),
      logLevel: "error",
      runAdminServer: false
    })
    await DBOS.launch()
    await DBOS.registerQueue("sagas", { concurrency, minPollingIntervalMs: Number(env("BENCH_POLL_MS")) })
  }
  console.log("ready")
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()))
  const taken = await pool.query<{ payload: OrderPlaced }>(
    `update outbox set status = 'done', processed_at = now()
     where event_type = 'OrderPlaced' and status = 'pending' returning payload`
  )
  const orders = taken.rows.map((r) => r.payload)
  const cpu0 = process.cpuUsage()
  const started = Date.now()
  let finished = started
  const latenciesMs: Array<number> = []
  if (mode === "dbos") {
    const runOne = async (order: OrderPlaced) => {
      const enqueued = Date.now()
      const handle = await DBOS.startWorkflow(orderSaga, { queueName: "sagas", workflowID: `saga-${order.orderId}` })(
        order
      )
      // The workflow returns the time its last step ended: result delivery is not part of the saga.
      const ended = await handle.getResult()
      finished = Math.max(finished, ended)
      latenciesMs.push(ended - enqueued)
    }
    if (sequential) { for (const order of orders) await runOne(order) }
    else await Promise.all(orders.map(runOne))
  } else {
    await pooled(orders, sequential ? 1 : concurrency, async (order) => {
      const began = Date.now()
      for (const step of calls(order, (step) => `bare-${order.orderId}:${step}`)) await step()
      finished = Date.now()
      latenciesMs.push(finished - began)
    })
  }
  const seconds = (finished - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  console.log(JSON.stringify({ sagas: orders.length, seconds, cpuMs: (cpu.user + cpu.system) / 1000, latenciesMs }))
  if (mode === "dbos") await DBOS.shutdown()
  await pool.end()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})

/**
 * `npm run chaos`: the whole system as OS processes (Postgres, the four services, CHAOS_REPLICAS
 * orchestrator replicas), a fault-injecting proxy in front of orders, inventory and payments,
 * CHAOS_ORDERS checkouts through the edge API (declined cards, capture declines, a scarce sku,
 * cancellations), and meanwhile replicas SIGKILLed and restarted, their connections terminated and
 * Postgres restarted once. Then it checks, through the services' APIs (the database where no API
 * exists), that every order is terminal and stock and money are conserved (Checks.ts), prints one
 * summary line, and exits 1 on any violation (each printed on stderr with its evidence).
 */
import { NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Cause, Data, Effect, Fiber, Option, Random, Redacted, Ref, Schedule } from "effect"
import { randomBytes } from "node:crypto"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { withCredentials } from "../../packages/db/src/DatabaseUrl.ts"
import { freePort } from "../../packages/db/src/freePort.ts"
import { migrate } from "../../packages/db/src/Migrations.ts"
import { applyRoles } from "../../packages/db/src/Roles.ts"
import { type Line, type OrderSnapshot, type Snapshot, violations } from "./Checks.ts"
import { call, retried } from "./Http.ts"
import { admin, chaosPostgres } from "./Postgres.ts"
import { root, type Slot, spawnNode, supervised } from "./Processes.ts"
import { type FaultKind, startProxy } from "./Proxy.ts"
import { ChaosSettings, externalUrl } from "./Settings.ts"

class ChaosViolations extends Data.TaggedError("ChaosViolations")<{ readonly count: number }> {}

const SCARCE = "HOODIE-GREY-L"
const SKUS = ["MUG-BLUE", "SOCKS-3PACK", "POSTER-MAP", SCARCE] as const

/** Deterministic mix by position: a card, lines (every fourth wants the scarce sku), and whether to cancel. */
const workload = (i: number) => ({
  card: i % 10 === 3 ? "tok_declined" : i % 10 === 7 ? "tok_capture_declined" : "tok_visa",
  items: i % 4 === 0
    ? [{ sku: SCARCE, quantity: 1 + (i % 3) }, { sku: "MUG-BLUE", quantity: 1 }]
    : [{ sku: "MUG-BLUE", quantity: 1 + (i % 2) }, { sku: "SOCKS-3PACK", quantity: 1 }, {
      sku: "POSTER-MAP",
      quantity: 1
    }],
  /** Cancelled right after checkout (while the saga runs) or after all checkouts (mostly confirmed by then). */
  cancel: i % 6 === 1 ? "early" as const : i % 6 === 4 ? "late" as const : undefined
})

const waitHealthy = (name: string, port: number) =>
  call("GET", `http://127.0.0.1:${port}/health`, {}).pipe(
    Effect.flatMap((answer) => (answer.status === 200 ? Effect.void : Effect.fail(answer))),
    Effect.retry(Schedule.spaced("200 millis")),
    Effect.timeoutFail({
      duration: "120 seconds",
      onTimeout: () => new Error(`${name} did not become healthy in 120 s`)
    })
  )

const program = Effect.gen(function*() {
  const settings = yield* ChaosSettings
  const started = Date.now()
  const runId = randomBytes(4).toString("hex")
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  const logDir = Option.getOrElse(settings.logDir, () => join(root, ".tmp", "chaos", `run-${stamp}`))
  mkdirSync(logDir, { recursive: true })

  const db = yield* chaosPostgres(externalUrl(settings))
  yield* migrate().pipe(
    Effect.zipRight(applyRoles),
    Effect.provide(PgClient.layer({ url: Redacted.make(db.url), maxConnections: 2 }))
  )

  const token = Redacted.value(settings.serviceToken)
  const edgeKey = Redacted.value(settings.edgeApiKey)
  const ports = yield* Effect.all(Array.from({ length: 4 }, () => Effect.promise(freePort)))
  const port = { edge: ports[0]!, inventory: ports[1]!, payments: ports[2]!, orders: ports[3]! }
  const direct = (p: number) => `http://127.0.0.1:${p}`
  const common = { DATABASE_URL: db.url, SERVICE_TOKEN: token, STARTUP_TIMEOUT_MS: "120000" }
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
  const orchestratorUrl = withCredentials(db.url, "orchestrator", Redacted.make("orchestrator-dev-password"))
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

  // Plenty of everything but the scarce sku, of which about a third of the demand fits.
  const scarceStock = Math.max(3, Math.round(settings.orders / 6))
  const onHandBefore: Record<string, number> = {}
  for (const sku of SKUS) {
    const onHand = sku === SCARCE ? scarceStock : 1_000_000
    const headers = { ...serviceHeaders, "idempotency-key": `chaos-${runId}-stock-${sku}` }
    yield* call("PUT", `${direct(port.inventory)}/stock/${sku}`, headers, { onHand }).pipe(
      retried("30 seconds"),
      Effect.filterOrDieMessage((answer) => answer.status === 200, `could not set the stock of ${sku}`)
    )
    onHandBefore[sku] = onHand
  }

  // Process and connection faults, until the checkouts are placed.
  const kills = yield* Ref.make(0)
  const terminated = yield* Ref.make(0)
  const pgRestarts = yield* Ref.make(0)
  const crashes = yield* Ref.make<Array<string>>([])
  const placedCount = yield* Ref.make(0)

  const faultErrors: Array<string> = []
  const noteFaultError = (what: string) => (defect: unknown) =>
    Effect.sync(() => faultErrors.push(`${what}: ${String(defect)}`))
  const terminateOrchestrator = admin(db.url, async (client) => {
    const result = await client.query<{ n: number }>(
      "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where usename = 'orchestrator'"
    )
    return result.rows[0]?.n ?? 0
  }).pipe(
    Effect.flatMap((n) => Ref.update(terminated, (t) => t + n)),
    Effect.catchAllDefect(noteFaultError("terminate"))
  )

  // Kill a replica that is up (has a heartbeat row), and never the last one up: the run must progress.
  const killReplica = admin(
    db.url,
    async (client) =>
      (await client.query<{ id: string }>("select worker_id as id from worker_heartbeats")).rows.map((row) => row.id)
  ).pipe(
    Effect.flatMap((up) => {
      const live = replicas.filter((_, i) => up.includes(workerIds[i]!))
      if (live.length < 2) return Effect.void
      return Effect.flatMap(
        Random.nextIntBetween(0, live.length),
        (n) => Effect.zipRight(live[n]!.restart("SIGKILL"), Ref.update(kills, (k) => k + 1))
      )
    }),
    Effect.catchAllDefect(noteFaultError("kill"))
  )

  const faults = Effect.gen(function*() {
    const pause = yield* Random.nextRange(0.5, 1.5)
    yield* Effect.sleep(Math.round(settings.faultEveryMs * pause))
    yield* (yield* Random.next) < 0.5 ? killReplica : terminateOrchestrator
  }).pipe(Effect.forever)

  const restartPostgresOnce = Option.match(db.restart, {
    onNone: () => Effect.void,
    onSome: (restart) =>
      Effect.gen(function*() {
        yield* Ref.get(placedCount).pipe(
          Effect.repeat({
            until: (n) => n >= Math.ceil(settings.orders * 0.4),
            schedule: Schedule.spaced("100 millis")
          })
        )
        yield* restart
        yield* Ref.update(pgRestarts, (n) => n + 1)
      })
  })

  // A process that exits by itself is restarted and counted (its log is in logDir).
  const watchdog = Effect.forEach([...services, ...replicas], (slot) =>
    slot.ensureRunning.pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.void,
        onSome: (code) => Ref.update(crashes, (list) => [...list, `${slot.name} exited ${code}`])
      }))
    )).pipe(Effect.zipRight(Effect.sleep("500 millis")), Effect.forever)

  const watchdogFiber = yield* Effect.forkScoped(watchdog)
  const faultFiber = yield* Effect.forkScoped(faults)
  const restartFiber = yield* Effect.forkScoped(restartPostgresOnce)

  // The checkouts.
  const accepted: Array<{ index: number; orderId: string; cancelRequested: boolean }> = []
  const checkoutFailures: Array<string> = []
  let declined = 0
  const cancel = (orderId: string, index: number) =>
    call("POST", `${direct(port.edge)}/orders/${orderId}/cancel`, edgeHeaders(`chaos-${runId}-${index}-cancel`), {
      reason: "chaos: the customer changed their mind"
    }).pipe(
      retried("120 seconds"),
      Effect.flatMap((answer) =>
        answer.status === 202
          ? Effect.void
          : Effect.sync(() =>
            checkoutFailures.push(`cancel of ${orderId} answered ${answer.status} ${JSON.stringify(answer.json)}`)
          )
      ),
      Effect.catchAll((failure) => Effect.sync(() => checkoutFailures.push(`cancel of ${orderId}: ${failure.message}`)))
    )
  const place = (index: number) =>
    Effect.gen(function*() {
      const { card, cancel: when, items } = workload(index)
      const answer = yield* call("POST", `${direct(port.edge)}/checkout`, edgeHeaders(`chaos-${runId}-${index}`), {
        customerId: `chaos-customer-${index % 25}`,
        items,
        currency: "EUR",
        cardToken: card
      }).pipe(retried("120 seconds"), Effect.either)
      yield* Ref.update(placedCount, (n) => n + 1)
      if (answer._tag === "Left") return checkoutFailures.push(`checkout ${index}: ${answer.left.message}`)
      const { json, status } = answer.right
      if (status === 402 && card === "tok_declined") return declined++
      if (status !== 202) return checkoutFailures.push(`checkout ${index} answered ${status} ${JSON.stringify(json)}`)
      const orderId = (json as { orderId: string }).orderId
      accepted.push({ index, orderId, cancelRequested: when !== undefined })
      if (when === "early") yield* cancel(orderId, index)
    })
  yield* Effect.forEach(Array.from({ length: settings.orders }, (_, i) => i), place, {
    concurrency: Math.max(1, settings.concurrency),
    discard: true
  })
  const late = accepted.filter(({ index }) => workload(index).cancel === "late")
  yield* Effect.forEach(late, ({ index, orderId }) => cancel(orderId, index), {
    concurrency: Math.max(1, settings.concurrency),
    discard: true
  })

  // Settle. Process and connection faults go on until four fifths of the orders are settled (so
  // they hit running sagas, not only checkouts); the proxies' faults go on to the end.
  yield* Fiber.join(restartFiber)
  const unsettled = admin(db.url, async (client) => {
    const result = await client.query<{ n: number }>(
      `select ((select count(*) from order_ledger where status = 'PENDING')
             + (select count(*) from outbox where status in ('pending', 'processing')))::int as n`
    )
    return result.rows[0]!.n
  }).pipe(Effect.catchAllDefect(() => Effect.succeed(-1)))
  const settleUntil = (done: (n: number) => boolean) =>
    unsettled.pipe(
      Effect.repeat({ until: done, schedule: Schedule.spaced("1 second") }),
      Effect.timeout(settings.settleTimeoutMs),
      Effect.ignore
    )
  yield* settleUntil((n) => n >= 0 && n <= Math.floor(accepted.length / 5))
  yield* Fiber.interrupt(faultFiber)
  yield* settleUntil((n) => n === 0)
  yield* Fiber.interrupt(watchdogFiber)

  // What the services say now.
  const get = (url: string) =>
    call("GET", url, serviceHeaders).pipe(
      retried("30 seconds"),
      Effect.map((answer) => (answer.status === 200 ? answer.json as Record<string, unknown> : undefined)),
      Effect.orDie
    )
  const orders = yield* Effect.forEach(accepted, ({ cancelRequested, orderId }) =>
    Effect.gen(function*() {
      const view = yield* call("GET", `${direct(port.edge)}/orders/${orderId}`, edgeHeaders(`chaos-${runId}-read`))
        .pipe(
          retried("30 seconds"),
          Effect.map((answer) => (answer.status === 200 ? answer.json as Record<string, unknown> : undefined)),
          Effect.orDie
        )
      const order = yield* get(`${direct(port.orders)}/orders/${orderId}`)
      const reservation = yield* get(`${direct(port.inventory)}/reservations/${orderId}`)
      const payment = view ? yield* get(`${direct(port.payments)}/payments/${String(view.authorizationId)}`) : undefined
      return {
        orderId,
        cancelRequested,
        ledger: view && {
          status: String(view.status),
          reason: (view.reason as string | null) ?? null,
          amount: Number(view.amount),
          authorizationId: String(view.authorizationId),
          items: view.items as ReadonlyArray<Line>
        },
        order: order && String(order.status),
        reservation: reservation &&
          { status: String(reservation.status), items: reservation.items as ReadonlyArray<Line> },
        payment: payment && { status: String(payment.status), amount: Number(payment.amount) }
      } satisfies OrderSnapshot
    }), { concurrency: 16 })
  const stockAfter: Snapshot["stockAfter"] = Object.fromEntries(
    yield* Effect.forEach(
      SKUS,
      (sku) =>
        Effect.map(
          get(`${direct(port.inventory)}/stock/${sku}`),
          (stock) => [sku, { onHand: Number(stock?.onHand), reserved: Number(stock?.reserved) }] as const
        )
    )
  )

  // No API lists authorizations, outbox rows or sagas: read them.
  const dbFacts = yield* admin(db.url, async (client) => {
    const openHolds = await client.query(
      `select a.authorization_id as "authorizationId", a.order_id as "orderId", l.status as ledger
       from payments.authorizations a left join order_ledger l using (order_id)
       where a.status = 'AUTHORIZED' and l.status is distinct from 'CONFIRMED' and l.status is distinct from 'PENDING'`
    )
    const money = await client.query(
      `select (select coalesce(sum(amount) filter (where status in ('CAPTURED', 'REFUNDED')), 0)
                    - coalesce(sum(amount) filter (where status = 'REFUNDED'), 0) from payments.authorizations)::bigint::text as net,
              (select coalesce(sum(amount), 0) from order_ledger where status = 'CONFIRMED')::bigint::text as confirmed`
    )
    const outbox = await client.query(
      `select id::text as id, event_type as "eventType", status, last_error as "lastError"
       from outbox where status in ('pending', 'processing', 'dead') order by id`
    )
    const sagas = await client.query(
      `select id::text as id, saga_type as type, state, aggregate_id as "orderId"
       from saga_instances where state not in ('completed', 'compensated') order by created_at`
    )
    return {
      openHolds: openHolds.rows,
      capturedNet: Number(money.rows[0].net),
      confirmedTotal: Number(money.rows[0].confirmed),
      outboxUnfinished: outbox.rows,
      sagasUnfinished: sagas.rows
    } as Snapshot["db"]
  })

  const found = violations({ orders, onHandBefore, stockAfter, checkoutFailures, db: dbFacts })
  const crashed = yield* Ref.get(crashes)
  for (const line of found) yield* Effect.sync(() => process.stderr.write(`violation: ${line}\n`))
  for (const line of crashed) yield* Effect.sync(() => process.stderr.write(`crash: ${line}\n`))
  for (const line of faultErrors) yield* Effect.sync(() => process.stderr.write(`fault not injected: ${line}\n`))

  const count = (status: string) => orders.filter((o) => o.ledger?.status === status).length
  const injected: Record<FaultKind, number> = { before: 0, after: 0, delay: 0, resetBefore: 0, resetAfter: 0 }
  for (const proxy of Object.values(proxies)) {
    for (const kind of Object.keys(injected) as Array<FaultKind>) injected[kind] += proxy.faults[kind]
  }
  const summary = [
    `chaos: orders=${settings.orders}`,
    `accepted=${accepted.length}`,
    `declined_at_checkout=${declined}`,
    `confirmed=${count("CONFIRMED")}`,
    `cancelled=${count("CANCELLED")}`,
    `needs_attention=${count("NEEDS_ATTENTION")}`,
    `pending=${count("PENDING")}`,
    `cancels_requested=${accepted.filter((o) => o.cancelRequested).length}`,
    `faults=${Object.values(injected).reduce((a, b) => a + b, 0)}` +
    `(503_before=${injected.before},503_after=${injected.after},delay=${injected.delay},` +
    `reset=${injected.resetBefore + injected.resetAfter})`,
    `replica_kills=${yield* Ref.get(kills)}`,
    `connections_terminated=${yield* Ref.get(terminated)}`,
    `pg_restarts=${yield* Ref.get(pgRestarts)}`,
    `crashes=${crashed.length}`,
    `violations=${found.length}`,
    `seconds=${Math.round((Date.now() - started) / 1000)}`,
    `logs=${logDir}`
  ].join(" ")
  yield* Effect.sync(() => process.stdout.write(`${summary}\n`))
  if (found.length > 0) return yield* new ChaosViolations({ count: found.length })
})

NodeRuntime.runMain(
  Effect.scoped(program).pipe(
    Effect.tapErrorCause((cause) =>
      Cause.failureOption(cause).pipe(
        Option.filter((error) => error instanceof ChaosViolations),
        Option.match({
          onSome: () => Effect.void,
          onNone: () => Effect.sync(() => process.stderr.write(`chaos run failed: ${Cause.pretty(cause)}\n`))
        })
      )
    )
  ),
  { disableErrorReporting: true, disablePrettyLogger: true }
)

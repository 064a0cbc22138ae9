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
import { Cause, Data, Effect, Fiber, Option, Redacted, Ref } from "effect"
import { randomBytes } from "node:crypto"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { migrate } from "../../packages/db/src/Migrations.ts"
import { applyRoles } from "../../packages/db/src/Roles.ts"
import { placeCheckouts } from "./Checkouts.ts"
import { violations } from "./Checks.ts"
import { startFaults } from "./Faults.ts"
import { observeDatabase, observeServices, settleUntil } from "./Observe.ts"
import { chaosPostgres } from "./Postgres.ts"
import { root } from "./Processes.ts"
import { ChaosSettings, externalUrl } from "./Settings.ts"
import { summaryLine } from "./Summary.ts"
import { startSystem, stockUp } from "./System.ts"

class ChaosViolations extends Data.TaggedError("ChaosViolations")<{ readonly count: number }> {}

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

  const system = yield* startSystem(settings, db.url, logDir)
  const onHandBefore = yield* stockUp(system, settings.orders, runId)

  // Process and connection faults, until the checkouts are placed.
  const placedCount = yield* Ref.make(0)
  const faults = yield* startFaults(settings, system, db, placedCount)

  const { accepted, checkoutFailures, declined } = yield* placeCheckouts(settings, system, runId, placedCount)

  // Settle. Process and connection faults go on until four fifths of the orders are settled (so
  // they hit running sagas, not only checkouts); the proxies' faults go on to the end.
  yield* Fiber.join(faults.restartFiber)
  const settled = settleUntil(db.url, settings.settleTimeoutMs)
  yield* settled((n) => n >= 0 && n <= Math.floor(accepted.length / 5))
  yield* Fiber.interrupt(faults.faultFiber)
  yield* settled((n) => n === 0)
  yield* Fiber.interrupt(faults.watchdogFiber)

  const { orders, stockAfter } = yield* observeServices(system, accepted, runId)
  const dbFacts = yield* observeDatabase(db.url)

  const found = violations({ orders, onHandBefore, stockAfter, checkoutFailures, db: dbFacts })
  const crashed = yield* faults.crashes
  for (const line of found) yield* Effect.sync(() => process.stderr.write(`violation: ${line}\n`))
  for (const line of crashed) yield* Effect.sync(() => process.stderr.write(`crash: ${line}\n`))
  for (const line of faults.faultErrors) {
    yield* Effect.sync(() => process.stderr.write(`fault not injected: ${line}\n`))
  }

  const summary = summaryLine({
    orders: settings.orders,
    accepted,
    declined,
    snapshots: orders,
    proxies: Object.values(system.proxies),
    counts: yield* faults.counts,
    crashes: crashed.length,
    violations: found.length,
    seconds: Math.round((Date.now() - started) / 1000),
    logDir
  })
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

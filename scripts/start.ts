/**
 * `npm start`: the whole system on one machine, watchable.
 *
 * Without DATABASE_URL it runs the embedded Postgres (data in START_DATA_DIR/postgres, kept between
 * runs); then migrations and roles, the four services, two orchestrator replicas and, unless
 * `--no-demo`, a load generator placing checkouts through the edge API at DEMO_RATE per second.
 * `--orders N` places N, waits until they settle, checks money and stock, and exits (1 if the
 * books do not balance). Every part is a scoped child process in its own process group, so Ctrl-C
 * reaches only this supervisor, which stops the load, lets the services and replicas drain, and
 * stops Postgres last. A second Ctrl-C kills everything at once.
 */
import { NodeRuntime } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Config, Console, Data, Deferred, Effect, Option, Redacted, Ref, Schedule } from "effect"
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { withCredentials } from "../packages/db/src/DatabaseUrl.ts"
import { migrate } from "../packages/db/src/Migrations.ts"
import { applyRoles } from "../packages/db/src/Roles.ts"
import { emptyStats, type LoadStats, type Placed, runLoad, scarceSku } from "./demo/LoadGenerator.ts"
import { render, snapshot } from "./demo/Monitor.ts"
import { failWhenExits, killAllGroups, spawnScoped } from "./demo/Processes.ts"
import { awaitSettled, checkBooks, onHand, restock } from "./demo/Settlement.ts"

const root = fileURLToPath(new URL("..", import.meta.url))

class BadUsage extends Data.TaggedError("BadUsage")<{ readonly message: string }> {}
class BooksDoNotBalance extends Data.TaggedError("BooksDoNotBalance")<{ readonly problems: ReadonlyArray<string> }> {}

const parseArgs = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    let demo = true
    let orders = Option.none<number>()
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!
      if (arg === "--no-demo") demo = false
      else if (arg === "--orders") {
        const n = Number(argv[++i])
        if (!Number.isInteger(n) || n <= 0) return yield* new BadUsage({ message: "--orders needs a positive integer" })
        orders = Option.some(n)
      } else return yield* new BadUsage({ message: `unknown argument ${arg}` })
    }
    if (!demo && Option.isSome(orders)) {
      return yield* new BadUsage({ message: "--orders and --no-demo exclude each other" })
    }
    return { demo, orders }
  })

const Settings = Config.all({
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
  embeddedPort: Config.port("EMBEDDED_PG_PORT").pipe(Config.withDefault(54329)),
  dataDir: Config.string("START_DATA_DIR").pipe(Config.withDefault(".data")),
  rate: Config.number("DEMO_RATE").pipe(
    Config.validate({ message: "must be a positive number of checkouts per second", validation: (n) => n > 0 }),
    Config.withDefault(5)
  ),
  edgeKeys: Config.string("EDGE_API_KEYS").pipe(Config.withDefault("dev-edge-key")),
  orchestratorPassword: Config.redacted("ORCHESTRATOR_DATABASE_PASSWORD").pipe(
    Config.withDefault(Redacted.make("orchestrator-dev-password"))
  ),
  edgePort: Config.port("EDGE_API_PORT").pipe(Config.withDefault(3000)),
  inventoryPort: Config.port("INVENTORY_PORT").pipe(Config.withDefault(3001)),
  paymentsPort: Config.port("PAYMENTS_PORT").pipe(Config.withDefault(3002)),
  ordersPort: Config.port("ORDERS_PORT").pipe(Config.withDefault(3003)),
  graceMs: Config.integer("SHUTDOWN_GRACE_MS").pipe(Config.withDefault(20_000)),
  settleTimeoutMs: Config.integer("SETTLE_TIMEOUT_MS").pipe(Config.withDefault(300_000))
})

/** A URL with its password shown only when it is the embedded server's well-known dev one. */
const shown = (url: string, embedded: boolean) => {
  if (embedded) return url
  const parsed = new URL(url)
  if (parsed.password !== "") parsed.password = "***"
  return parsed.toString()
}

const exampleCurl = (edgeUrl: string, key: string) =>
  `curl -s -X POST ${edgeUrl}/checkout -H 'authorization: Bearer ${key}' -H "idempotency-key: $(uuidgen)" ` +
  `-H 'content-type: application/json' ` +
  `-d '{"customerId":"c-1","items":[{"sku":"MUG-BLUE","quantity":2}],"currency":"EUR","cardToken":"tok_visa"}'`

const waitHealthy = (url: string) =>
  Effect.tryPromise(() => fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })).pipe(
    Effect.filterOrFail((response) => response.ok),
    Effect.retry(Schedule.spaced("200 millis"))
  )

const program = Effect.gen(function*() {
  const args = yield* parseArgs(process.argv.slice(2))
  const settings = yield* Settings
  const dataDir = resolve(root, settings.dataDir)
  const logDir = join(dataDir, "logs")
  mkdirSync(logDir, { recursive: true })
  const embedded = Option.isNone(settings.databaseUrl)
  const adminUrl = Option.match(settings.databaseUrl, {
    onSome: Redacted.value,
    onNone: () => `postgres://postgres:postgres@127.0.0.1:${settings.embeddedPort}/ecommerce`
  })
  const edgeUrl = `http://127.0.0.1:${settings.edgePort}`
  const edgeKey = settings.edgeKeys.split(",")[0]!.trim()

  // Before anything else: where everything is and how to talk to it.
  yield* Console.log([
    `database   ${shown(adminUrl, embedded)}${embedded ? `  (embedded; data in ${join(dataDir, "postgres")})` : ""}`,
    `edge API   ${edgeUrl}   key: ${edgeKey}`,
    `try        ${exampleCurl(edgeUrl, edgeKey)}`,
    `status     npx orchestrator status${embedded ? "" : "   (with the same DATABASE_URL)"}`,
    `logs       ${logDir}/<process>.log`
  ].join("\n"))

  const spawnOne = (
    name: string,
    script: string,
    env: NodeJS.ProcessEnv,
    extra: Partial<Parameters<typeof spawnScoped>[0]> = {}
  ) =>
    spawnScoped({
      name,
      script,
      cwd: root,
      env,
      logFile: join(logDir, `${name}.log`),
      graceMs: settings.graceMs,
      ...extra
    })

  // Postgres first, so its scope closes last.
  if (embedded) {
    const ready = yield* Deferred.make<void>()
    const pg = yield* spawnOne("postgres", "scripts/demo/postgres.ts", process.env, {
      args: [join(dataDir, "postgres"), String(settings.embeddedPort)],
      onStdout: (line) => {
        if (line.startsWith("ready ")) Deferred.unsafeDone(ready, Effect.void)
      }
    })
    yield* Effect.raceFirst(Deferred.await(ready), failWhenExits(pg))
  }

  const pool = PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 3, applicationName: "npm-start" })
  return yield* Effect.gen(function*() {
    yield* migrate()
    yield* applyRoles

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
    const replicaIds = ["orchestrator-1", "orchestrator-2"]
    const children = [
      yield* spawnOne("inventory", "services/inventory/src/main.ts", env),
      yield* spawnOne("payments", "services/payments/src/main.ts", env),
      yield* spawnOne("orders", "services/orders/src/main.ts", env),
      yield* spawnOne("edge-api", "services/edge-api/src/main.ts", env),
      ...(yield* Effect.forEach(
        replicaIds,
        (id) =>
          spawnOne(id, "services/orchestrator/src/main.ts", { ...env, DATABASE_URL: orchestratorUrl, WORKER_ID: id })
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
    const startedAt = Date.now()
    yield* Effect.raceFirst(
      Effect.all([
        ...[settings.inventoryPort, settings.paymentsPort, settings.ordersPort, settings.edgePort].map((port) =>
          waitHealthy(`http://127.0.0.1:${port}`)
        ),
        replicasUp
      ], { concurrency: "unbounded" }),
      anyExits
    )
    yield* Console.log(
      `ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: 4 services, ${replicaIds.length} replicas${
        args.demo ? `, demo load at ${settings.rate}/s` : ""
      } (Ctrl-C stops)`
    )

    const since = new Date(Date.now() - 1_000)
    const stats = yield* Ref.make<LoadStats>(emptyStats)
    const placed: Array<Placed> = []
    const onHandBefore = yield* onHand
    const load = runLoad({
      edge: { url: edgeUrl, key: edgeKey },
      rate: settings.rate,
      limit: args.orders,
      stats,
      onPlaced: (order) => Effect.sync(() => void placed.push(order))
    })

    const tty = process.stdout.isTTY === true
    let drawn = 0
    const draw = Effect.gen(function*() {
      const lines = render(yield* snapshot(since), yield* Ref.get(stats), replicaIds.length)
      yield* Effect.sync(() => {
        // On a terminal: redraw the block in place (cursor up, clear to the end); otherwise plain lines.
        if (tty && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`)
        process.stdout.write(`${lines.join("\n")}\n`)
        drawn = lines.length
      })
    }).pipe(Effect.catchAll((error) => Console.log(`(view: ${String(error)})`)))
    const view = Effect.repeat(draw, Schedule.spaced(tty ? "1 second" : "5 seconds"))

    if (Option.isSome(args.orders)) {
      const settle = Effect.gen(function*() {
        yield* load
        yield* awaitSettled(placed.map((p) => p.orderId), settings.settleTimeoutMs)
        yield* draw
        const books = yield* checkBooks(placed.map((p) => p.orderId), since, onHandBefore)
        const s = yield* Ref.get(stats)
        yield* Console.log(
          `summary: ${s.placed} orders placed, ${s.declinedAtCheckout} declined at checkout, ${s.cancelRequests} cancellations requested, ` +
            `${s.errors} client errors; ${Object.entries(books.byStatus).map(([k, v]) => `${v} ${k}`).join(", ")}`
        )
        if (books.problems.length > 0) return yield* new BooksDoNotBalance({ problems: books.problems })
        yield* Console.log(
          "books balance: every confirmed order captured its amount and holds its stock; every cancelled one released both"
        )
      })
      return yield* Effect.raceFirst(Effect.raceFirst(settle, anyExits), Effect.zipRight(view, Effect.never))
    }
    const warehouse = Effect.repeat(restock(scarceSku), Schedule.spaced("2 seconds"))
    return yield* Effect.raceFirst(
      anyExits,
      Effect.all([
        args.demo ? load : Effect.void,
        Effect.zipRight(view, Effect.never),
        args.demo ? warehouse : Effect.never
      ], {
        concurrency: "unbounded"
      })
    )
  }).pipe(
    Effect.provide(pool),
    Effect.ensuring(Console.log("stopping: load stopped; services and replicas drain, then Postgres"))
  )
}).pipe(Effect.scoped)

// A second Ctrl-C: kill every child's process group at once (the first one started the drain).
let signals = 0
const force = () => {
  if (++signals < 2) return
  process.stderr.write("second signal: killing everything now\n")
  killAllGroups("SIGKILL")
  process.exit(130)
}
process.on("SIGINT", force)
process.on("SIGTERM", force)

NodeRuntime.runMain(
  program.pipe(
    Effect.catchTags({
      BadUsage: (error) =>
        Effect.zipRight(
          Console.error(`npm start: ${error.message}\nusage: npm start [-- --no-demo | --orders N]`),
          Effect.sync(() => (process.exitCode = 2))
        ),
      BooksDoNotBalance: (error) =>
        Effect.zipRight(
          Console.error(`books do not balance:\n  ${error.problems.join("\n  ")}`),
          Effect.sync(() => (process.exitCode = 1))
        )
    }),
    Effect.tapErrorCause((cause) => Console.error(`npm start failed: ${cause}`))
  ),
  { disableErrorReporting: true, disablePrettyLogger: true }
)

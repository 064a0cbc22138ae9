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
import { PgClient } from "@effect/sql-pg"
import { Console, Data, Effect, Option, Redacted, Ref, Schedule } from "effect"
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { migrate } from "../packages/db/src/Migrations.ts"
import { applyRoles } from "../packages/db/src/Roles.ts"
import { banner } from "./demo/Banner.ts"
import { makeLiveView } from "./demo/LiveView.ts"
import { emptyStats, type LoadStats, type Placed, runLoad, scarceSku } from "./demo/LoadGenerator.ts"
import { killAllGroups } from "./demo/Processes.ts"
import { awaitSettled, checkBooks, onHand, restock } from "./demo/Settlement.ts"
import { parseArgs, StartSettings } from "./demo/StartSettings.ts"
import { makeSpawn, replicaIds, startEmbeddedPostgres, startSystem } from "./demo/System.ts"

const root = fileURLToPath(new URL("..", import.meta.url))

class BooksDoNotBalance extends Data.TaggedError("BooksDoNotBalance")<{ readonly problems: ReadonlyArray<string> }> {}

const program = Effect.gen(function*() {
  const args = yield* parseArgs(process.argv.slice(2))
  const settings = yield* StartSettings
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

  yield* Console.log(banner({ adminUrl, embedded, dataDir, edgeUrl, edgeKey, logDir }))

  const spawn = makeSpawn(root, logDir, settings.graceMs)
  // Postgres first, so its scope closes last.
  if (embedded) yield* startEmbeddedPostgres(spawn, dataDir, settings.embeddedPort)

  const pool = PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 3, applicationName: "npm-start" })
  return yield* Effect.gen(function*() {
    yield* migrate()
    yield* applyRoles

    const startedAt = Date.now()
    const { anyExits } = yield* startSystem(spawn, settings, adminUrl)
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
    const { draw, view } = makeLiveView(since, stats, replicaIds.length)

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

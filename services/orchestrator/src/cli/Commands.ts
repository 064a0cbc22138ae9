import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect } from "effect"
import { CliDatabase } from "./CliDatabase.ts"
import { duration, json } from "./CommandOptions.ts"
import { outbox } from "./OutboxCommands.ts"
import { emit, formatMs, table } from "./Output.ts"
import { ping } from "./Ping.ts"
import * as Q from "./Queries.ts"
import { saga, sagas } from "./SagaCommands.ts"

/**
 * Set once `run` starts the daemon: a stop by SIGINT/SIGTERM is then the replica's graceful stop
 * (exit 0), while any other command stopped by a signal did not finish (exit 1).
 */
const daemonRun = { started: false }

/** The exit code of a command stopped by SIGINT/SIGTERM. */
export const interruptedExitCode = () => daemonRun.started ? 0 : 1

const run = Command.make(
  "run",
  {},
  () =>
    Effect.flatMap(
      Effect.promise(() => import("../Daemon.ts")),
      ({ daemon }) => Effect.zipRight(Effect.sync(() => (daemonRun.started = true)), daemon)
    )
).pipe(
  Command.withDescription("run one orchestrator replica until SIGINT/SIGTERM (what `npm run worker` runs)")
)

const migrate = Command.make("migrate", {}, () =>
  Effect.gen(function*() {
    const { migrate } = yield* Effect.promise(() => import("../../../../packages/db/src/Migrations.ts"))
    const applied = yield* migrate()
    yield* Console.log(
      applied.length === 0
        ? "database is up to date; no migration applied"
        : `applied ${applied.length} migration(s): ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`
    )
  })).pipe(Command.withDescription("apply pending migrations"), Command.provide(CliDatabase))

const status = Command.make("status", { json }, ({ json }) =>
  Effect.gen(function*() {
    const [replicas, outbox, sagas] = yield* Effect.all([Q.replicas, Q.outboxCounts, Q.sagasByState])
    const data = {
      replicas: replicas.map((r) => ({ ...r, alive: r.last_seen_ms_ago <= Q.aliveWithinMs })),
      outbox,
      sagas: Object.fromEntries(sagas.map((s) => [s.state, s.count])),
      // Circuit breakers live in each replica's memory; their states are exported as the
      // `circuit.state` metric, not stored in the database.
      circuits: null
    }
    yield* emit(json, data, (d) =>
      [
        `replicas (${d.replicas.filter((r) => r.alive).length} alive)`,
        table(
          ["worker", "host", "pid", "slots", "last seen", "alive"],
          d.replicas.map((
            r
          ) => [
            r.worker_id,
            r.host,
            r.pid,
            r.concurrency,
            `${formatMs(r.last_seen_ms_ago)} ago`,
            r.alive ? "yes" : "NO"
          ]),
          "  (no replica registered: is a worker running?)"
        ),
        "",
        `outbox: ${d.outbox.pending} pending, ${d.outbox.processing} processing, ${d.outbox.dead} dead; ` +
        `oldest pending ${formatMs(d.outbox.oldest_pending_ms)}`,
        `sagas: ${sagas.length === 0 ? "none yet" : sagas.map((s) => `${s.count} ${s.state}`).join(", ")}`,
        "circuits: kept in each replica's memory; see the circuit.state metric"
      ].join("\n"))
  })).pipe(Command.withDescription("replicas, outbox counts, sagas by state"), Command.provide(CliDatabase))

const pingCommand = Command.make(
  "ping",
  {
    json,
    timeout: duration("timeout").pipe(Options.withDefault(10_000))
  },
  ({ json, timeout }) =>
    Effect.flatMap(
      ping(timeout),
      (latencyMs) =>
        emit(json, { latency_ms: latencyMs }, () => `pong: a worker handled the ping in ${formatMs(latencyMs)}`)
    )
).pipe(
  Command.withDescription("send a Ping event through the pipeline; exit 1 if no worker handles it in time"),
  Command.provide(CliDatabase)
)

export const orchestrator = Command.make("orchestrator").pipe(
  Command.withSubcommands([run, migrate, status, sagas, saga, outbox, pingCommand]),
  Command.withDescription("operate the saga orchestrator: needs only database access")
)

import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import { Console, Data, Effect } from "effect"
import { CliDatabase } from "./CliDatabase.ts"
import { parseDuration } from "./Duration.ts"
import { ping, pruneDone, replayAllDead, replayEvent, resolveSaga, retrySaga } from "./Operations.ts"
import { emit, errorText, formatMs, table } from "./Output.ts"
import * as Q from "./Queries.ts"

const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of a table"))

const duration = (name: string) =>
  Options.text(name).pipe(
    Options.mapEffect((text) => {
      const ms = parseDuration(text)
      return ms === undefined
        ? Effect.fail(
          ValidationError.invalidValue(
            HelpDoc.p(`--${name}: "${text}" is not a duration (e.g. 500ms, 30s, 15m, 2h, 7d)`)
          )
        )
        : Effect.succeed(ms)
    })
  )

const positive = (name: string, fallback: number) =>
  Options.integer(name).pipe(
    Options.mapEffect((n) =>
      n > 0
        ? Effect.succeed(n)
        : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name} must be a positive integer`)))
    ),
    Options.withDefault(fallback)
  )

const SagaStates = ["running", "compensating", "completed", "compensated", "needs_attention", "resolved"] as const

const run = Command.make(
  "run",
  {},
  () => Effect.flatMap(Effect.promise(() => import("../Daemon.ts")), ({ daemon }) => daemon)
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

const sagasList = Command.make("list", {
  json,
  state: Options.choice("state", SagaStates).pipe(Options.optional),
  type: Options.text("type").pipe(Options.optional),
  since: duration("since").pipe(Options.optional),
  limit: positive("limit", 20)
}, (o) =>
  Effect.gen(function*() {
    const rows = yield* Q.listSagas({
      state: o.state._tag === "Some" ? o.state.value : undefined,
      type: o.type._tag === "Some" ? o.type.value : undefined,
      sinceMs: o.since._tag === "Some" ? o.since.value : undefined,
      limit: o.limit
    })
    yield* emit(o.json, rows, (rows) =>
      table(
        ["saga", "type", "order", "state", "step", "created", "took", "error"],
        rows.map((
          r
        ) => [
          r.id,
          r.saga_type,
          r.order_id,
          r.state,
          r.current_step,
          r.created_at,
          formatMs(r.duration_ms),
          errorText(r.error)
        ])
      ))
  })).pipe(Command.withDescription("recent sagas, newest first"), Command.provide(CliDatabase))

const sagas = Command.make("sagas").pipe(Command.withSubcommands([sagasList]), Command.withDescription("list sagas"))

const idArg = (what: string) => Args.text({ name: "id" }).pipe(Args.withDescription(what))

const sagaShow = Command.make(
  "show",
  { json, id: idArg("a saga id or an order id") },
  ({ id, json }) =>
    Effect.gen(function*() {
      const found = yield* Q.sagasOf(id)
      const ledger = yield* Q.ledgerOf(found[0]?.order_id ?? id)
      if (found.length === 0 && ledger === null) return yield* new NotFound({ message: `no saga or order ${id}` })
      const sagas = yield* Effect.forEach(found, (saga) =>
        Effect.all({ steps: Q.stepsOf(saga.id), actions: Q.actionsOf(saga.id) }).pipe(
          Effect.map(({ actions, steps }) => ({
            ...saga,
            steps: steps.map((s) => ({ ...s, idempotency_key: `${saga.id}:${s.step}:${s.phase}` })),
            operator_actions: actions
          }))
        ))
      const events = yield* Q.eventsOf(found[0]?.order_id ?? id)
      const data = { order_id: found[0]?.order_id ?? id, ledger, sagas, events }
      yield* emit(json, data, showText)
    })
).pipe(
  Command.withDescription("a saga's timeline: steps, compensations, attempts, errors, ledger"),
  Command.provide(CliDatabase)
)

type Shown = {
  readonly order_id: string
  readonly ledger: Q.LedgerRow | null
  readonly sagas: ReadonlyArray<
    Q.SagaRow & {
      readonly steps: ReadonlyArray<Q.StepRow & { readonly idempotency_key: string }>
      readonly operator_actions: ReadonlyArray<Q.ActionRow>
    }
  >
  readonly events: ReadonlyArray<Q.OutboxRow>
}

const showText = (d: Shown): string =>
  [
    `order ${d.order_id}: ledger ${
      d.ledger === null
        ? "(no ledger row)"
        : `${d.ledger.status} ${d.ledger.amount} ${d.ledger.currency}${d.ledger.reason ? ` — ${d.ledger.reason}` : ""}`
    }`,
    ...d.sagas.flatMap((s) => [
      "",
      `saga ${s.id} (${s.saga_type}): ${s.state}${s.current_step ? ` at ${s.current_step}` : ""}, ` +
      `started ${s.created_at}, last change after ${formatMs(s.duration_ms)}`,
      ...(errorText(s.error) === null ? [] : [`  error: ${errorText(s.error)}`]),
      table(
        ["  step", "phase", "status", "attempts", "started", "took", "idempotency key", "error"],
        s.steps.map((st) => [
          `  ${st.step}`,
          st.phase,
          st.outcome_unknown ? `${st.status} (outcome unknown)` : st.status,
          st.attempts,
          st.started_at,
          formatMs(st.duration_ms),
          st.idempotency_key,
          st.last_error
        ]),
        "  (no step started)"
      ),
      ...s.operator_actions.map((a) => `  ${a.created_at} ${a.actor}: ${a.action}${a.note ? ` — ${a.note}` : ""}`)
    ]),
    "",
    "events",
    table(
      ["  outbox id", "type", "status", "attempts", "created", "error"],
      d.events.map((e) => [`  ${e.id}`, e.event_type, e.status, e.attempts, e.created_at, e.last_error]),
      "  (none in the outbox)"
    )
  ].join("\n")

/** A saga or order the operator named does not exist. Exit code 1. */
export class NotFound extends Data.TaggedError("NotFound")<{ readonly message: string }> {}

/** Arguments that parse but do not make sense together. Exit code 2, with the usage. */
export class BadArguments extends Data.TaggedError("BadArguments")<{ readonly message: string }> {}

const sagaRetry = Command.make(
  "retry",
  { id: idArg("a needs_attention saga's id (or its order's id)") },
  ({ id }) =>
    Effect.flatMap(retrySaga(id), (r) =>
      Console.log(
        `saga ${r.sagaId} resumes ${r.state}; its event ${r.eventId} is queued and the workers were notified`
      ))
).pipe(
  Command.withDescription("resume a needs_attention saga where it stopped"),
  Command.provide(CliDatabase)
)

const sagaResolve = Command.make("resolve", {
  id: idArg("a needs_attention saga's id (or its order's id)"),
  note: Options.text("note").pipe(Options.withDescription("what was done; kept with the saga"))
}, ({ id, note }) =>
  Effect.gen(function*() {
    if (note.trim() === "") return yield* new BadArguments({ message: "--note must say what was done" })
    const resolved = yield* resolveSaga(id, note)
    yield* Console.log(`saga ${resolved.sagaId} resolved; note kept`)
  })).pipe(
    Command.withDescription("mark a needs_attention saga as handled by an operator"),
    Command.provide(CliDatabase)
  )

const saga = Command.make("saga").pipe(
  Command.withSubcommands([sagaShow, sagaRetry, sagaResolve]),
  Command.withDescription("inspect and act on one saga")
)

const outboxDead = Command.make(
  "dead",
  { json, limit: positive("limit", 50) },
  ({ json, limit }) =>
    Effect.flatMap(Q.deadEvents(limit), (rows) =>
      emit(json, rows, (rows) =>
        table(
          ["outbox id", "event id", "type", "aggregate", "attempts", "created", "error"],
          rows.map((r) => [r.id, r.event_id, r.event_type, r.aggregate_id, r.attempts, r.created_at, r.last_error]),
          "no dead events"
        )))
).pipe(Command.withDescription("dead-lettered events, oldest first"), Command.provide(CliDatabase))

const outboxReplay = Command.make("replay", {
  id: Args.text({ name: "id" }).pipe(Args.withDescription("outbox id or event id of a dead row"), Args.optional),
  allDead: Options.boolean("all-dead").pipe(Options.withDescription("replay every dead row"))
}, ({ allDead, id }) =>
  Effect.gen(function*() {
    if (id._tag === "Some" && !allDead) {
      const r = yield* replayEvent(id.value)
      return yield* Console.log(
        `replayed ${r.eventType} ${r.outboxId} (${r.aggregateId})${r.also.length ? `; ${r.also.join("; ")}` : ""}`
      )
    }
    if (id._tag === "Some" || !allDead) {
      return yield* new BadArguments({ message: "outbox replay: give either one outbox id or --all-dead" })
    }
    const { refused, replayed } = yield* replayAllDead
    yield* Console.log(
      `replayed ${replayed.length} dead event(s)${refused.length ? `, refused ${refused.length}:` : ""}`
    )
    yield* Effect.forEach(refused, (r) => Console.log(`  ${r.outboxId}: ${r.message}`))
  })).pipe(
    Command.withDescription("put dead events back to pending, with what their work needs"),
    Command.provide(CliDatabase)
  )

const outboxPrune = Command.make(
  "prune",
  { olderThan: duration("older-than") },
  ({ olderThan }) =>
    Effect.flatMap(
      pruneDone(olderThan),
      (n) => Console.log(`deleted ${n} done row(s) processed more than ${formatMs(olderThan)} ago`)
    )
).pipe(
  Command.withDescription("delete done events processed before the cut-off (dead rows are kept)"),
  Command.provide(CliDatabase)
)

const outbox = Command.make("outbox").pipe(
  Command.withSubcommands([outboxDead, outboxReplay, outboxPrune]),
  Command.withDescription("dead letters, replays, pruning")
)

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

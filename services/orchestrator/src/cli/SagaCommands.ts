import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect } from "effect"
import { CliDatabase } from "./CliDatabase.ts"
import { duration, idArg, json, positive, SagaStates } from "./CommandOptions.ts"
import { BadArguments, NotFound } from "./Errors.ts"
import { emit, errorText, formatMs, table } from "./Output.ts"
import * as Q from "./Queries.ts"
import { resolveSaga, retrySaga } from "./SagaActions.ts"
import { showText } from "./SagaTimeline.ts"

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

export const sagas = Command.make("sagas").pipe(
  Command.withSubcommands([sagasList]),
  Command.withDescription("list sagas")
)

const sagaShow = Command.make(
  "show",
  { json, id: idArg("a saga id or an order id") },
  ({ id: given, json }) =>
    Effect.gen(function*() {
      const id = Q.storedId(given)
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

export const saga = Command.make("saga").pipe(
  Command.withSubcommands([sagaShow, sagaRetry, sagaResolve]),
  Command.withDescription("inspect and act on one saga")
)

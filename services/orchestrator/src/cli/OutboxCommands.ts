import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Effect } from "effect"
import { CliDatabase } from "./CliDatabase.ts"
import { duration, json, positive } from "./CommandOptions.ts"
import { BadArguments } from "./Errors.ts"
import { pruneDone, replayAllDead, replayEvent } from "./OutboxActions.ts"
import { emit, formatMs, table } from "./Output.ts"
import * as Q from "./Queries.ts"

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

export const outbox = Command.make("outbox").pipe(
  Command.withSubcommands([outboxDead, outboxReplay, outboxPrune]),
  Command.withDescription("dead letters, replays, pruning")
)

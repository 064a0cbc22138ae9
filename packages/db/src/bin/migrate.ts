import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { migrate } from "../Migrations.ts"
import { PgLive } from "../PgLive.ts"

const program = migrate().pipe(
  Effect.tap((applied) =>
    applied.length === 0
      ? Effect.log("Database is up to date; no migration applied")
      : Effect.log(`Applied ${applied.length} migration(s): ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`)
  ),
  Effect.provide(PgLive({ applicationName: "migrate", maxConnections: 2 })),
  Effect.tapErrorCause((cause) => Effect.logError(`Migration failed: ${cause}`))
)

NodeRuntime.runMain(program, { disableErrorReporting: true })

import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { PgLive } from "../PgLive.ts"
import { applyRoles, ServiceRoles } from "../Roles.ts"

const program = applyRoles.pipe(
  Effect.tap(() => Effect.log(`Roles ready: ${ServiceRoles.join(", ")}`)),
  Effect.provide(PgLive({ applicationName: "db-roles", maxConnections: 1 })),
  Effect.tapErrorCause((cause) => Effect.logError(`Applying roles failed: ${cause}`))
)

NodeRuntime.runMain(program, { disableErrorReporting: true })

import { PgLive } from "@ecommerce/db"
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { LoggingLive } from "./Logging.ts"
import { EventHandlers, PingHandler } from "./outbox/EventHandler.ts"
import { WorkerLive } from "./outbox/Worker.ts"
import { reportStartupFailure } from "./StartupFailure.ts"
import { WorkerConfig } from "./WorkerConfig.ts"

const HandlersLive = EventHandlers.layer([PingHandler])

const MainLive = WorkerLive.pipe(
  Layer.provide(HandlersLive),
  Layer.provide(PgLive({ applicationName: "orchestrator", maxConnections: 4 }))
)

// Settings are validated before anything connects, so a typo fails in milliseconds, not after a retry loop.
// The report sits outside LoggingLive so that a bad LOG_LEVEL is reported too (by the default logger).
const program = WorkerConfig.pipe(
  Effect.zipRight(Layer.launch(MainLive)),
  Effect.provide(LoggingLive),
  Effect.tapError(reportStartupFailure)
)

NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })

/**
 * The `orchestrator` command (the bin of @ecommerce/orchestrator). Read commands import only the
 * CLI, effect and the Postgres client; `run` loads the daemon (sagas, HTTP clients) when asked.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { runCli } from "./Cli.ts"

NodeRuntime.runMain(runCli(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  // A command's own exit code; 0 for a stop by SIGINT/SIGTERM (`run`'s graceful stop), as
  // NodeRuntime's default teardown and the daemon's main.ts give; 1 for a failure.
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) ? exit.value as number : Cause.isInterruptedOnly(exit.cause) ? 0 : 1)
})

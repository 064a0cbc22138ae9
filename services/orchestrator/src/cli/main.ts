/**
 * The `orchestrator` command (the bin of @ecommerce/orchestrator). Read commands import only the
 * CLI, effect and the Postgres client; `run` loads the daemon (sagas, HTTP clients) when asked.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Exit } from "effect"
import { runCli } from "./Cli.ts"

NodeRuntime.runMain(runCli(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? exit.value as number : 1)
})

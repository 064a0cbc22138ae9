/**
 * The `orchestrator` command (the bin of @ecommerce/orchestrator). Read commands import only the
 * CLI, effect and the Postgres client; `run` loads the daemon (sagas, HTTP clients) when asked.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { runCli } from "./Cli.ts"
import { interruptedExitCode } from "./Commands.ts"

NodeRuntime.runMain(runCli(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  // A command's own exit code. Stopped by SIGINT/SIGTERM: 0 for `run` (the replica's graceful
  // stop, as main.ts gives), 1 for any other command, which did not finish (a `migrate` or `ping`
  // cut short must not look like success).
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit)
        ? exit.value as number
        : Cause.isInterruptedOnly(exit.cause)
        ? interruptedExitCode()
        : 1
    )
})

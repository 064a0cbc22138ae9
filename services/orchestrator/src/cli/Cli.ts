import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import { Cause, Console, Effect, Option } from "effect"
import { interruptedExitCode, orchestrator } from "./Commands.ts"

type CliEnvironment = CliApp.CliApp.Environment

const usage = `usage: orchestrator <command> [options]
  run | migrate | status [--json] | ping [--timeout 10s] [--json]
  sagas list [--state S] [--type T] [--since 1h] [--limit 20] [--json]
  saga show <saga id | order id> [--json] | saga retry <id> | saga resolve <id> --note <text>
  outbox dead [--limit 50] [--json] | outbox replay <id> | outbox replay --all-dead | outbox prune --older-than 7d
run \`orchestrator <command> --help\` for the details of one command`

const cli = Command.run(orchestrator, { name: "orchestrator", version: "0.1.0" })

type Outcome = { readonly code: number; readonly message?: string | undefined; readonly usage?: boolean }

const outcomeOf = (error: unknown): Outcome => {
  if (ValidationError.isValidationError(error)) {
    // @effect/cli has printed what was wrong; --help is not an error.
    return ValidationError.isHelpRequested(error) ? { code: 0 } : { code: 2, usage: true }
  }
  const tagged = error as { readonly _tag?: string; readonly message?: string }
  if (tagged._tag === "BadArguments") return { code: 2, message: tagged.message, usage: true }
  return { code: 1, message: tagged.message ?? String(error) }
}

/**
 * Runs one command line (argv as node gives it: executable and script first) and returns its exit
 * code: 0 done, 1 refused or failed (the message says why), 2 bad arguments (with the usage).
 */
export const runCli = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliEnvironment> =>
  cli(argv).pipe(
    Effect.matchCauseEffect({
      onSuccess: () => Effect.succeed(0),
      onFailure: (cause) => {
        // Interrupted: `run` stopped as asked (0); any other command did not finish (1).
        if (Cause.isInterruptedOnly(cause)) return Effect.succeed(interruptedExitCode())
        const outcome = Option.match(Cause.failureOption(cause), {
          onNone: (): Outcome => ({ code: 1, message: Cause.pretty(cause) }),
          onSome: outcomeOf
        })
        return Effect.as(
          Effect.zipRight(
            outcome.message === undefined ? Effect.void : Console.error(`error: ${outcome.message}`),
            outcome.usage === true ? Console.error(usage) : Effect.void
          ),
          outcome.code
        )
      }
    })
  )

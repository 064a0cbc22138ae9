import * as Args from "@effect/cli/Args"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import { Effect } from "effect"
import { parseDuration } from "./Duration.ts"

export const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of a table"))

export const duration = (name: string) =>
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

export const positive = (name: string, fallback: number) =>
  Options.integer(name).pipe(
    Options.mapEffect((n) =>
      n > 0
        ? Effect.succeed(n)
        : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name} must be a positive integer`)))
    ),
    Options.withDefault(fallback)
  )

export const SagaStates = [
  "running",
  "compensating",
  "completed",
  "compensated",
  "needs_attention",
  "resolved"
] as const

export const idArg = (what: string) => Args.text({ name: "id" }).pipe(Args.withDescription(what))

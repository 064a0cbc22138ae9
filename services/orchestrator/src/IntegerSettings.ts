import { Config } from "effect"

/** An integer setting that must be > 0; the message names the rule, Config names the variable. */
export const positiveInteger = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

/** An integer setting that must be >= 0 (0 usually means "off" or "none"). */
export const nonNegativeInteger = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be an integer >= 0", validation: (n) => n >= 0 }),
    Config.withDefault(fallback)
  )

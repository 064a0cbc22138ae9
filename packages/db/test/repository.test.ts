import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schema } from "effect"
import { repository } from "../src/Repository.ts"

const statements = repository({
  find: (id: number) => Effect.succeed(`row ${id}`),
  broken: (_: string) => Effect.fail(new SqlError({ cause: new Error("connection lost") })),
  undecodable: Schema.decodeUnknown(Schema.Number)("not a number"),
  limit: 1000
})

describe("repository", () => {
  it.effect("passes successes through and leaves plain values alone", () =>
    Effect.gen(function*() {
      expect(yield* statements.find(7)).toBe("row 7")
      expect(statements.limit).toBe(1000)
    }))

  it.effect("turns a statement's SqlError, and a row that does not decode, into defects", () =>
    Effect.gen(function*() {
      for (const exit of [yield* Effect.exit(statements.broken("x")), yield* Effect.exit(statements.undecodable)]) {
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      }
    }))
})

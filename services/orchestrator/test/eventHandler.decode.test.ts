/**
 * makeHandler decodes with the handler's Schema. Since cd2ed92 it decodes with
 * Schema.decodeUnknownEither, which cannot run a Schema with an effectful part: such a part comes
 * back as a `Forbidden` issue instead of being run. makeHandler's type accepts any Schema<A, I>,
 * async or not, so nothing stops one from being registered. (The project's own payload Schemas,
 * OrderPlaced and OrderCancellationRequested, are synchronous and decode as before.)
 */
import { expect, it } from "@effect/vitest"
import { Effect, Exit, ParseResult, Schema } from "effect"
import { makeHandler, type OutboxEvent } from "../src/outbox/EventHandler.ts"

const event = (payload: unknown): OutboxEvent => ({
  id: "1",
  eventId: "e-1",
  aggregateType: "test",
  aggregateId: "a-1",
  eventType: "Async",
  payload,
  headers: {},
  attempt: 1,
  createdAt: new Date()
})

/** A string checked by an effect that completes later (a lookup table loaded lazily, say). */
const Later = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (s) => Effect.async<string>((resume) => void setImmediate(() => resume(Effect.succeed(s)))),
  encode: ParseResult.succeed
})

/** A string checked by an effect that throws: a bug in the schema, like the BadDecoder test handler. */
const Buggy = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: () =>
    Effect.sync((): string => {
      throw new Error("decoder bug")
    }),
  encode: ParseResult.succeed
})

it.live("a payload Schema with an asynchronous part decodes, and the handler runs", () =>
  Effect.gen(function*() {
    let seen: unknown
    const handler = makeHandler("Async", Schema.Struct({ s: Later }), (e) => Effect.sync(() => void (seen = e.payload)))
    const exit = yield* Effect.exit(handler.run(event({ s: "x" })))
    expect(exit).toStrictEqual(Exit.void)
    expect(seen).toEqual({ s: "x" })
  }))

it.live("a payload Schema whose effectful part throws is reported as a throwing decoder", () =>
  Effect.gen(function*() {
    const handler = makeHandler("Async", Schema.Struct({ s: Buggy }), () => Effect.void)
    const exit = yield* Effect.exit(handler.run(event({ s: "x" })))
    expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : exit).toMatchObject({
      _tag: "InvalidPayload",
      message: "payload does not match Async: its decoder threw Error: decoder bug"
    })
  }))

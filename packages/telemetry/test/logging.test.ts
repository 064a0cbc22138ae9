import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Logger, Redacted } from "effect"
import type { LogFormat } from "../src/LogFormat.ts"
import { LogSettings, makeLogger } from "../src/Logging.ts"

/** Runs `effect` with our logger in `format`, returning the lines it wrote. */
const capture = <A, E>(format: LogFormat, effect: Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    const lines: Array<string> = []
    const logger = makeLogger({ service: "test-service", format, color: false, write: (line) => lines.push(line) })
    return effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Effect.as(lines))
  })

const password = Redacted.make("hunter2-secret")

describe("the shared logger", () => {
  it.effect("json: one object per line with the shared fields, the current span's ids and the annotations", () =>
    Effect.gen(function*() {
      let ids = { traceId: "", spanId: "" }
      const lines = yield* capture(
        "json",
        Effect.gen(function*() {
          const span = yield* Effect.currentSpan
          ids = { traceId: span.traceId, spanId: span.spanId }
          yield* Effect.logWarning("saga finished", { outcome: "compensated" })
        }).pipe(
          Effect.annotateLogs({ "saga.id": "s-1", "order.id": "o-1", level: "not a level" }),
          Effect.withSpan("saga.checkout")
        )
      )
      expect(lines).toHaveLength(1)
      const parsed = JSON.parse(lines[0]!)
      expect(parsed).toEqual({
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        level: "WARN",
        service: "test-service",
        message: "saga finished {\"outcome\":\"compensated\"}",
        trace_id: ids.traceId,
        span_id: ids.spanId,
        "saga.id": "s-1",
        "order.id": "o-1"
      })
      expect(Object.keys(parsed).slice(0, 4)).toEqual(["timestamp", "level", "service", "message"])
    }))

  it.effect("a line inside an outbox.process span carries its event_id and event_type, from any depth", () =>
    Effect.gen(function*() {
      const lines = yield* capture(
        "json",
        Effect.logInfo("inside a step").pipe(
          Effect.withSpan("saga.step.reserve"),
          Effect.zipRight(Effect.logInfo("overridden").pipe(Effect.annotateLogs("event_type", "Annotated"))),
          Effect.withSpan("outbox.process Ping", {
            attributes: { "outbox.event_id": "e-42", "outbox.event_type": "Ping", "outbox.attempt": 1 }
          }),
          Effect.zipRight(Effect.logInfo("outside"))
        )
      )
      const parsed = lines.map((line) => JSON.parse(line))
      expect(parsed[0]).toMatchObject({ message: "inside a step", event_id: "e-42", event_type: "Ping" })
      expect(parsed[1]).toMatchObject({ message: "overridden", event_id: "e-42", event_type: "Annotated" })
      expect(parsed[1]).not.toHaveProperty("outbox.attempt")
      expect(parsed[2]).not.toHaveProperty("event_id")
    }))

  it.effect("Redacted values print as <redacted> in every format, wherever they are nested", () =>
    Effect.gen(function*() {
      for (const format of ["json", "logfmt", "pretty"] as const) {
        const lines = yield* capture(
          format,
          Effect.logError("login", password, { nested: { password } }).pipe(
            Effect.annotateLogs("credentials", { user: "orders", password }),
            Effect.zipRight(Effect.logError("failed").pipe(Effect.annotateLogs("token", password)))
          )
        )
        const text = lines.join("\n")
        expect(text).not.toContain("hunter2-secret")
        expect(text).toContain("<redacted>")
      }
    }))

  it.effect("logfmt: values with spaces, quotes or newlines are quoted, so a line stays one line; the cause is kept", () =>
    Effect.gen(function*() {
      const lines = yield* capture(
        "logfmt",
        Effect.logError("dead-lettered \"Ping\"\nsecond line", new Error("boom")).pipe(
          Effect.annotateLogs({ "event.id": 42, reason: "payload too large" })
        )
      )
      expect(lines).toHaveLength(1)
      expect(lines[0]).not.toContain("\n")
      expect(lines[0]).toMatch(
        /^timestamp=\S+ level=ERROR service=test-service message="dead-lettered \\"Ping\\"\\nsecond line Error: boom" /
      )
      expect(lines[0]).toContain(" event.id=42")
      expect(lines[0]).toContain(" reason=\"payload too large\"")
      const failed = yield* capture(
        "json",
        Effect.fail(new Error("db down")).pipe(
          Effect.tapErrorCause((cause) => Effect.logError("failed", cause)),
          Effect.ignore
        )
      )
      expect(JSON.parse(failed[0]!)).toMatchObject({ message: "failed", cause: expect.stringContaining("db down") })
    }))

  it.effect("a bad LOG_FORMAT or LOG_LEVEL names the variable", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        Effect.flip(Effect.withConfigProvider(LogSettings, ConfigProvider.fromMap(new Map(Object.entries(env)))))
      expect(String(yield* read({ LOG_FORMAT: "xml" }))).toMatch(/LOG_FORMAT.*json, logfmt, pretty/)
      expect(String(yield* read({ LOG_LEVEL: "loud" }))).toMatch(/LOG_LEVEL.*Expected a log level/)
      const ok = yield* Effect.withConfigProvider(
        LogSettings,
        ConfigProvider.fromMap(new Map([["LOG_FORMAT", "json"], ["LOG_LEVEL", "debug"]]))
      )
      expect(ok.format).toBe("json")
      expect(ok.level.label).toBe("DEBUG")
    }))
})

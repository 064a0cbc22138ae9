/**
 * The flusher's after-write step, with a stand-in for the repository (a unit test of one piece; the
 * worker's tests run the whole path on Postgres). The final write at shutdown goes through the same
 * logs and counts as the loop's writes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FiberSet, HashMap, Logger, Metric, Queue } from "effect"
import type { Completion } from "../src/outbox/Completion.ts"
import { makeFlusher } from "../src/outbox/Flusher.ts"
import * as Metrics from "../src/outbox/Metrics.ts"
import type { OutboxRepo } from "../src/outbox/OutboxRepo.ts"
import { makeWakeups } from "../src/outbox/Wakeups.ts"

const completion = (id: string, status: Completion["status"], error: string | null): Completion => ({
  id,
  leaseToken: `token-${id}`,
  status,
  delayMs: 0,
  error,
  eventId: `event-${id}`,
  eventType: "FlusherTest"
})

describe("the flusher", () => {
  it.scoped("the final write at shutdown logs each dead-lettered event and counts every result", () =>
    Effect.gen(function*() {
      const lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }> = []
      const logger = Logger.make(({ annotations, logLevel, message }) => {
        lines.push({
          level: logLevel.label,
          message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
          annotations: Object.fromEntries(HashMap.toEntries(annotations))
        })
      })
      const flusher = makeFlusher({
        repo: {} as OutboxRepo,
        completions: yield* Queue.unbounded<Completion>(),
        wakeups: yield* makeWakeups,
        timers: yield* FiberSet.make<unknown>()
      })
      const done = Metrics.processedFor("FlusherTest", "done")
      const dead = Metrics.processedFor("FlusherTest", "dead")
      const before = { done: (yield* Metric.value(done)).count, dead: (yield* Metric.value(dead)).count }
      const batch = [
        completion("1", "done", null),
        completion("2", "dead", "card rejected"),
        completion("3", "dead", "x")
      ]
      // Row 3's lease was lost: not written, so neither counted nor logged.
      yield* flusher.afterFinalWrite(batch, [{ id: "1", unblocksSuccessor: false }, {
        id: "2",
        unblocksSuccessor: false
      }]).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect((yield* Metric.value(done)).count - before.done).toBe(1)
      expect((yield* Metric.value(dead)).count - before.dead).toBe(1)
      const deadLines = lines.filter((l) => l.message.startsWith("event dead-lettered"))
      expect(deadLines).toEqual([{
        level: "WARN",
        message: "event dead-lettered: card rejected",
        annotations: { event_id: "event-2", event_type: "FlusherTest", outbox_id: "2" }
      }])
      expect(lines.filter((l) => l.message.includes("rejected: the lease was lost"))).toHaveLength(1)
    }))
})

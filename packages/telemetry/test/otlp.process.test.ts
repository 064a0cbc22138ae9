/**
 * Every process as operators run it (five real OS processes, real Postgres, real HTTP on loopback),
 * exporting through the real OTLP/HTTP exporters to a loopback receiver: traces, metrics and logs
 * arrive from each, `LOG_FORMAT=json` output is JSON line by line, and no configured secret appears
 * anywhere, neither in any process's output nor in anything exported.
 */
import { TestDatabase, TestDatabaseLive } from "@ecommerce/db/testing"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { inject } from "vitest"
import type { OtlpReceiver } from "../test-support/OtlpReceiver.ts"
import {
  expectJsonLines,
  expectNoSecret,
  expectOneTracePerCheckout,
  expectResources,
  expectSagaLogs,
  expectSagaMetrics,
  expectServerSpans,
  tracesOf
} from "./otlpExpectations.ts"
import { cards, orchestratorLogin, placeWork, receiver, services, startRefused, startSystem } from "./otlpSystem.ts"

layer(TestDatabaseLive(inject("adminUrl"), inject("templateDatabase")), { excludeTestServices: true })(
  "telemetry of real processes",
  (it) => {
    it.effect(
      "traces, metrics and logs reach an OTLP receiver from every process; JSON logs; no secret anywhere",
      () =>
        Effect.gen(function*() {
          const db = yield* TestDatabase
          const otlp = yield* receiver
          yield* orchestratorLogin
          const system = yield* startSystem(db.url, otlp.url)
          const { processes } = system
          const refused = yield* startRefused(system.common)
          const { deadEventId, orderIds } = yield* placeWork(system)
          const sql = yield* SqlClient.SqlClient
          const finals = yield* sql<{ orderId: string; status: string }>`
            select order_id::text as "orderId", status from order_ledger where order_id in ${sql.in(orderIds)}`.pipe(
            Effect.filterOrFail((rows) => rows.length === orderIds.length && rows.every((r) => r.status !== "PENDING")),
            Effect.retry(Schedule.spaced("200 millis")),
            Effect.timeout("300 seconds")
          )
          const statusOf = new Map(finals.map((row) => [row.orderId, row.status]))
          expect(orderIds.map((id) => statusOf.get(id))).toEqual(
            cards.map((card) => card === "tok_visa" ? "CONFIRMED" : "CANCELLED")
          )
          // Metrics are exported every 500 ms: wait for the five outcomes before stopping anything.
          const finishedTotal = (r: OtlpReceiver) =>
            r.latestPoints("orchestrator", "saga.finished").reduce((sum, point) => sum + point.value, 0)
          yield* Effect.promise(() =>
            otlp.waitFor("five finished sagas in the metrics", (r) => finishedTotal(r) === 5, 120_000)
          )
          yield* Effect.promise(() =>
            otlp.waitFor("spans, metrics and logs from all five processes", (r) =>
              services.every((name) =>
                r.spans().some((span) =>
                  span.service === name
                ) &&
                r.logs().some((log) => log.service === name) &&
                r.metricResources().some((resource) => resource["service.name"] === name)
              ), 420_000)
          )
          yield* Effect.promise(() =>
            refused.exited
          ).pipe(Effect.map((code) => expect(code).toBe(1)))
          // SIGTERM: each process flushes what it still holds before exiting 0.
          const codes = yield* Effect.promise(() =>
            Promise.all(services.map((name) => processes[name].stop("SIGTERM")))
          )
          expect(codes).toEqual(services.map(() => 0))

          expectResources(otlp)
          expectServerSpans(otlp)
          expectJsonLines(processes, refused)
          const traceOf = yield* tracesOf(orderIds)
          expectOneTracePerCheckout(otlp.spans(), orderIds, traceOf)
          expectSagaMetrics(otlp)
          expectSagaLogs(processes.orchestrator, orderIds, traceOf, deadEventId)
          expectNoSecret(otlp, processes, refused)
        }).pipe(Effect.scoped),
      1_500_000
    )
  }
)

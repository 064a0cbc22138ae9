/**
 * docker-compose.yml must let a replica finish its stop: `docker compose stop` (or a rolling
 * update) sends SIGTERM, then SIGKILL after the service's `stop_grace_period` (10 s unless set).
 * A replica drains for SHUTDOWN_GRACE_MS (10 s by default), then releases what it holds, and its
 * hard deadline (ExitDeadline.ts) is SHUTDOWN_GRACE_MS + 25 s; after the stop, each of the three
 * OpenTelemetry providers flushes for at most 3 s. A SIGKILL before that leaves held rows to their
 * lease expiry, which charges them an attempt and re-runs handlers that were interrupted.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import { shutdownSlackMs } from "../src/ExitDeadline.ts"
import { WorkerConfig } from "../src/WorkerConfig.ts"

const compose = parse(readFileSync(fileURLToPath(new URL("../../../docker-compose.yml", import.meta.url)), "utf8"), {
  merge: true
})

/** A compose duration ("45s", "1m30s", "500ms") in milliseconds; compose's default when unset. */
const durationMs = (value: unknown): number => {
  if (value === undefined) return 10_000
  const text = String(value)
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)]
  expect(parts.map((p) => p[0]).join(""), `stop_grace_period ${text} is a compose duration`).toBe(text)
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0)
}

/** The replica's SHUTDOWN_GRACE_MS as compose sets it (or WorkerConfig's default). */
const shutdownGraceMs = (environment: Record<string, string | number | undefined>) =>
  Effect.runSync(
    Effect.map(WorkerConfig, (config) => config.shutdownGraceMs).pipe(
      Effect.withConfigProvider(ConfigProvider.fromJson(
        Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value)]))
      ))
    )
  )

describe("docker-compose.yml", () => {
  it("gives every orchestrator replica the time its stop may take before SIGKILL", () => {
    const orchestrator = compose.services.orchestrator
    expect(orchestrator, "the orchestrator service").toBeDefined()
    const graceMs = shutdownGraceMs(orchestrator.environment ?? {})
    const stopMayTakeMs = graceMs + shutdownSlackMs + 3 * 3_000 + 1_000
    expect(durationMs(orchestrator.stop_grace_period)).toBeGreaterThanOrEqual(stopMayTakeMs)
  })
})

/**
 * docker-compose.yml must let a replica finish its stop: `docker compose stop` (or a rolling
 * update) sends SIGTERM, then SIGKILL after the service's `stop_grace_period` (10 s unless set).
 * A replica drains for SHUTDOWN_GRACE_MS (10 s by default), then releases what it holds, all within
 * its hard deadline (ExitDeadline.ts) of SHUTDOWN_GRACE_MS + 25 s; then the OpenTelemetry
 * providers flush, side by side, for at most 3 s. A SIGKILL before that leaves held rows to their
 * lease expiry, which charges them an attempt and re-runs handlers that were interrupted. And
 * compose stops a service before what it depends on: the replica must depend on the services its
 * sagas call, or they go away while its handlers drain.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import { shutdownSlackMs } from "../src/ExitDeadline.ts"
import { shutdownGraceMsConfig } from "../src/WorkerConfig.ts"

const compose = parse(
  readFileSync(fileURLToPath(new URL("../../../docker-compose.yml", import.meta.url)), "utf8"),
  { merge: true }
)

/** A compose duration ("45s", "1m30s", "500ms") in milliseconds; compose's default when unset. */
const durationMs = (value: unknown): number => {
  if (value === undefined) return 10_000
  const text = String(value)
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)]
  expect(parts.map((p) => p[0]).join(""), `stop_grace_period ${text} is a compose duration`).toBe(text)
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0)
}

/**
 * A service's environment as a map, in either of compose's forms (a mapping, or `KEY=VALUE`
 * items), with `${VAR:-default}` / `${VAR-default}` / `${VAR}` resolved as compose would with
 * nothing set in the shell: the value a fresh `docker compose up` gets.
 */
const environmentOf = (environment: unknown): Record<string, string> => {
  const entries: Array<[string, unknown]> = Array.isArray(environment)
    ? environment.map((item) => {
      const [key, ...value] = String(item).split("=")
      return [key!, value.join("=")]
    })
    : Object.entries((environment ?? {}) as Record<string, unknown>)
  const interpolate = (value: unknown) =>
    String(value ?? "").replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name, fallback) => fallback ?? "")
  return Object.fromEntries(entries.map(([key, value]) => [key, interpolate(value)]))
}

const shutdownGraceMs = (environment: Record<string, string>) =>
  Effect.runSync(shutdownGraceMsConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromJson(environment))))

describe("docker-compose.yml", () => {
  it("gives every orchestrator replica the time its stop may take before SIGKILL", () => {
    const orchestrator = compose.services.orchestrator
    expect(orchestrator, "the orchestrator service").toBeDefined()
    const graceMs = shutdownGraceMs(environmentOf(orchestrator.environment))
    expect(durationMs(orchestrator.stop_grace_period)).toBeGreaterThanOrEqual(graceMs + shutdownSlackMs + 3_000)
  })

  it("stops the orchestrator before the services its sagas call, and the edge API before payments", () => {
    const dependsOn = (service: string) => Object.keys(compose.services[service].depends_on ?? {})
    expect(dependsOn("orchestrator")).toEqual(expect.arrayContaining(["migrate", "orders", "inventory", "payments"]))
    expect(dependsOn("edge-api")).toEqual(expect.arrayContaining(["migrate", "payments"]))
  })

  it("reads a service's environment in both of compose's forms, with defaults interpolated", () => {
    expect(environmentOf({ SHUTDOWN_GRACE_MS: "${SHUTDOWN_GRACE_MS:-30000}", LEASE_MS: 2000 })).toEqual({
      SHUTDOWN_GRACE_MS: "30000",
      LEASE_MS: "2000"
    })
    expect(environmentOf(["SHUTDOWN_GRACE_MS=60000", "DATABASE_URL=postgres://a/b?x=1", "EMPTY=${UNSET}"])).toEqual({
      SHUTDOWN_GRACE_MS: "60000",
      DATABASE_URL: "postgres://a/b?x=1",
      EMPTY: ""
    })
    expect(shutdownGraceMs(environmentOf(["SHUTDOWN_GRACE_MS=60000"]))).toBe(60_000)
  })
})

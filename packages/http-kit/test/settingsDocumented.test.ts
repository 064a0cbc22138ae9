/**
 * Settings are documented from one source: every setting the code reads through `Config` has a row
 * in a settings table of the README, and where the code gives it a literal default, every table
 * that names it (README, docs/services.md, docs/sagas.md) says that default.
 *
 * The code is read as text: `Config.<kind>("NAME")` calls (and `Config.literal(...)("NAME")`), and
 * calls `helper("NAME", default)` of the small helpers that wrap them (`positiveInteger`, `rate`,
 * the clients' `settings`, ...): a helper is a function whose first parameter is a string handed to
 * `Config.<kind>(...)`. Names built at run time (the roles' `<ROLE>_DATABASE_PASSWORD`) are outside
 * what this finds; their rows are kept by hand.
 */
import { describe, expect, it } from "@effect/vitest"
import { codeSettings } from "./settingsScan/configReads.ts"
import { type Row, rowsIn } from "./settingsScan/settingsTables.ts"

const settings = codeSettings()
const readme = rowsIn("README.md")
const rows = [...readme, ...rowsIn("docs/services.md"), ...rowsIn("docs/sagas.md")]

/** `<role>-dev-password` says `orchestrator-dev-password` too. */
const says = (value: string, fallback: string) =>
  value === fallback ||
  (value.includes("<") &&
    new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/<[^>]+>/g, "[\\w.-]+")}$`).test(fallback))

/** What a row says the default of `name` is: the value in its position, or any when the counts differ. */
const documented = (row: Row, name: string) =>
  row.names.length === row.defaults.length ? [row.defaults[row.names.indexOf(name)]!] : row.defaults

describe("settings documented from one source", () => {
  it("the scan finds the settings it should (a sanity check of the scanner itself)", () => {
    const names = new Set(settings.map((setting) => setting.name))
    for (
      const name of ["WORKER_CONCURRENCY", "DATABASE_URL", "ORDERS_SERVICE_URL", "LOG_FORMAT", "CHAOS_FAIL_AFTER_RATE"]
    ) {
      expect(names).toContain(name)
    }
    expect(settings.find((setting) => setting.name === "RETRY_MAX_MS")?.fallback).toBe("300000")
    expect(settings.find((setting) => setting.name === "ORDERS_SERVICE_URL")?.fallback).toBe("http://localhost:3003")
    expect(settings.find((setting) => setting.name === "AUTHORIZATION_TTL")?.fallback).toBe("7 days")
  })

  it("every setting the code reads has a row in a README settings table", () => {
    const documentedNames = new Set(readme.flatMap((row) => row.names))
    const missing = settings.filter((setting) => !documentedNames.has(setting.name))
    expect(missing.map((setting) => `${setting.name} (${setting.where})`)).toEqual([])
  })

  it("every table row naming a setting with a literal default says that default", () => {
    const drift = settings.flatMap((setting) => {
      if (setting.fallback === undefined) return []
      // A name read in several places with different defaults (SHUTDOWN_GRACE_MS: npm start's and a
      // replica's) must have a row for each; a row must say one of the code's defaults.
      const fallbacks = new Set(settings.filter((s) => s.name === setting.name).map((s) => s.fallback))
      return rows
        .filter((row) => row.names.includes(setting.name) && row.defaults.length > 0)
        .filter((row) =>
          !documented(row, setting.name).some((value) => [...fallbacks].some((f) => f !== undefined && says(value, f)))
        )
        .map((row) =>
          `${setting.name}: ${row.doc} says ${
            documented(row, setting.name).join(" / ")
          }, ${setting.where} ${setting.fallback}`
        )
    })
    expect([...new Set(drift)]).toEqual([])
  })
})

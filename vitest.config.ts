import { defineConfig } from "vitest/config"

// packages/db/test/exitStatus.test.ts runs deliberately failing files through the real command with
// this config; they are outside the normal glob and only included when VITEST_EXIT_FIXTURES is set.
const include = process.env.VITEST_EXIT_FIXTURES
  ? ["packages/db/test/exit-fixtures/*.fixture.ts"]
  : ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "scripts/*/test/**/*.test.ts"]

export default defineConfig({
  test: {
    include,
    globalSetup: ["packages/db/test/globalSetup.ts"],
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI && !process.env.VITEST_EXIT_FIXTURES
      ? ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]]
      : ["default"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Worker tests spawn OS processes; on two cores, more parallel files only add noise.
    maxWorkers: 2,
    minWorkers: 1
  }
})

import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts"],
    globalSetup: ["packages/db/test/globalSetup.ts"],
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]] : ["default"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Worker tests spawn OS processes; on two cores, more parallel files only add noise.
    maxWorkers: 2,
    minWorkers: 1
  }
})

import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts"],
    globalSetup: ["packages/db/test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Worker tests spawn OS processes; on two cores, more parallel files only add noise.
    maxWorkers: 2,
    minWorkers: 1
  }
})

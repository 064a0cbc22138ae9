import { describe, expect, it } from "@effect/vitest"
import { makePace, prefetchHorizonMs } from "../src/outbox/Pace.ts"

describe("the local queue's size (Pace)", () => {
  it("starts small, grows to WORKER_PREFETCH for fast runs and shrinks for slow ones", () => {
    const pace = makePace({ concurrency: 16, prefetch: 512 })
    // Nothing measured yet: runs count as slow, one slot's worth is queued.
    expect(pace.prefetch()).toBe(16)
    expect(pace.capacity()).toBe(32)
    for (let i = 0; i < 100; i++) pace.record(0)
    expect(pace.prefetch()).toBe(512)
    expect(pace.lowWater()).toBe(16 + 512 - 256)
    for (let i = 0; i < 200; i++) pace.record(400)
    // 16 slots start 16 × 100 / 400 = 4 rows within the horizon.
    expect(pace.prefetch()).toBe(Math.floor((16 * prefetchHorizonMs) / pace.averageMs()))
    expect(pace.prefetch()).toBeGreaterThanOrEqual(4)
    expect(pace.prefetch()).toBeLessThanOrEqual(5)
    for (let i = 0; i < 200; i++) pace.record(60_000)
    expect(pace.prefetch()).toBe(1)
  })

  it("WORKER_PREFETCH=0 queues nothing, whatever the run times", () => {
    const pace = makePace({ concurrency: 4, prefetch: 0 })
    for (let i = 0; i < 50; i++) pace.record(0)
    expect(pace.prefetch()).toBe(0)
    expect(pace.capacity()).toBe(4)
  })
})

/**
 * How many claimed rows a replica should queue locally beyond its running ones. A deep local queue
 * keeps fast handlers busy while the next claim is in flight, but a queued row waits for a slot of
 * this replica while other replicas may sit idle: a burst of slow events would go to whichever
 * replica claims first. So the queue is sized to what the handler slots start within
 * `horizonMs` at the recent average run time, capped by WORKER_PREFETCH: no-op events get the
 * whole WORKER_PREFETCH, runs of ~100 ms 16 at the default concurrency, slower ones fewer.
 */
export const prefetchHorizonMs = 100

/** Weight of the newest run in the running average (about the last ten runs count). */
const alpha = 0.1

export const makePace = (options: { readonly concurrency: number; readonly prefetch: number }) => {
  /** Until the first run finishes, runs are assumed slow: one slot's worth of rows is queued. */
  let averageMs = prefetchHorizonMs
  const prefetch = () => {
    if (options.prefetch === 0) return 0
    const fits = Math.floor((options.concurrency * prefetchHorizonMs) / Math.max(averageMs, 0.01))
    return Math.max(1, Math.min(options.prefetch, fits))
  }
  return {
    /** Records how long one run took (from its start to its Exit). */
    record: (ms: number): void => {
      averageMs += alpha * (Math.max(0, ms) - averageMs)
    },
    prefetch,
    /** Rows to hold at most: handler slots plus the local queue. */
    capacity: () => options.concurrency + prefetch(),
    /** Held rows at or below which a finishing run wakes the fetcher: the queue drained by half. */
    lowWater: () => {
      const queued = prefetch()
      return options.concurrency + queued - Math.max(1, Math.floor(queued / 2))
    },
    averageMs: () => averageMs
  } as const
}

export type Pace = ReturnType<typeof makePace>

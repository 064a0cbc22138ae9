import { Effect, Queue } from "effect"
import type { WakeupSource } from "./Metrics.ts"

/**
 * Reasons for the fetcher to claim. A one-slot dropping queue: any burst of wake-ups (10,000
 * NOTIFYs, every handler finishing at once) collapses into one pending wake-up, whose source is
 * the first of the burst.
 */
export const makeWakeups = Effect.map(Queue.dropping<WakeupSource>(1), (queue) => ({
  wake: (source: WakeupSource): void => void queue.unsafeOffer(source),
  take: Queue.take(queue)
}))

export type Wakeups = Effect.Effect.Success<typeof makeWakeups>

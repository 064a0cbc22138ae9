/**
 * Delay before retry number `attempt` (1 = the first retry after the first failed run):
 *   ceiling = min(RETRY_MAX_MS, RETRY_BASE_MS * 2^(attempt - 1))
 *   delay   = ceiling / 2 + random * ceiling / 2          ("equal jitter": never below half)
 * Jitter spreads the retries of a burst that failed together; the floor keeps backoff meaningful.
 */
export const retryDelayMs = (attempt: number, baseMs: number, maxMs: number, random: number): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30))
  return Math.round(ceiling / 2 + random * (ceiling / 2))
}

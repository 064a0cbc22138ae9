/** Where the repository is, sleeping, and the medians and quantiles every part reports. */
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../..", import.meta.url))
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
export const median = (xs: ReadonlyArray<number>) => quantile(xs, 0.5)
export const round = (x: number, digits = 0) => Number.isFinite(x) ? Number(x.toFixed(digits)) : null

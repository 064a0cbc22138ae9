/** Where the repository is, sleeping, the medians, quantiles and same-round ratios the parts report, and round orders. */
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

/**
 * `value(on) / value(off)` for every round that has both (rows carry their round; older results do
 * not): same-round ratios, steadier than a ratio of medians when the machine drifts between rounds.
 */
export const sameRoundRatios = <R extends { readonly round?: number }>(
  rows: ReadonlyArray<R>,
  isOn: (row: R) => boolean,
  isOff: (row: R) => boolean,
  value: (row: R) => number | null
): Array<number> =>
  rows.filter((row) => isOn(row) && row.round !== undefined).flatMap((on) => {
    const off = rows.find((row) => isOff(row) && row.round === on.round)
    const [a, b] = [value(on), off ? value(off) : null]
    return a && b ? [a / b] : []
  })

/**
 * The plan in a shuffled order for round `round`, the same for a given round in every run (a
 * seeded xorshift): over the rounds each system follows the others in turn, so none always pays for
 * the same predecessor (a rotation, even reversed every other round, kept most predecessors fixed).
 */
export const roundOrder = <A>(plan: ReadonlyArray<A>, round: number): Array<A> => {
  let seed = Math.imul(round + 1, 2654435761) >>> 0 || 1
  const next = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    seed >>>= 0
    return seed / 2 ** 32
  }
  const order = [...plan]
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}

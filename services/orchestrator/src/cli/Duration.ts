const units: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

/** `500ms`, `30s`, `15m`, `2h`, `7d`, `1w` → milliseconds; anything else → undefined. */
export const parseDuration = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)$/.exec(text.trim())
  if (match === null) return undefined
  const ms = Number(match[1]) * units[match[2]!]!
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined
}

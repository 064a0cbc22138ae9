import { fingerprintOf } from "@ecommerce/http-kit"
import { expect, it } from "@effect/vitest"
import { FastCheck } from "effect"

/** The same value with every object's keys in another order (a seeded rotation per level). */
const reorder = (value: unknown, seed: number): unknown => {
  if (Array.isArray(value)) return value.map((item) => reorder(item, seed + 1))
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
    const shift = entries.length === 0 ? 0 : seed % entries.length
    const rotated = [...entries.slice(shift), ...entries.slice(0, shift)].reverse()
    return Object.fromEntries(rotated.map(([key, item]) => [key, reorder(item, seed + 1)]))
  }
  return value
}

const json = FastCheck.jsonValue({ maxDepth: 4 })

it.prop(
  "an idempotency fingerprint does not depend on the order of object keys",
  [json, FastCheck.nat()],
  ([value, seed]) => {
    expect(fingerprintOf(reorder(value, seed))).toBe(fingerprintOf(value))
  }
)

it.prop(
  "requests that differ in a value have different fingerprints",
  [FastCheck.dictionary(FastCheck.string(), json, { minKeys: 1 }), FastCheck.string()],
  ([body, extra]) => {
    const key = Object.keys(body)[0]!
    const changed = { ...body, [key]: [body[key], extra] }
    expect(fingerprintOf({ endpoint: "create", body: changed })).not.toBe(fingerprintOf({ endpoint: "create", body }))
  }
)

import { HttpApiError } from "@effect/platform"

/**
 * A 400 for a request that passed its schema but breaks a rule across fields (a sku's lines summing
 * past the largest quantity, a total past the largest amount). Every API declares HttpApiDecodeError,
 * so typed clients decode it like any malformed body, and `path` names the field.
 */
export const invalidRequest = (path: ReadonlyArray<string | number>, message: string) =>
  new HttpApiError.HttpApiDecodeError({
    issues: [{ _tag: "Type", path: [...path], message }],
    message: `${path.join(".")}: ${message}`
  })

import { Authorization, Unauthorized } from "@ecommerce/contracts"
import { Effect, Layer, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { ServiceToken } from "./ServiceToken.ts"

// Hash both sides first: timingSafeEqual needs equal lengths, and the hash hides the token's length.
const digest = (value: string) => createHash("sha256").update(value).digest()

/**
 * Checks a presented bearer token against every accepted one (several while keys rotate), each in
 * constant time; fails with `Unauthorized` naming no token.
 */
export const checkBearer = (accepted: ReadonlyArray<Redacted.Redacted<string>>) => {
  const digests = accepted.map((token) => digest(Redacted.value(token)))
  return (presented: Redacted.Redacted<string>): Effect.Effect<void, Unauthorized> => {
    const candidate = digest(Redacted.value(presented))
    // Compare with all of them, so the time taken does not tell which key (if any) matched.
    const matched = digests.reduce((found, accepted) => timingSafeEqual(candidate, accepted) || found, false)
    return matched ? Effect.void : Effect.fail(new Unauthorized({ message: "missing or invalid bearer token" }))
  }
}

/** The server side of the contracts' `Authorization` middleware, for a given token. */
export const BearerAuth = (token: Redacted.Redacted<string>) =>
  Layer.succeed(Authorization, Authorization.of({ bearer: checkBearer([token]) }))

/** `BearerAuth` with the token from `SERVICE_TOKEN`. */
export const BearerAuthLive = Layer.unwrapEffect(Effect.map(ServiceToken, BearerAuth))

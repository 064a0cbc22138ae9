import { Authorization, Unauthorized } from "@ecommerce/contracts"
import { Effect, Layer, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { ServiceToken } from "./ServiceToken.ts"

// Hash both sides first: timingSafeEqual needs equal lengths, and the hash hides the token's length.
const digest = (value: string) => createHash("sha256").update(value).digest()

/** The server side of the contracts' `Authorization` middleware, for a given token. */
export const BearerAuth = (token: Redacted.Redacted<string>) =>
  Layer.succeed(
    Authorization,
    Authorization.of({
      bearer: (presented) =>
        timingSafeEqual(digest(Redacted.value(presented)), digest(Redacted.value(token)))
          ? Effect.void
          : Effect.fail(new Unauthorized({ message: "missing or invalid bearer token" }))
    })
  )

/** `BearerAuth` with the token from `SERVICE_TOKEN`. */
export const BearerAuthLive = Layer.unwrapEffect(Effect.map(ServiceToken, BearerAuth))

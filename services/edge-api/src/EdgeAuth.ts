import { EdgeAuthorization } from "@ecommerce/contracts"
import { checkBearer, ServiceToken } from "@ecommerce/http-kit"
import { Config, ConfigError, Either, Layer, Redacted } from "effect"

/**
 * `EDGE_API_KEYS`: the keys clients of the public edge API present as `Authorization: Bearer <key>`,
 * comma-separated so a new key can be added before the old one is removed. The development default
 * `dev-edge-key` is public knowledge: set real keys anywhere but a laptop. A key equal to
 * SERVICE_TOKEN is refused at startup: the edge must never accept the internal token.
 */
export const EdgeApiKeys: Config.Config<ReadonlyArray<Redacted.Redacted<string>>> = Config.all([
  Config.redacted("EDGE_API_KEYS").pipe(Config.withDefault(Redacted.make("dev-edge-key"))),
  ServiceToken
]).pipe(
  Config.mapOrFail(([keys, serviceToken]) => {
    const list = Redacted.value(keys).split(",").map((key) => key.trim()).filter((key) => key.length > 0)
    if (list.length === 0) {
      return Either.left(ConfigError.InvalidData(["EDGE_API_KEYS"], "must hold at least one key"))
    }
    if (list.includes(Redacted.value(serviceToken))) {
      return Either.left(ConfigError.InvalidData(["EDGE_API_KEYS"], "must not contain the SERVICE_TOKEN"))
    }
    return Either.right(list.map((key) => Redacted.make(key)))
  })
)

/** The edge's `EdgeAuthorization` for the given keys. */
export const EdgeAuth = (keys: ReadonlyArray<Redacted.Redacted<string>>) =>
  Layer.succeed(EdgeAuthorization, EdgeAuthorization.of({ bearer: checkBearer(keys) }))

/** `EdgeAuth` with the keys from `EDGE_API_KEYS`. */
export const EdgeAuthLive = Layer.unwrapEffect(Config.map(EdgeApiKeys, EdgeAuth))

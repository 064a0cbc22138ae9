import { Config, Redacted } from "effect"

/**
 * The shared bearer token of service-to-service calls, `SERVICE_TOKEN`. The development default is
 * public knowledge (docs/services.md): set a real one anywhere but a laptop.
 */
export const ServiceToken: Config.Config<Redacted.Redacted<string>> = Config.redacted("SERVICE_TOKEN").pipe(
  Config.withDefault(Redacted.make("dev-service-token")),
  Config.validate({ message: "must not be empty", validation: (token) => Redacted.value(token).length > 0 })
)

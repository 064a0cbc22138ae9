import { Config } from "effect"

/** A service's listen port setting, with its name for messages (`ORDERS_PORT=3003 is in use`). */
export interface PortSetting {
  readonly name: string
  readonly config: Config.Config<number>
}

/** A service's listen port setting, e.g. `servicePort("INVENTORY_PORT", 3001)`. */
export const servicePort = (name: string, fallback: number): PortSetting => ({
  name,
  config: Config.port(name).pipe(Config.withDefault(fallback))
})

const nonEmpty = { message: "must not be empty", validation: (s: string) => s.trim().length > 0 }

/**
 * Where a service listens: loopback unless `HOST` says otherwise (docker-compose sets `0.0.0.0`), so
 * a service started on a laptop or a shared host is not reachable from the network by accident.
 */
export const ServiceHost = Config.string("HOST").pipe(Config.validate(nonEmpty), Config.withDefault("127.0.0.1"))

/** `MAX_BODY_BYTES`: the largest request body a service reads (413 beyond), default 1 MiB. */
export const MaxBodyBytes = Config.integer("MAX_BODY_BYTES").pipe(
  Config.validate({ message: "must be a positive number of bytes", validation: (n) => n > 0 }),
  Config.withDefault(1024 * 1024)
)

/**
 * `SERVICE_TOKEN` must not be empty: checked before anything starts so that the message names it
 * (`ServiceToken` validates after its default, which drops the name from the message). The value is
 * not kept: `ServiceToken` reads it as Redacted.
 */
export const ServiceTokenNotEmpty: Config.Config<void> = Config.string("SERVICE_TOKEN").pipe(
  Config.validate(nonEmpty),
  Config.option,
  Config.map(() => undefined)
)

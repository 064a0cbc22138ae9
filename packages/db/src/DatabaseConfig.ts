import { Config, Option, Redacted } from "effect"
import type { ClientConfig } from "pg"

/**
 * Where Postgres is. `DATABASE_URL` wins when set; otherwise the five `DATABASE_*` parts with
 * local-development defaults. The password (or the whole URL) stays Redacted until the driver needs it.
 */
export interface DatabaseConfig {
  readonly url: Option.Option<Redacted.Redacted<string>>
  readonly host: string
  readonly port: number
  readonly database: string
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** A URL the driver can use: parsed by `new URL` (as `withCredentials` does) with a postgres scheme. */
const isPostgresUrl = (url: string) => {
  try {
    const parsed = new URL(url)
    return (parsed.protocol === "postgres:" || parsed.protocol === "postgresql:") && parsed.hostname !== ""
  } catch {
    return false
  }
}

export const DatabaseConfig: Config.Config<DatabaseConfig> = Config.all({
  // Validated as a string (a Redacted config loses the setting's name from the message), then redacted.
  url: Config.string("DATABASE_URL").pipe(
    Config.validate({
      message: "must be a postgres://user:password@host:port/database URL",
      validation: isPostgresUrl
    }),
    Config.map(Redacted.make),
    Config.option
  ),
  host: Config.string("DATABASE_HOST").pipe(Config.withDefault("localhost")),
  port: Config.port("DATABASE_PORT").pipe(Config.withDefault(5432)),
  database: Config.string("DATABASE_NAME").pipe(Config.withDefault("ecommerce")),
  username: Config.string("DATABASE_USER").pipe(Config.withDefault("ecommerce")),
  password: Config.redacted("DATABASE_PASSWORD").pipe(Config.withDefault(Redacted.make("ecommerce")))
})

/** Options for a raw `pg.Client` (the LISTEN connection), from the same settings as the pool. */
export const pgClientOptions = (config: DatabaseConfig): ClientConfig =>
  Option.match(config.url, {
    onSome: (url) => ({ connectionString: Redacted.value(url) }),
    onNone: () => ({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.username,
      password: Redacted.value(config.password)
    })
  })

/** Where `PgClient.layer` connects, from the same settings: the URL if set, else the five parts. */
export const poolConnection = (config: DatabaseConfig) =>
  Option.match(config.url, {
    onSome: (url) => ({ url }),
    onNone: () => ({
      host: config.host,
      port: config.port,
      database: config.database,
      username: config.username,
      password: config.password
    })
  })

/** `host:port/database` for messages; never includes credentials. */
export const describeTarget = (config: DatabaseConfig): string =>
  Option.match(config.url, {
    onSome: (url) => {
      try {
        const parsed = new URL(Redacted.value(url))
        return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`
      } catch {
        return "DATABASE_URL (unparseable)"
      }
    },
    onNone: () => `${config.host}:${config.port}/${config.database}`
  })

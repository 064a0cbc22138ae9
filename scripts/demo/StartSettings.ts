import { Config, Data, Effect, Option, Redacted } from "effect"

export class BadUsage extends Data.TaggedError("BadUsage")<{ readonly message: string }> {}

/** `npm start [-- --no-demo | --orders N]`. */
export const parseArgs = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    let demo = true
    let orders = Option.none<number>()
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!
      if (arg === "--no-demo") demo = false
      else if (arg === "--orders") {
        const n = Number(argv[++i])
        if (!Number.isInteger(n) || n <= 0) return yield* new BadUsage({ message: "--orders needs a positive integer" })
        orders = Option.some(n)
      } else return yield* new BadUsage({ message: `unknown argument ${arg}` })
    }
    if (!demo && Option.isSome(orders)) {
      return yield* new BadUsage({ message: "--orders and --no-demo exclude each other" })
    }
    return { demo, orders }
  })

export type StartArgs = Effect.Effect.Success<ReturnType<typeof parseArgs>>

export const StartSettings = Config.all({
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
  embeddedPort: Config.port("EMBEDDED_PG_PORT").pipe(Config.withDefault(54329)),
  dataDir: Config.string("START_DATA_DIR").pipe(Config.withDefault(".data")),
  rate: Config.number("DEMO_RATE").pipe(
    Config.validate({ message: "must be a positive number of checkouts per second", validation: (n) => n > 0 }),
    Config.withDefault(5)
  ),
  edgeKeys: Config.string("EDGE_API_KEYS").pipe(Config.withDefault("dev-edge-key")),
  orchestratorPassword: Config.redacted("ORCHESTRATOR_DATABASE_PASSWORD").pipe(
    Config.withDefault(Redacted.make("orchestrator-dev-password"))
  ),
  edgePort: Config.port("EDGE_API_PORT").pipe(Config.withDefault(3000)),
  inventoryPort: Config.port("INVENTORY_PORT").pipe(Config.withDefault(3001)),
  paymentsPort: Config.port("PAYMENTS_PORT").pipe(Config.withDefault(3002)),
  ordersPort: Config.port("ORDERS_PORT").pipe(Config.withDefault(3003)),
  graceMs: Config.integer("SHUTDOWN_GRACE_MS").pipe(Config.withDefault(20_000)),
  settleTimeoutMs: Config.integer("SETTLE_TIMEOUT_MS").pipe(Config.withDefault(300_000))
})

export type StartSettings = Config.Config.Success<typeof StartSettings>

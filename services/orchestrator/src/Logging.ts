import { LoggerLive } from "@ecommerce/telemetry"

/** The shared logger (`LOG_FORMAT`, `LOG_LEVEL`; see packages/telemetry), named for this process. */
export const LoggingLive = LoggerLive({ serviceName: "orchestrator" })

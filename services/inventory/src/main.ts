import { ServiceLive, servicePort } from "@ecommerce/http-kit"
import { withObservability } from "@ecommerce/telemetry"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { InventoryApiLive } from "./Http.ts"

ServiceLive({ api: InventoryApiLive, role: "inventory", port: servicePort("INVENTORY_PORT", 3001) }).pipe(
  Layer.launch,
  withObservability({ serviceName: "inventory" }),
  (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
)

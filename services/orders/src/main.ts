import { ServiceLive, servicePort } from "@ecommerce/http-kit"
import { withObservability } from "@ecommerce/telemetry"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { OrdersApiLive } from "./Http.ts"

ServiceLive({ api: OrdersApiLive, role: "orders", port: servicePort("ORDERS_PORT", 3003) }).pipe(
  Layer.launch,
  withObservability({ serviceName: "orders" }),
  (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
)

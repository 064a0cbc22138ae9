import { ServiceLive, servicePort } from "@ecommerce/http-kit"
import { PaymentsClient } from "@ecommerce/http-kit/clients"
import { withObservability } from "@ecommerce/telemetry"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { EdgeApiLive } from "./Http.ts"

ServiceLive({
  api: EdgeApiLive.pipe(Layer.provide(PaymentsClient.Live)),
  role: "edge_api",
  port: servicePort("EDGE_API_PORT", 3000)
}).pipe(
  Layer.launch,
  withObservability({ serviceName: "edge-api" }),
  (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
)

import { ServiceLive, servicePort } from "@ecommerce/http-kit"
import { withObservability } from "@ecommerce/telemetry"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { PaymentsApiLive } from "./Http.ts"

ServiceLive({ api: PaymentsApiLive, role: "payments", port: servicePort("PAYMENTS_PORT", 3002) }).pipe(
  Layer.launch,
  withObservability({ serviceName: "payments" }),
  (program) => NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
)

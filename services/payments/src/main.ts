import { ServiceLive, servicePort } from "@ecommerce/http-kit"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { PaymentsApiLive } from "./Http.ts"

ServiceLive({ api: PaymentsApiLive, role: "payments", port: servicePort("PAYMENTS_PORT", 3002) }).pipe(
  Layer.launch,
  NodeRuntime.runMain
)

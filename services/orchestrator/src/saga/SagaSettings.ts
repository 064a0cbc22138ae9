import { Context, Layer } from "effect"
import { SagaConfig } from "./SagaConfig.ts"

/** The engine's settings as a service, so tests can provide them without Config. */
export class SagaSettings extends Context.Tag("@ecommerce/orchestrator/SagaSettings")<SagaSettings, SagaConfig>() {
  static readonly Live = Layer.effect(SagaSettings, SagaConfig)
}

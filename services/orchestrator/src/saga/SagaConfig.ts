import { Config } from "effect"
import { nonNegativeInteger, positiveInteger } from "../IntegerSettings.ts"

/** Settings of the saga engine; docs/sagas.md lists them with their defaults. */
export const SagaConfig = Config.all({
  /** Overall deadline of a saga from its start; passing it starts compensation. */
  sagaTimeoutMs: positiveInteger("SAGA_TIMEOUT_MS", 300_000),
  /** Per-call timeout of a step that sets none itself; a timed-out call has an unknown outcome. */
  stepTimeoutMs: positiveInteger("SAGA_STEP_TIMEOUT_MS", 10_000),
  /** Retry delays up to this are slept in the handler; longer ones park the saga (no slot held). */
  inlineRetryMaxMs: nonNegativeInteger("SAGA_INLINE_RETRY_MAX_MS", 2_000),
  circuitFailureThreshold: positiveInteger("CIRCUIT_FAILURE_THRESHOLD", 5),
  circuitCooldownMs: positiveInteger("CIRCUIT_COOLDOWN_MS", 10_000),
  /** How often each replica looks for in-flight sagas whose trigger event the worker dead-lettered. */
  deadLetterSweepMs: positiveInteger("SAGA_DEAD_LETTER_SWEEP_MS", 30_000),
  /** The worker's setting: how long startup keeps retrying database steps (deploy safety here). */
  startupTimeoutMs: positiveInteger("STARTUP_TIMEOUT_MS", 30_000),
  /** Completed and compensated sagas (with their steps) are deleted this long after they ended. */
  retentionHours: positiveInteger("SAGA_RETENTION_HOURS", 168),
  /** In-flight sagas at a step this code does not define: refuse to start, or park them. */
  unknownSteps: Config.literal("refuse", "park")("SAGA_UNKNOWN_STEPS").pipe(Config.withDefault("refuse" as const))
})

export type SagaConfig = Config.Config.Success<typeof SagaConfig>

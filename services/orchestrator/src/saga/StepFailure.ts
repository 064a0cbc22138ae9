import { Data } from "effect"

/**
 * How one attempt of a step (or compensation) failed, after classification:
 * - `transient`: retry with backoff (transport error, timeout, 5xx, 429, an open circuit);
 * - `permanent`: the service said no (a typed 4xx from the contract), or retrying cannot help.
 * `unknownOutcome` says the call may have been applied anyway (a timeout, a 5xx after the effect):
 * such a step is compensated even though it never reported success.
 */
export class StepFailure extends Data.TaggedError("StepFailure")<{
  readonly kind: "transient" | "permanent"
  readonly message: string
  readonly unknownOutcome: boolean
  /** The `_tag` of the error that was classified, for reasons ("PaymentDeclined"). */
  readonly errorTag: string
  /** An open circuit knows when it will let a trial call through: do not retry before. */
  readonly retryAfterMs?: number
  /**
   * The call was never made (an open circuit, or a half-open one busy with its trial): not an
   * attempt, so it spends none of the step's retry budget; the saga deadline still bounds the wait.
   */
  readonly notAttempted?: boolean
  /**
   * The saga must not go on with this event (its data does not match what it claims): it
   * compensates what it did, then ends `needs_attention` rather than `compensated`, so an operator
   * reads the reason instead of the order passing for an ordinary cancellation.
   */
  readonly refusal?: boolean
  readonly cause?: unknown
}> {}

import type { HttpClientError } from "@effect/platform"
import { Effect } from "effect"
import { StepFailure } from "./StepFailure.ts"

/**
 * - `transient`: retry; the call may have been applied (timeout, 5xx, transport error).
 * - `rejected`: permanent; the service refused and applied nothing (typed 4xx errors roll back).
 * - `unknown`: permanent, and the call may have been applied (e.g. a response we cannot decode).
 */
export type Verdict = "transient" | "rejected" | "unknown"

type AnyFunction = (...args: ReadonlyArray<never>) => unknown
type MethodError<F> = F extends (...args: ReadonlyArray<never>) => Effect.Effect<unknown, infer E, unknown> ? E : never

/**
 * Every error any method of a client derived with `HttpApiClient.make` can fail with: the typed
 * errors of each endpoint and group, plus HttpClientError, ParseError, HttpApiDecodeError.
 */
export type ClientError<Client> = {
  [Group in keyof Client]: Client[Group] extends AnyFunction ? MethodError<Client[Group]>
    : { [Method in keyof Client[Group]]: MethodError<Client[Group][Method]> }[keyof Client[Group]]
}[keyof Client]

/**
 * One entry per `_tag` of E, no more and no fewer: when a contract gains an error, the classifier
 * of its client no longer type-checks until someone decides what that error means for a saga.
 */
export type Classifier<E extends { readonly _tag: string }> = {
  readonly [Tag in E["_tag"]]: Verdict | ((error: Extract<E, { readonly _tag: Tag }>) => Verdict)
}

/** 408, 429 and 5xx are worth retrying; any other undeclared status is a bug on one side. */
export const byStatus = (error: HttpClientError.ResponseError): Verdict =>
  error.response.status === 408 || error.response.status === 429 || error.response.status >= 500
    ? "transient"
    : "unknown"

const describe = (error: { readonly _tag: string }): string => {
  if (
    "response" in error && typeof error.response === "object" && error.response !== null && "status" in error.response
  ) {
    return `${error._tag} ${String(error.response.status)}`
  }
  const message = "message" in error && typeof error.message === "string" ? error.message : ""
  return message.length > 0 ? `${error._tag}: ${message}` : error._tag
}

export const classify = <E extends { readonly _tag: string }>(
  service: string,
  classifier: Classifier<E>,
  error: E
): StepFailure => {
  const entry = classifier[error._tag as E["_tag"]] as Verdict | ((e: E) => Verdict)
  const verdict = typeof entry === "function" ? entry(error) : entry
  return new StepFailure({
    kind: verdict === "transient" ? "transient" : "permanent",
    unknownOutcome: verdict !== "rejected",
    errorTag: error._tag,
    message: `${service}: ${describe(error)}`,
    cause: error
  })
}

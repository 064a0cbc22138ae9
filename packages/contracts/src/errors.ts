import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** Missing or wrong `Authorization: Bearer <SERVICE_TOKEN>`. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** The Idempotency-Key was already used with a different request (endpoint or body). */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()(
  "IdempotencyKeyReused",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

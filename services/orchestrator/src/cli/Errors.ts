import { Data } from "effect"

/** An operator action that cannot go ahead; the message says why and what to do. Exit code 1. */
export class Refused extends Data.TaggedError("Refused")<{ readonly message: string }> {}

/** A saga or order the operator named does not exist. Exit code 1. */
export class NotFound extends Data.TaggedError("NotFound")<{ readonly message: string }> {}

/** Arguments that parse but do not make sense together. Exit code 2, with the usage. */
export class BadArguments extends Data.TaggedError("BadArguments")<{ readonly message: string }> {}

import { Effect } from "effect"

/** A statement as the service sees it: its failures (SqlError, a row that does not decode) are defects. */
type Defect<S> = S extends (...args: infer A) => Effect.Effect<infer X, infer _E, infer R>
  ? (...args: A) => Effect.Effect<X, never, R>
  : S extends Effect.Effect<infer X, infer _E, infer R> ? Effect.Effect<X, never, R>
  : S

export type Repository<Statements> = { readonly [K in keyof Statements]: Defect<Statements[K]> }

/**
 * The one place a repository turns its infrastructure errors into defects: each statement (a
 * function returning an Effect, or an Effect) dies on SqlError and on a row that does not decode
 * (ParseError), so business code never sees either. Repositories build their statements with
 * `SqlSchema` and return `repository({ ... })`.
 */
export const repository = <const Statements extends Record<string, unknown>>(
  statements: Statements
): Repository<Statements> =>
  Object.fromEntries(
    Object.entries(statements).map(([name, statement]) => [
      name,
      typeof statement === "function"
        ? (...args: ReadonlyArray<unknown>) => Effect.orDie(statement(...args))
        : Effect.isEffect(statement)
        ? Effect.orDie(statement)
        : statement
    ])
  ) as Repository<Statements>

import { Console } from "effect"

/** `--json`: the data as one JSON document on stdout, for scripts (`jq`). */
export const printJson = (data: unknown) => Console.log(JSON.stringify(data, null, 2))

const cell = (value: unknown): string =>
  value === null || value === undefined ? "-" : typeof value === "object" ? JSON.stringify(value) : String(value)

/** A plain aligned table; an empty one says so instead of printing only a header. */
export const table = (
  columns: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<unknown>>,
  empty = "(none)"
): string => {
  if (rows.length === 0) return empty
  const text = rows.map((row) => row.map(cell))
  const widths = columns.map((column, i) => Math.max(column.length, ...text.map((row) => row[i]!.length)))
  const line = (row: ReadonlyArray<string>) => row.map((value, i) => value.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(columns), ...text.map(line)].join("\n")
}

/** Human output or `--json`, chosen by the flag every read command has. */
export const emit = <A>(json: boolean, data: A, human: (data: A) => string) =>
  json ? printJson(data) : Console.log(human(data))

export const formatMs = (ms: number | null | undefined): string =>
  ms === null || ms === undefined
    ? "-"
    : ms < 1_000
    ? `${Math.round(ms)} ms`
    : ms < 120_000
    ? `${(ms / 1_000).toFixed(1)} s`
    : ms < 7_200_000
    ? `${Math.round(ms / 60_000)} min`
    : `${(ms / 3_600_000).toFixed(1)} h`

/** An error message from a saga's error record, or the record itself. */
export const errorText = (error: unknown): string | null =>
  error === null || error === undefined
    ? null
    : typeof error === "object" && "message" in error && typeof error.message === "string"
    ? error.message
    : JSON.stringify(error)

export const stderr = (text: string) => Console.error(text)

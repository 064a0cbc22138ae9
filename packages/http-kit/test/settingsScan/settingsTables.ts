/** The settings tables of the README and docs/: for each row, the settings it names and the defaults it gives. */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { root } from "./configReads.ts"

export interface Row {
  readonly doc: string
  readonly names: ReadonlyArray<string>
  readonly defaults: ReadonlyArray<string>
}

const cells = (line: string) => line.split("|").slice(1, -1).map((cell) => cell.trim())

/** `3000`–`3003` is four values; `a` / `b`, `a`, `b` and `a, b` are lists. */
const defaultsIn = (cell: string) => {
  const range = /^`?(\d+)`?\s*[–-]\s*`?(\d+)`?$/.exec(cell)
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])]
    return Array.from({ length: to - from + 1 }, (_, i) => String(from + i))
  }
  return cell.replace(/\(e\.g\..*\)/, "").split(/,|\s\/\s/).map((part) => part.trim().replace(/^`|`$/g, ""))
}

/**
 * The settings a first cell names. A shorthand (`_EXPORT_TIMEOUT`, `..._METRICS_ENDPOINT`) replaces
 * as many trailing words of the cell's first name as the cell's first shorthand has:
 * `OTEL_BSP_SCHEDULE_DELAY`, `_EXPORT_TIMEOUT`, `_MAX_QUEUE_SIZE` names OTEL_BSP_MAX_QUEUE_SIZE.
 */
const namesIn = (cell: string) => {
  const tokens = [...cell.matchAll(/`(?:\.\.\.)?([A-Z_][A-Z0-9_]+)`/g)].map((match) => match[1]!)
  const [first] = tokens
  const shorthand = tokens.find((token) => token.startsWith("_"))
  if (first === undefined || shorthand === undefined) return tokens
  const prefix = first.split("_").slice(0, -(shorthand.split("_").length - 1)).join("_")
  return tokens.map((token) => token.startsWith("_") ? prefix + token : token)
}

/** The rows of every table with a "Default" column whose first cell names settings. */
export const rowsIn = (doc: string): Array<Row> => {
  const lines = readFileSync(join(root, doc), "utf8").split("\n")
  const rows: Array<Row> = []
  let defaultColumn = -1
  for (const line of lines) {
    if (!line.startsWith("|")) {
      defaultColumn = -1
      continue
    }
    const row = cells(line)
    if (defaultColumn < 0) {
      defaultColumn = row.indexOf("Default")
      continue
    }
    const names = namesIn(row[0]!)
    const fallback = row[defaultColumn] ?? ""
    // "unset", "as above", "(embedded)": no value to compare.
    if (names.length > 0) rows.push({ doc, names, defaults: /`|^\d/.test(fallback) ? defaultsIn(fallback) : [] })
  }
  return rows
}

/**
 * Settings are documented from one source: every setting the code reads through `Config` has a row
 * in a settings table of the README, and where the code gives it a literal default, every table
 * that names it (README, docs/services.md, docs/sagas.md) says that default.
 *
 * The code is read as text: `Config.<kind>("NAME")` calls (and `Config.literal(...)("NAME")`), and
 * calls `helper("NAME", default)` of the small helpers that wrap them (`positiveInteger`, `rate`,
 * the clients' `settings`, ...): a helper is a function whose first parameter is a string handed to
 * `Config.<kind>(...)`. Names built at run time (the roles' `<ROLE>_DATABASE_PASSWORD`) are outside
 * what this finds; their rows are kept by hand.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      return ["node_modules", "test", "test-support"].includes(entry.name)
        ? []
        : sourceFiles(path)
    }
    return entry.name.endsWith(".ts") ? [path] : []
  })

const codeDirs = [
  ...["packages", "services"].flatMap((top) =>
    readdirSync(join(root, top)).map((name) => join(root, top, name, "src"))
  ),
  join(root, "scripts")
]

/** The text of the argument list that starts at `open` (an opening parenthesis), without the parentheses. */
const argumentsAt = (text: string, open: number) => {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if ("([{".includes(text[i]!)) depth++
    if (")]}".includes(text[i]!) && --depth === 0) return text.slice(open + 1, i)
  }
  return text.slice(open + 1)
}

/** The rest of the expression that starts at `start`: up to a `,` `;` or closing bracket at its own level. */
const expressionAt = (text: string, from: number) => {
  const start = from + (/^\s*/.exec(text.slice(from))?.[0].length ?? 0)
  let depth = 0
  for (let i = start; i < text.length; i++) {
    const c = text[i]!
    if ("([{".includes(c)) depth++
    else if (")]}".includes(c) && --depth < 0) return text.slice(start, i)
    else if (depth === 0 && (c === "," || c === ";" || (c === "\n" && !/^\n\s*\./.test(text.slice(i))))) {
      return text.slice(start, i)
    }
  }
  return text.slice(start)
}

/** A literal as the docs write it: `300_000` is 300000, `"7 days"` is 7 days, `Redacted.make("x")` is x. */
const literal = (source: string): string | undefined => {
  const text = source.trim().replace(/ as const$/, "").replace(/^Redacted\.make\((.*)\)$/s, "$1").trim()
  if (/^-?[\d_]+(\.\d+)?$/.test(text)) return text.replace(/_/g, "")
  if (/^"[^"]*"$/.test(text)) return text.slice(1, -1)
  if (text === "true" || text === "false") return text
  return undefined
}

const withDefaultIn = (expression: string) => {
  const at = expression.indexOf("Config.withDefault(")
  return at < 0 ? undefined : argumentsAt(expression, at + "Config.withDefault".length)
}

interface Setting {
  readonly name: string
  /** The literal default; undefined when there is none or it is computed. */
  readonly fallback: string | undefined
  readonly where: string
}

const splitArguments = (args: string) => {
  const parts: Array<string> = []
  let depth = 0
  let current = ""
  for (const c of args) {
    if ("([{".includes(c)) depth++
    if (")]}".includes(c)) depth--
    if (c === "," && depth === 0) {
      parts.push(current)
      current = ""
    } else current += c
  }
  return [...parts, current].map((part) => part.trim()).filter((part) => part !== "")
}

interface Helper {
  readonly file: string
  readonly name: string
  readonly at: number
  /** Where the default comes from: the call's second argument, or a literal in the helper. */
  readonly fallback: { readonly fromArgument: true } | { readonly fromArgument: false; readonly value?: string }
}

const files = codeDirs.flatMap((dir) => {
  try {
    return sourceFiles(dir)
  } catch {
    return [] // a package without src/
  }
}).map((file) => ({ file, text: readFileSync(file, "utf8") }))

/** `const helper = (name: string, fallback...) => ...Config.<kind>(name)...`, in any file. */
const helpers: Array<Helper> = files.flatMap(({ file, text }) =>
  [...text.matchAll(/const (\w+) = \((\w+): string(?:,\s*(\w+)[^,)]*)?[^)]*\)(?:: \w+)?\s*=>/g)].flatMap(
    (match) => {
      const [, name, nameParameter, fallbackParameter] = match
      const body = expressionAt(text, match.index + match[0].length)
      if (!new RegExp(`Config\\.\\w+\\(${nameParameter}\\)`).test(body)) return []
      const bodyDefault = withDefaultIn(body)?.trim()
      const fallback = bodyDefault !== undefined && bodyDefault === fallbackParameter
        ? { fromArgument: true as const }
        : { fromArgument: false as const, ...(bodyDefault === undefined ? {} : { value: literal(bodyDefault)! }) }
      return [{ file, name: name!, at: match.index + "const ".length, fallback }]
    }
  )
)

/** The helper a call in `file` means: one defined there, else one it imports by that name. */
const helperFor = (file: string, text: string, name: string) =>
  helpers.find((helper) => helper.file === file && helper.name === name) ??
    (new RegExp(`import \\{[^}]*\\b${name}\\b[^}]*\\} from`).test(text)
      ? helpers.find((helper) => helper.name === name)
      : undefined)

const settingsIn = ({ file, text }: { readonly file: string; readonly text: string }): Array<Setting> => {
  const where = relative(root, file)
  const found: Array<Setting> = []
  const direct = /Config\.(?:\w+)\(("[A-Z][A-Z0-9_]+")\)|Config\.literal\([^)]*\)\(("[A-Z][A-Z0-9_]+")\)/g
  for (const match of text.matchAll(direct)) {
    const name = (match[1] ?? match[2])!.slice(1, -1)
    const fallback = withDefaultIn(expressionAt(text, match.index + match[0].length))
    found.push({ name, fallback: fallback === undefined ? undefined : literal(fallback), where })
  }
  for (const call of text.matchAll(/\b(\w+)\(\s*"([A-Z][A-Z0-9_]+)"/g)) {
    const helper = helperFor(file, text, call[1]!)
    if (helper === undefined || (helper.file === file && helper.at === call.index)) continue
    const [, second] = splitArguments(argumentsAt(text, call.index + call[1]!.length))
    const fallback = helper.fallback.fromArgument
      ? (second === undefined ? undefined : literal(second))
      : helper.fallback.value
    found.push({ name: call[2]!, fallback, where })
  }
  return found
}

interface Row {
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
const rowsIn = (doc: string): Array<Row> => {
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

const settings = files.flatMap(settingsIn)
const readme = rowsIn("README.md")
const rows = [...readme, ...rowsIn("docs/services.md"), ...rowsIn("docs/sagas.md")]

/** `<role>-dev-password` says `orchestrator-dev-password` too. */
const says = (value: string, fallback: string) =>
  value === fallback ||
  (value.includes("<") &&
    new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/<[^>]+>/g, "[\\w.-]+")}$`).test(fallback))

/** What a row says the default of `name` is: the value in its position, or any when the counts differ. */
const documented = (row: Row, name: string) =>
  row.names.length === row.defaults.length ? [row.defaults[row.names.indexOf(name)]!] : row.defaults

describe("settings documented from one source", () => {
  it("the scan finds the settings it should (a sanity check of the scanner itself)", () => {
    const names = new Set(settings.map((setting) => setting.name))
    for (
      const name of ["WORKER_CONCURRENCY", "DATABASE_URL", "ORDERS_SERVICE_URL", "LOG_FORMAT", "CHAOS_FAIL_AFTER_RATE"]
    ) {
      expect(names).toContain(name)
    }
    expect(settings.find((setting) => setting.name === "RETRY_MAX_MS")?.fallback).toBe("300000")
    expect(settings.find((setting) => setting.name === "ORDERS_SERVICE_URL")?.fallback).toBe("http://localhost:3003")
  })

  it("every setting the code reads has a row in a README settings table", () => {
    const documentedNames = new Set(readme.flatMap((row) => row.names))
    const missing = settings.filter((setting) => !documentedNames.has(setting.name))
    expect(missing.map((setting) => `${setting.name} (${setting.where})`)).toEqual([])
  })

  it("every table row naming a setting with a literal default says that default", () => {
    const drift = settings.flatMap((setting) => {
      if (setting.fallback === undefined) return []
      // A name read in several places with different defaults (SHUTDOWN_GRACE_MS: npm start's and a
      // replica's) must have a row for each; a row must say one of the code's defaults.
      const fallbacks = new Set(settings.filter((s) => s.name === setting.name).map((s) => s.fallback))
      return rows
        .filter((row) => row.names.includes(setting.name) && row.defaults.length > 0)
        .filter((row) =>
          !documented(row, setting.name).some((value) => [...fallbacks].some((f) => f !== undefined && says(value, f)))
        )
        .map((row) =>
          `${setting.name}: ${row.doc} says ${
            documented(row, setting.name).join(" / ")
          }, ${setting.where} ${setting.fallback}`
        )
    })
    expect([...new Set(drift)]).toEqual([])
  })
})

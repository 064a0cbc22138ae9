/**
 * The settings the code reads, found in its text: `Config.<kind>("NAME")`, `Config.literal(...)("NAME")`
 * and calls `helper("NAME", default)` of the helpers that wrap one, with the literal default if any.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../../..", import.meta.url))

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

/**
 * A literal as the docs write it: `300_000` is 300000, `"7 days"` and `Duration.days(7)` are 7 days,
 * `Redacted.make("x")` is x.
 */
const literal = (source: string): string | undefined => {
  const text = source.trim().replace(/ as const$/, "").replace(/^Redacted\.make\((.*)\)$/s, "$1").trim()
  if (/^-?[\d_]+(\.\d+)?$/.test(text)) return text.replace(/_/g, "")
  if (/^"[^"]*"$/.test(text)) return text.slice(1, -1)
  if (text === "true" || text === "false") return text
  const duration = /^Duration\.(millis|seconds|minutes|hours|days)\(([\d_]+)\)$/.exec(text)
  if (duration) return `${duration[2]!.replace(/_/g, "")} ${duration[1]}`
  return undefined
}

const withDefaultIn = (expression: string) => {
  const at = expression.indexOf("Config.withDefault(")
  return at < 0 ? undefined : argumentsAt(expression, at + "Config.withDefault".length)
}

export interface Setting {
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

/** Every setting read in the src folders of the packages and services, and in scripts. */
export const codeSettings = (): Array<Setting> => files.flatMap(settingsIn)

import type { LogRecord, LogValue } from "./LogRecord.ts"

export type LogFormat = "json" | "logfmt" | "pretty"

const coreEntries = (record: LogRecord): Array<readonly [string, LogValue]> => {
  const entries: Array<readonly [string, LogValue]> = [
    ["timestamp", record.timestamp.toISOString()],
    ["level", record.level],
    ["service", record.service],
    ["message", record.message]
  ]
  if (record.traceId !== undefined) entries.push(["trace_id", record.traceId], ["span_id", record.spanId ?? ""])
  if (record.cause !== undefined) entries.push(["cause", record.cause])
  return entries
}

/** One JSON object per line; annotations sit beside the core fields. */
export const formatJson = (record: LogRecord): string => {
  const object: Record<string, LogValue> = {}
  for (const [key, value] of coreEntries(record)) object[key] = value
  for (const [key, value] of record.attributes) object[key] = value
  return JSON.stringify(object)
}

const bare = /^[^\s"=\\]+$/

const logfmtValue = (value: LogValue): string => {
  const text = value === null ? "" : String(value)
  return bare.test(text) ? text : JSON.stringify(text)
}

/** `key=value` pairs; values with spaces, quotes, `=` or newlines are JSON-quoted, so a line stays a line. */
export const formatLogfmt = (record: LogRecord): string =>
  [...coreEntries(record), ...record.attributes].map(([key, value]) => `${key}=${logfmtValue(value)}`).join(" ")

const levelColors: Record<string, string> = {
  TRACE: "90",
  DEBUG: "36",
  INFO: "32",
  WARN: "33",
  ERROR: "31",
  FATAL: "35"
}

/** For a terminal: time, level, service, message, then the other fields dimmed, the cause below. */
export const formatPretty = (color: boolean) => (record: LogRecord): string => {
  const paint = (codes: string, text: string) => (color ? `\x1b[${codes}m${text}\x1b[0m` : text)
  const time = record.timestamp.toISOString().slice(11, 23)
  const fields: Array<readonly [string, LogValue]> = [...record.attributes]
  if (record.traceId !== undefined) fields.push(["trace_id", record.traceId])
  const rest = fields.map(([key, value]) => `${key}=${logfmtValue(value)}`).join(" ")
  let line = `${paint("2", time)} ${paint(levelColors[record.level] ?? "0", record.level.padEnd(5))} `
    + `${paint("1", record.service)} ${record.message}`
  if (rest !== "") line += ` ${paint("2", rest)}`
  if (record.cause !== undefined) line += `\n${paint("31", record.cause)}`
  return line
}

export const formatter = (format: LogFormat, color: boolean): (record: LogRecord) => string =>
  format === "json" ? formatJson : format === "logfmt" ? formatLogfmt : formatPretty(color)

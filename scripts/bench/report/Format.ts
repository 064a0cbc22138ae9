/** Number and table formatting shared by the benchmark page and its charts. */
/* eslint-disable @typescript-eslint/no-explicit-any -- the results document is plain JSON written by main.ts */
export type Json = any

export const fmt = (x: unknown, digits = 0): string =>
  typeof x === "number" && Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : "–"

/** A Markdown table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)]
    .join("\n")

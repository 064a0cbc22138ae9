import { join } from "node:path"

/** A URL with its password shown only when it is the embedded server's well-known dev one. */
const shown = (url: string, embedded: boolean) => {
  if (embedded) return url
  const parsed = new URL(url)
  if (parsed.password !== "") parsed.password = "***"
  return parsed.toString()
}

const exampleCurl = (edgeUrl: string, key: string) =>
  `curl -s -X POST ${edgeUrl}/checkout -H 'authorization: Bearer ${key}' -H "idempotency-key: $(uuidgen)" ` +
  `-H 'content-type: application/json' ` +
  `-d '{"customerId":"c-1","items":[{"sku":"MUG-BLUE","quantity":2}],"currency":"EUR","cardToken":"tok_visa"}'`

/** What `npm start` prints before anything else: where everything is and how to talk to it. */
export const banner = (where: {
  readonly adminUrl: string
  readonly embedded: boolean
  readonly dataDir: string
  readonly edgeUrl: string
  readonly edgeKey: string
  readonly logDir: string
}) =>
  [
    `database   ${shown(where.adminUrl, where.embedded)}${
      where.embedded ? `  (embedded; data in ${join(where.dataDir, "postgres")})` : ""
    }`,
    `edge API   ${where.edgeUrl}   key: ${where.edgeKey}`,
    `try        ${exampleCurl(where.edgeUrl, where.edgeKey)}`,
    `status     npx orchestrator status${where.embedded ? "" : "   (with the same DATABASE_URL)"}`,
    `logs       ${where.logDir}/<process>.log`
  ].join("\n")

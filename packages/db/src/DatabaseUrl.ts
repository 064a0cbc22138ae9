import { Redacted } from "effect"

/** The same server, another database: `postgres://u:p@h:5432/a` → `.../b`. */
export const databaseUrl = (serverUrl: string, database: string): string => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** The same server and database, logged in as another user (a service's own role). */
export const withCredentials = (url: string, user: string, password: Redacted.Redacted<string>): string => {
  const parsed = new URL(url)
  parsed.username = encodeURIComponent(user)
  parsed.password = encodeURIComponent(Redacted.value(password))
  return parsed.toString()
}

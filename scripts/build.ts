/**
 * `npm run build`: the production build. Each process's entrypoint becomes one ES module under dist/,
 * compiled by esbuild (already in the tree through tsx), so nothing transpiles at run time:
 * `node dist/services/orchestrator/main.js`. The workspace packages (@ecommerce/*) are bundled in,
 * because their package.json `exports` point at TypeScript sources; every other package stays an
 * import resolved from node_modules (`npm ci --omit=dev` in the Dockerfile).
 *
 * Each output sits three directories below the repository root, like the sources it replaces
 * (packages/db/src/Migrations.ts finds `migrations/` at `../../../migrations` from its own URL,
 * which in a bundle is the bundle's URL). The build checks that the directory resolves.
 */
import { build, type Plugin } from "esbuild"
import { existsSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

export const entrypoints = {
  "services/edge-api/main": "services/edge-api/src/main.ts",
  "services/inventory/main": "services/inventory/src/main.ts",
  "services/orders/main": "services/orders/src/main.ts",
  "services/payments/main": "services/payments/src/main.ts",
  "services/orchestrator/main": "services/orchestrator/src/main.ts",
  "packages/db/migrate": "packages/db/src/bin/migrate.ts",
  "packages/db/roles": "packages/db/src/bin/roles.ts"
} as const

/** Bare imports stay external, except our own workspaces, whose exports are .ts sources. */
const externalDependencies: Plugin = {
  name: "external-dependencies",
  setup(builder) {
    builder.onResolve(
      { filter: /^[^./]/ },
      (args) => args.path.startsWith("@ecommerce/") ? undefined : { path: args.path, external: true }
    )
  }
}

const main = async () => {
  rmSync(`${root}dist`, { recursive: true, force: true })
  const started = performance.now()
  await build({
    absWorkingDir: root,
    entryPoints: entrypoints,
    outdir: "dist",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    logLevel: "warning",
    plugins: [externalDependencies]
  })
  const migrations = new URL("../../../migrations", new URL("dist/packages/db/migrate.js", `file://${root}`))
  if (!existsSync(fileURLToPath(migrations))) {
    throw new Error(
      `the migrate bundle would look for migrations in ${fileURLToPath(migrations)}, which does not exist`
    )
  }
  console.log(
    `built ${Object.keys(entrypoints).length} entrypoints into dist/ in ${Math.round(performance.now() - started)} ms`
  )
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})

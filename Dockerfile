# One image for every process of the system; docker-compose.yml picks the command.
# Stage 1 bundles each entrypoint with its dependencies into dist/ (`npm run build`, esbuild,
# minified) and writes the orchestrator's V8 code cache (dist/services/orchestrator/app.cjs.cache,
# scripts/build.ts): both stages use the same Node image, so V8 accepts the cache (with another
# Node it is ignored, and the replica compiles its bundle as it would without one). The runtime
# stage holds dist/, the migrations and package.json (for "type": "module"): no node_modules, no
# TypeScript, no transpiler.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
RUN npm ci --ignore-scripts
COPY scripts/build.ts ./scripts/build.ts
COPY migrations ./migrations
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY migrations ./migrations
COPY --from=build /app/dist ./dist
USER node
# No --enable-source-maps: Node would parse every map before the replica starts (about 50 ms of a
# 0.4 s start, docs/benchmarks.md); the maps are beside each file for reading a stack trace, and
# NODE_OPTIONS=--enable-source-maps turns them on for a process being debugged.
CMD ["node", "dist/services/orchestrator/main.js"]

#!/usr/bin/env node
// The `orchestrator` CLI. The sources are TypeScript run through tsx, as every other entrypoint.
import { register } from "tsx/esm/api"

register()
await import("../src/cli/main.ts")

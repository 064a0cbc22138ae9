import { NodeRuntime } from "@effect/platform-node"
import { daemon } from "./Daemon.ts"

NodeRuntime.runMain(daemon, { disableErrorReporting: true, disablePrettyLogger: true })

import { Console, Effect, Ref, Schedule } from "effect"
import type { LoadStats } from "./LoadGenerator.ts"
import { render, snapshot } from "./Monitor.ts"

/**
 * The live view: `draw` prints the block once; `view` redraws it every second on a terminal (in
 * place: cursor up, clear to the end), every 5 s as plain lines otherwise.
 */
export const makeLiveView = (since: Date, stats: Ref.Ref<LoadStats>, replicas: number) => {
  const tty = process.stdout.isTTY === true
  let drawn = 0
  const draw = Effect.gen(function*() {
    const lines = render(yield* snapshot(since), yield* Ref.get(stats), replicas)
    yield* Effect.sync(() => {
      // On a terminal: redraw the block in place (cursor up, clear to the end); otherwise plain lines.
      if (tty && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`)
      process.stdout.write(`${lines.join("\n")}\n`)
      drawn = lines.length
    })
  }).pipe(Effect.catchAll((error) => Console.log(`(view: ${String(error)})`)))
  const view = Effect.repeat(draw, Schedule.spaced(tty ? "1 second" : "5 seconds"))
  return { draw, view }
}

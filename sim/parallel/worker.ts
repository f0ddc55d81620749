/**
 * A worker of the parallel runner, started as `hardhat run` starts a script (ts-node and hardhat/register)
 * with an IPC channel. It receives units (a seed and modes) and runs each with the engine's
 * `runScenario` on its own chain, which the engine deploys from genesis and reverts to genesis at
 * the end of every unit, so every unit starts from the chain a fresh serial run starts from.
 */
import hre from "hardhat";
import { runScenario } from "../engine";
import { runObserver } from "../report/observe";
import type { ProgressEvent } from "../types";
import type { FromWorker, ToWorker } from "./protocol";

function send(m: FromWorker): void {
  process.send?.(m);
}

async function handle(m: Extract<ToWorker, { type: "unit" }>): Promise<void> {
  const { unit, scenario, runs } = m;
  const forward = (e: ProgressEvent) => send({ type: "progress", event: e });
  // A progress event per block (and the post-crash heatmaps) from the block observer; the
  // engine's own run events are every 10th block, so they add nothing.
  const observer = runObserver(forward, (mode) => unit.firstRun + unit.modes.indexOf(mode), runs);
  const run = await runScenario(hre, scenario, {
    modes: unit.modes,
    seeds: [unit.seed],
    onProgress: (e) => {
      if (e.phase === "populate") forward({ phase: "populate", seed: e.seed, runs });
    },
    onBlock: observer.onBlock,
  });
  observer.attach(run.runs);
  send({ type: "result", unit: unit.index, run });
}

function main(): Promise<void> {
  if (process.send === undefined) throw new Error("sim/parallel/worker.ts runs under the parallel runner only");
  return new Promise((resolve) => {
    let queue = Promise.resolve();
    process.on("message", (m: ToWorker) => {
      if (m.type === "exit") {
        queue = queue.then(() => resolve());
        return;
      }
      queue = queue.then(() =>
        handle(m).catch((e: unknown) => send({ type: "error", message: (e as Error).stack ?? String(e) })),
      );
    });
    send({ type: "ready" });
  });
}

main()
  .then(() => process.disconnect?.())
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });

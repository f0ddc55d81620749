/**
 * The parallel runner: spreads a scenario's (mode, seed) runs over worker processes, each with its
 * own fresh chain, and assembles a `ScenarioRun` whose runs are in the serial order (seed by seed,
 * modes in order), so metrics.json and series.csv are byte for byte the serial run's.
 *
 * Why each run matches the serial one: deployment addresses follow the deployer's nonce and every
 * block timestamp is set from the genesis clock, so a run's outcome depends only on the chain it
 * starts from. The serial engine deploys once from genesis and reverts to the deployed (then the
 * populated) snapshot before each seed (mode); a worker runs `runScenario` for one seed and some
 * modes, which deploys from genesis and reverts to genesis at its end, so each unit starts from
 * the state the serial run reaches by reverting. test/sim/parallel.spec.ts checks the bytes.
 */
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { startNode, type ChainKind, type LocalNode } from "../../lib/devnode";
import type { Scenario } from "../scenario";
import type { ModeName, ProgressFn, RunResult, ScenarioRun } from "../types";
import type { FromWorker, ToWorker, Unit } from "./protocol";

export type { Unit } from "./protocol";

/** The chain each worker runs on by default: the faster one measured (docs/simulation.md, "Parallel runs"). */
export const DEFAULT_WORKER_CHAIN: ChainKind = "anvil";

/** Default number of workers: the available cores, at most one per run. */
export function defaultJobs(runs: number): number {
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, runs));
}

/**
 * The units of work, in serial order. With at least as many seeds as workers, a unit is a seed
 * with all its modes (one deploy and populate per seed, as in the serial run); otherwise each
 * (seed, mode) pair is its own unit, so that one seed's modes can run side by side.
 */
export function planUnits(seeds: readonly number[], modes: readonly ModeName[], jobs: number): Unit[] {
  const units: Unit[] = [];
  let firstRun = 0;
  for (const seed of seeds) {
    const groups = seeds.length >= jobs ? [[...modes]] : modes.map((m) => [m]);
    for (const g of groups) {
      units.push({ index: units.length, seed, modes: g, firstRun });
      firstRun += g.length;
    }
  }
  return units;
}

export interface ParallelOptions {
  modes: ModeName[];
  seeds: number[];
  jobs: number;
  /** The workers' chain: each starts its own anvil, or uses its in-process Hardhat network. */
  chain?: ChainKind;
  onProgress?: ProgressFn;
}

interface Worker {
  child: ChildProcess;
  node?: LocalNode;
}

async function startWorker(chain: ChainKind): Promise<Worker> {
  const node = chain === "anvil" ? await startNode({ chain: "anvil" }) : undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, HARDHAT_NETWORK: node ? "localhost" : "hardhat" };
  if (node) env.LOCALHOST_RPC_URL = node.url;
  // As `hardhat run` starts a script (it forks one with these requires), but with our IPC channel.
  // The worker's stdout goes to our stderr: stdout carries the table only.
  const child = fork(path.join(__dirname, "worker.ts"), [], {
    env,
    execArgv: ["--require", "ts-node/register/transpile-only", "--require", "hardhat/register"],
    serialization: "advanced",
    stdio: ["ignore", 2, 2, "ipc"],
  });
  return { child, node };
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) {
    const gone = new Promise((r) => w.child.once("exit", r));
    if (w.child.connected) w.child.send({ type: "exit" } satisfies ToWorker);
    const timer = setTimeout(() => w.child.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  }
  await w.node?.stop();
}

/** Runs `units` over `workers`, handing each idle worker the next unit; resolves with every unit's run. */
function schedule(
  workers: Worker[],
  scenario: Scenario,
  units: Unit[],
  runs: number,
  onProgress: ProgressFn,
): Promise<ScenarioRun[]> {
  const results: ScenarioRun[] = new Array<ScenarioRun>(units.length);
  let next = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    const feed = (w: Worker) => {
      if (next < units.length) w.child.send({ type: "unit", scenario, unit: units[next++], runs } satisfies ToWorker);
    };
    for (const w of workers) {
      w.child.on("message", (m: FromWorker) => {
        if (m.type === "ready") feed(w);
        else if (m.type === "progress") onProgress(m.event);
        else if (m.type === "error") reject(new Error(`lab worker failed: ${m.message}`));
        else {
          results[m.unit] = m.run;
          if (++done === units.length) resolve(results);
          else feed(w);
        }
      });
      w.child.once("exit", (code, signal) => {
        if (done < units.length) reject(new Error(`lab worker exited (${signal ?? code}) before the runs were done`));
      });
    }
  });
}

/** Assembles the units' runs into one `ScenarioRun` in serial order (seeds, then modes). */
export function combine(units: Unit[], results: ScenarioRun[], modes: ModeName[], seeds: number[]): ScenarioRun {
  const first = results[0];
  const runs: RunResult[] = [];
  for (const seed of seeds) {
    for (const mode of modes) {
      const i = units.findIndex((u) => u.seed === seed && u.modes.includes(mode));
      const r = results[i]?.runs.find((x) => x.mode === mode && x.seed === seed);
      if (r === undefined) throw new Error(`parallel runner: no result for mode ${mode} seed ${seed}`);
      runs.push(r);
    }
  }
  const setupMs = results.reduce((a, r) => a + r.setupMs, 0);
  return { ...first, seeds, modes, runs, setupMs };
}

/** Runs the scenario's modes and seeds over `jobs` worker processes (see the file's comment). */
export async function runParallel(scenario: Scenario, opts: ParallelOptions): Promise<ScenarioRun> {
  const { modes, seeds } = opts;
  const onProgress: ProgressFn = opts.onProgress ?? (() => undefined);
  const units = planUnits(seeds, modes, opts.jobs);
  const count = Math.min(opts.jobs, units.length);
  const workers: Worker[] = [];
  onProgress({ phase: "deploy" });
  try {
    for (let i = 0; i < count; i++) workers.push(await startWorker(opts.chain ?? DEFAULT_WORKER_CHAIN));
    const results = await schedule(workers, scenario, units, seeds.length * modes.length, onProgress);
    onProgress({ phase: "done", runs: seeds.length * modes.length });
    return combine(units, results, modes, seeds);
  } finally {
    await Promise.all(workers.map(stopWorker));
  }
}

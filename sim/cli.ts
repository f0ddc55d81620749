/**
 * The lab's command: load and validate a scenario, run it in each mode and seed on the chain of
 * `hre`, print the side-by-side table and write the report. Shared by `npx hardhat simulate`
 * (tasks/simulate.ts), `npm run simulate` (scripts/simulate.ts) and `npm run results`.
 */
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ChainKind } from "../lib/devnode";
import { MetricsFile } from "./aggregate";
import { runScenario, type BlockObserver } from "./engine";
import { modeParams } from "./engine/modes";
import { defaultJobs, DEFAULT_WORKER_CHAIN, runParallel } from "./parallel";
import { profileReport } from "./engine/profile";
import { writeReport, WrittenReport } from "./report";
import { runObserver } from "./report/observe";
import { defaultProgressStyle, makeProgress, overallProgress, ProgressStyle } from "./report/progress";
import { textTable } from "./report/table";
import { loadScenario, Scenario, ScenarioError } from "./scenario";
import { ModeName, ProgressFn, ScenarioRun } from "./types";

export const DEFAULT_SCENARIO = path.join(__dirname, "scenarios", "thin-books-flash-crash.json");

/** The engine's entry point (sim/engine/index.ts). */
export type RunScenarioFn = (
  hre: HardhatRuntimeEnvironment,
  scenario: Scenario,
  opts: { modes?: ModeName[]; seeds?: number[]; onProgress?: ProgressFn; onBlock?: BlockObserver },
) => Promise<ScenarioRun>;

/** A user mistake in the command's options: printed without a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface SimulateOptions {
  /** Scenario file; default sim/scenarios/thin-books-flash-crash.json. */
  scenario?: string;
  /** Modes to run, as a list or "a,b"; default the scenario's `modes`. */
  modes?: ModeName[] | string;
  /** Number of seeds N: runs seed..seed+N−1; default the scenario's `seeds`. */
  seeds?: number | string;
  /** First seed; default the scenario's `seed`. */
  seed?: number | string;
  /** Report directory; default reports/<scenario>-<UTC timestamp>/. Must be absent or empty unless `force`. */
  out?: string;
  /** Write into a non-empty `out` (its report files are overwritten). */
  force?: boolean;
  /** Progress display: bar, lines or off; default a bar on a TTY, plain lines otherwise. */
  progress?: ProgressStyle | string;
  /** Where the table and summary go; default console.log. */
  log?: (line: string) => void;
  /** The engine; default sim/engine's runScenario (tests may pass their own; they run serially). */
  runScenario?: RunScenarioFn;
  /**
   * Worker processes J: the runs are spread over J workers, each with its own fresh chain; 1 runs
   * them in this process on `hre`'s chain. Default min(cores, runs) on the in-process network, 1 on
   * any other network (a shared node cannot host several runs at once).
   */
  jobs?: number | string;
  /** The workers' chain when J > 1: anvil (default, the faster) or hardhat (in-process EDR per worker). */
  chain?: string;
}

export interface SimulateResult extends WrittenReport {
  scenario: Scenario;
  run: ScenarioRun;
  table: string;
}

function positiveInt(name: string, v: number | string | undefined, min: number): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function parseModes(v: ModeName[] | string | undefined): ModeName[] | undefined {
  if (v === undefined) return undefined;
  const list = (Array.isArray(v) ? v : v.split(",")).map((m) => m.trim()).filter((m) => m !== "");
  if (list.length === 0) {
    // Not given at all (an empty string from a caller) means the scenario's modes; a list of commas is a mistake.
    if (typeof v === "string" && v.trim() === "") return undefined;
    throw new UsageError(`--modes lists no mode, got ${JSON.stringify(Array.isArray(v) ? v.join(",") : v)}`);
  }
  const dup = list.find((m, i) => list.indexOf(m) !== i);
  if (dup !== undefined) throw new UsageError(`--modes lists ${dup} twice`);
  for (const m of list) {
    try {
      modeParams(m);
    } catch (e) {
      throw new UsageError(`--modes: ${(e as Error).message}`);
    }
  }
  return list;
}

/**
 * Checks `--out` before anything runs: not an existing file, not under a file, and (unless
 * `force`) not a non-empty directory.
 */
export function checkOut(out: string | undefined, force = false): void {
  if (out === undefined || out === "") return;
  const dir = path.resolve(out);
  for (let p = dir; ; p = path.dirname(p)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p);
    } catch {
      st = undefined;
    }
    if (st && !st.isDirectory()) {
      throw new UsageError(
        p === dir ? `--out ${out} is an existing file, not a directory` : `--out ${out} lies under the file ${p}`,
      );
    }
    if (st) break; // the nearest existing ancestor is a directory
    if (path.dirname(p) === p) break;
  }
  if (!force && fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new UsageError(`--out ${out} is not empty: pass --force to write into it`);
  }
}

/** `YYYYMMDD-HHMMSS` in UTC. */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export interface ResolvedRun {
  file: string;
  scenario: Scenario;
  modes: ModeName[];
  seeds: number[];
  progress: ProgressStyle;
  /** Worker processes (1 = in this process); undefined = the default for the network. */
  jobs?: number;
  chain: ChainKind;
}

export function parseChain(v: string | undefined): ChainKind | undefined {
  if (v === undefined || v === "") return undefined;
  if (v === "anvil" || v === "hardhat") return v;
  throw new UsageError(`--chain must be anvil or hardhat, got ${JSON.stringify(v)}`);
}

/** The number of workers for `runs` runs on `network`: the option, or the default. */
export function resolveJobs(jobs: number | undefined, runs: number, network: string): number {
  if (network !== "hardhat") {
    if (jobs !== undefined && jobs > 1)
      throw new UsageError(`--jobs ${jobs} needs the in-process network: workers start their own chains`);
    return 1;
  }
  return Math.min(jobs ?? defaultJobs(runs), runs);
}

export function parseProgress(v: string | undefined): ProgressStyle | undefined {
  if (v === undefined || v === "") return undefined;
  if (v === "bar" || v === "lines" || v === "off") return v;
  throw new UsageError(`--progress must be bar, lines or off, got ${JSON.stringify(v)}`);
}

/** Loads and validates the scenario and options (throws ScenarioError / UsageError). */
export function resolveRun(opts: SimulateOptions): ResolvedRun {
  const file = path.resolve(opts.scenario ?? DEFAULT_SCENARIO);
  const scenario = loadScenario(file);
  const modes = parseModes(opts.modes) ?? scenario.modes;
  const count = positiveInt("seeds", opts.seeds, 1) ?? scenario.seeds;
  const first = positiveInt("seed", opts.seed, 0) ?? scenario.seed;
  const seeds = Array.from({ length: count }, (_, i) => first + i);
  const progress = parseProgress(opts.progress) ?? defaultProgressStyle();
  const jobs = positiveInt("jobs", opts.jobs, 1);
  const chain = parseChain(opts.chain) ?? DEFAULT_WORKER_CHAIN;
  checkOut(opts.out, opts.force);
  return { file, scenario, modes, seeds, progress, jobs, chain };
}

export async function simulate(hre: HardhatRuntimeEnvironment, opts: SimulateOptions = {}): Promise<SimulateResult> {
  const t0 = performance.now();
  const startedAt = new Date();
  const log = opts.log ?? ((l: string) => console.log(l));
  const resolved = resolveRun(opts);
  const { file, scenario, modes, seeds, progress: style } = resolved;
  const jobs = opts.runScenario ? 1 : resolveJobs(resolved.jobs, modes.length * seeds.length, hre.network.name);
  log(
    `${scenario.name}: ${scenario.blocks} blocks of ${scenario.blockTimeSec} s, modes ${modes.join(", ")}, ` +
      `seed${seeds.length > 1 ? "s" : ""} ${seeds.length > 1 ? `${seeds[0]}..${seeds[seeds.length - 1]}` : seeds[0]}, ` +
      `network ${hre.network.name}` +
      (jobs > 1 ? `, ${jobs} workers (${resolved.chain})` : ""),
  );

  const runs = modes.length * seeds.length;
  const progress = jobs > 1 ? overallProgress(style, runs) : makeProgress(style, runs);
  // Serial runs: a progress event per block, and the report's post-crash heatmaps (sim/report/observe.ts).
  const observer = runObserver(progress, (m, s) => seeds.indexOf(s) * modes.length + modes.indexOf(m), runs);
  let run: ScenarioRun;
  try {
    run =
      jobs > 1
        ? await runParallel(scenario, { modes, seeds, jobs, chain: resolved.chain, onProgress: progress })
        : await (opts.runScenario ?? runScenario)(hre, scenario, {
            modes,
            seeds,
            onProgress: progress,
            onBlock: observer.onBlock,
          });
    observer.attach(run.runs);
  } finally {
    progress.stop();
  }
  const simulationMs = Math.round(performance.now() - t0);

  const chainIdHex = (await hre.network.provider.request({ method: "eth_chainId" })) as string;
  const dir = path.resolve(opts.out ?? path.join("reports", `${scenario.name}-${timestamp(startedAt)}`));
  const written = await writeReport(dir, {
    run,
    scenario,
    initialPrices: Object.fromEntries(scenario.assets.map((a) => [a.symbol, a.initialPriceUsd])),
    startedAtMs: t0,
    info: {
      scenario: scenario.name,
      scenarioFile: path.relative(process.cwd(), file) || file,
      modes: run.modes,
      seeds: run.seeds,
      network: hre.network.name,
      chainId: Number(BigInt(chainIdHex)),
      startedAt: startedAt.toISOString(),
      setupMs: Math.round(run.setupMs),
      runs: run.runs.map((r) => ({ mode: r.mode, seed: r.seed, wallMs: Math.round(r.wallMs) })),
      simulationMs,
      nodeVersion: process.version,
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      hardhatVersion: (require("hardhat/package.json") as { version: string }).version,
    },
  });
  const table = textTable(written.metrics);
  log("");
  log(table);
  log("");
  const rel = path.relative(process.cwd(), dir);
  const shown = rel === "" ? "." : rel.startsWith("..") ? dir : rel;
  log(`report: ${shown}/report.html (${written.files.length} files: ${written.files.join(", ")})`);
  log(
    `time: setup ${(run.setupMs / 1000).toFixed(1)} s, ${run.runs.length} run(s) ` +
      `${(run.runs.reduce((a, r) => a + r.wallMs, 0) / 1000).toFixed(1)} s, ` +
      `report ${(written.info.reportMs / 1000).toFixed(1)} s, total ${(written.info.totalMs / 1000).toFixed(1)} s`,
  );
  if (process.env.LAB_PROFILE) log(profileReport());
  return { ...written, scenario, run, table };
}

/**
 * Runs `body`; a user mistake (invalid scenario, bad option) prints its message to stderr and sets
 * a non-zero exit code instead of surfacing a stack trace.
 */
export async function withCleanErrors<T>(body: () => Promise<T>): Promise<T | undefined> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = 1;
      return undefined;
    }
    throw e;
  }
}

export type { MetricsFile };

/**
 * Runs the whole-system fuzz (test/invariant/SystemInvariants.spec.ts) with any budget and prints
 * what it ran.
 *
 *   npm run fuzz -- --runs 10000 --seed 42 [--steps 40] [--jobs 2]
 *
 * The spec reads FUZZ_RUNS, FUZZ_SEED and FUZZ_STEPS; without flags it runs the CI budget
 * (300 sequences of 40 steps, seed 20251109). `--jobs J` splits the sequences over J worker
 * processes (one per core), worker i running its share with seed S + i, so the union is
 * reproducible from S and J. A failure prints fast-check's counterexample, the worker's seed and
 * the `path` to replay it with FUZZ_SEED and FUZZ_PATH.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { formatProgress } from "../sim/report/progress";

class FuzzArgumentError extends Error {}

export interface Args {
  runs: number;
  seed: number;
  steps: number;
  jobs: number;
}

export function parseArgs(argv: string[]): Args {
  const out: Args = { runs: 300, seed: 20_251_109, steps: 40, jobs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!["--runs", "--seed", "--steps", "--jobs"].includes(flag))
      throw new FuzzArgumentError(`unknown argument ${flag}`);
    if (value === undefined || !/^\d+$/.test(value))
      throw new FuzzArgumentError(`${flag} needs a whole number, got ${value}`);
    out[flag.slice(2) as keyof Args] = Number(value);
    i++;
  }
  if (out.runs < 1 || out.steps < 1) throw new FuzzArgumentError("--runs and --steps must be at least 1");
  if (out.jobs < 1 || out.jobs > out.runs)
    throw new FuzzArgumentError(`--jobs must be between 1 and --runs (${out.runs})`);
  return out;
}

export interface Worker {
  seed: number;
  runs: number;
  summary: string;
  code: number | null;
  /** Sequences done, from the spec's `fuzz-progress: N` lines. */
  done: number;
}

/** How a worker is started (tests pass a stand-in for the spec). */
export type Command = (w: Worker, args: Args) => { cmd: string; args: string[]; env: NodeJS.ProcessEnv };

const specCommand: Command = (w, args) => ({
  cmd: "npx",
  args: ["hardhat", "test", "--no-compile", path.join("test", "invariant", "SystemInvariants.spec.ts")],
  env: {
    ...process.env,
    FUZZ_RUNS: String(w.runs),
    FUZZ_SEED: String(w.seed),
    FUZZ_STEPS: String(args.steps),
    FUZZ_PROGRESS: "1",
  },
});

const PROGRESS_LINE = /^\s*fuzz-progress: (\d+)\s*$/;

function runWorker(w: Worker, label: string, args: Args, command: Command, out: (s: string) => void): Promise<void> {
  const c = command(w, args);
  const child = spawn(c.cmd, c.args, { env: c.env, stdio: ["ignore", "pipe", "inherit"] });
  let pending = "";
  const onLine = (line: string) => {
    const p = PROGRESS_LINE.exec(line);
    if (p) {
      w.done = Math.max(w.done, Number(p[1]));
      return; // machine line: counted, not shown
    }
    out(`${label}${line}\n`);
    const m = /fuzz: (runs=.*)/.exec(line);
    if (m) w.summary = m[1];
  };
  child.stdout.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    lines.forEach(onLine);
  });
  return new Promise((resolve) =>
    child.on("close", (code) => {
      if (pending) onLine(pending);
      w.code = code;
      resolve();
    }),
  );
}

/** The progress line over all workers: sequences done/total, rate, elapsed, ETA. */
export function fuzzProgressLine(done: number, total: number, elapsedSec: number): string {
  return `fuzz: progress ${formatProgress({ done, total, unit: "sequences", elapsedSec })}`;
}

export interface RunOptions {
  /** Print progress this often (ms); default 30 s, or FUZZ_PROGRESS_MS. */
  intervalMs?: number;
  command?: Command;
  out?: (s: string) => void;
  now?: () => number;
}

/** Runs the workers, printing a progress line every `intervalMs`; resolves with them when all exit. */
export async function runWorkers(args: Args, opts: RunOptions = {}): Promise<Worker[]> {
  const out = opts.out ?? ((s: string) => process.stdout.write(s));
  const now = opts.now ?? (() => Date.now());
  const interval = opts.intervalMs ?? Number(process.env.FUZZ_PROGRESS_MS ?? 30_000);
  const workers: Worker[] = Array.from({ length: args.jobs }, (_, i) => ({
    seed: args.seed + i,
    runs: Math.floor(args.runs / args.jobs) + (i < args.runs % args.jobs ? 1 : 0),
    summary: "",
    code: null,
    done: 0,
  }));
  const t0 = now();
  const report = () => {
    const done = workers.reduce((a, w) => a + w.done, 0);
    out(fuzzProgressLine(done, args.runs, (now() - t0) / 1000) + "\n");
  };
  const timer = setInterval(report, interval);
  try {
    const command = opts.command ?? specCommand;
    await Promise.all(workers.map((w, i) => runWorker(w, args.jobs > 1 ? `[${i}] ` : "", args, command, out)));
  } finally {
    clearInterval(timer);
  }
  return workers;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`fuzz: ${(e as Error).message}\nusage: npm run fuzz -- [--runs N] [--seed S] [--steps K] [--jobs J]`);
    process.exit(2);
  }
  const started = Date.now();
  // Compile once here so the workers do not race on artifacts/.
  const compiled = spawnSync("npx", ["hardhat", "compile", "--quiet"], { stdio: "inherit" });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
  const shares = Array.from(
    { length: args.jobs },
    (_, i) => `seed ${args.seed + i}: ${Math.floor(args.runs / args.jobs) + (i < args.runs % args.jobs ? 1 : 0)}`,
  );
  console.log(
    `fuzz: running ${args.runs} sequences of ${args.steps} steps, seed ${args.seed}` +
      (args.jobs > 1 ? ` over ${args.jobs} workers (${shares.join(", ")})` : "") +
      "; progress every 30 s",
  );
  const workers = await runWorkers(args);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  for (const w of workers) {
    console.log(`fuzz: seed ${w.seed}: ${w.summary || "no summary (set-up failed)"}; exit ${w.code}`);
  }
  const failed = workers.filter((w) => w.code !== 0);
  console.log(
    `fuzz: ${args.runs} sequences of ${args.steps} steps (seed ${args.seed}, ${args.jobs} worker${args.jobs > 1 ? "s" : ""}): ` +
      `${failed.length === 0 ? "zero violations" : `${failed.length} worker(s) failed`}; wall time ${secs}s`,
  );
  process.exit(failed.length === 0 ? 0 : 1);
}

if (require.main === module) void main();

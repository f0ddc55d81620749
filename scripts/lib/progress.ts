/**
 * Progress for the scripts (issue 26, item 10): `npm run fuzz`'s worker runner, which counts the
 * spec's `fuzz-progress: N` lines and prints a progress line (done/total, rate, ETA) every 30 s
 * for any budget, and `npm run results`' per-scenario ETA. Formatting: sim/report/progress.ts.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { etaSec, formatEta, formatProgress } from "../../sim/report/progress";

/** `npm run fuzz`'s budget (scripts/fuzz.ts). */
export interface FuzzArgs {
  runs: number;
  seed: number;
  steps: number;
  jobs: number;
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
export type Command = (w: Worker, args: FuzzArgs) => { cmd: string; args: string[]; env: NodeJS.ProcessEnv };

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

function runWorker(
  w: Worker,
  label: string,
  args: FuzzArgs,
  command: Command,
  out: (s: string) => void,
): Promise<void> {
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
export async function runWorkers(args: FuzzArgs, opts: RunOptions = {}): Promise<Worker[]> {
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

/**
 * "3/8: file.json (2 scenarios done, 1m 05s elapsed, ETA 2m 10s)": the ETA from the blocks run so
 * far (scenarios differ in length and seeds), at the rate so far.
 */
export function resultsProgress(i: number, n: number, file: string, work: number[], elapsedSec: number): string {
  const done = work.slice(0, i).reduce((a, b) => a + b, 0);
  const total = work.reduce((a, b) => a + b, 0);
  const eta = i === 0 ? "ETA after the first scenario" : `ETA ${formatEta(etaSec(done, total, elapsedSec))}`;
  return `${i + 1}/${n}: ${file} (${i} done, ${formatEta(elapsedSec)} elapsed, ${eta})`;
}

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
import { spawnSync } from "node:child_process";
import { runWorkers, type FuzzArgs } from "./lib/progress";

class FuzzArgumentError extends Error {}

type Args = FuzzArgs;

function parseArgs(argv: string[]): Args {
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
      `; progress every ${Number(process.env.FUZZ_PROGRESS_MS ?? 30_000) / 1000} s`,
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

void main();

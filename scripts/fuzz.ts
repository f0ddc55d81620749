/**
 * Runs the whole-system fuzz (test/invariant/SystemInvariants.spec.ts) with any budget and prints
 * what it ran.
 *
 *   npm run fuzz -- --runs 10000 --seed 42 [--steps 40]
 *
 * The spec reads FUZZ_RUNS, FUZZ_SEED and FUZZ_STEPS; without flags it runs the CI budget
 * (300 sequences of 40 steps, seed 20251109). A failure prints fast-check's counterexample and
 * the `path` to replay it with FUZZ_PATH.
 */
import { spawn } from "node:child_process";
import path from "node:path";

class FuzzArgumentError extends Error {}

function parseArgs(argv: string[]): { runs: string; seed: string; steps: string } {
  const out = { runs: "300", seed: "20251109", steps: "40" };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (!["--runs", "--seed", "--steps"].includes(flag)) throw new FuzzArgumentError(`unknown argument ${flag}`);
    if (value === undefined || !/^\d+$/.test(value))
      throw new FuzzArgumentError(`${flag} needs a whole number, got ${value}`);
    out[flag.slice(2) as keyof typeof out] = value;
    i++;
  }
  return out;
}

function main(): void {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`fuzz: ${(e as Error).message}\nusage: npm run fuzz -- [--runs N] [--seed S] [--steps K]`);
    process.exit(2);
  }
  const started = Date.now();
  console.log(`fuzz: running ${args.runs} sequences of ${args.steps} steps, seed ${args.seed}`);
  const child = spawn("npx", ["hardhat", "test", path.join("test", "invariant", "SystemInvariants.spec.ts")], {
    env: { ...process.env, FUZZ_RUNS: args.runs, FUZZ_SEED: args.seed, FUZZ_STEPS: args.steps },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let summary = "";
  child.stdout.on("data", (chunk: Buffer) => {
    const text = chunk.toString();
    process.stdout.write(text);
    const m = /fuzz: (runs=.*)/.exec(text);
    if (m) summary = m[1];
  });
  child.on("close", (code) => {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`\nfuzz: ${summary || "no summary (compile or set-up failed)"}; wall time ${secs}s; exit ${code}`);
    process.exit(code ?? 1);
  });
}

main();

/**
 * `npx hardhat simulate [--scenario FILE] [--modes a,b] [--seeds N] [--seed S] [--out DIR]
 * [--progress bar|lines|off] [--jobs J] [--chain anvil|hardhat] [--force] [--network NAME]`: the cascade lab (docs/simulation.md).
 */
import { task, types } from "hardhat/config";

task("simulate", "Runs a cascade-lab scenario in several liquidation modes and writes a report")
  .addOptionalParam("scenario", "Scenario JSON file (default: sim/scenarios/thin-books-flash-crash.json)")
  .addOptionalParam("modes", "Comma-separated modes, e.g. baseline,full (default: the scenario's modes)")
  .addOptionalParam("seeds", "Number of seeds N; runs seed..seed+N-1 (default: the scenario's seeds)")
  .addOptionalParam("seed", "First seed (default: the scenario's seed)")
  .addOptionalParam("out", "Report directory (default: reports/<scenario>-<timestamp>/)")
  .addOptionalParam(
    "progress",
    "bar, lines or off (default: bar on a TTY, off otherwise; SIM_PROGRESS sets it too)",
    undefined,
    types.string,
  )
  .addOptionalParam("jobs", "Worker processes J (default: min(cores, runs); 1 = in this process)")
  .addOptionalParam("chain", "The workers' chain when J > 1: anvil (default) or hardhat")
  .addFlag("force", "Write into a non-empty --out directory")
  .setAction(async (args: Record<string, string | boolean | undefined>, hre) => {
    // Loaded lazily: the config loads every task before the first compile.
    const { resolveRun, simulate, withCleanErrors } = await import("../sim/cli");
    await withCleanErrors(async () => {
      const str = (k: string) => args[k] as string | undefined;
      const opts = {
        scenario: str("scenario"),
        modes: str("modes"),
        seeds: str("seeds"),
        seed: str("seed"),
        out: str("out"),
        progress: str("progress"),
        jobs: str("jobs"),
        chain: str("chain"),
        force: args.force === true,
      };
      resolveRun(opts); // reject a bad scenario or option before compiling
      await hre.run("compile", { quiet: true });
      await simulate(hre, opts);
    });
  });

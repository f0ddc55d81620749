/**
 * `npm run simulate`: the cascade lab with defaults (the thin-book flash crash, baseline vs full,
 * in-process chain). Options come from the environment, since `hardhat run` passes no arguments:
 *   SIM_SCENARIO=file  SIM_MODES=a,b  SIM_SEEDS=N  SIM_SEED=S  SIM_OUT=dir  SIM_PROGRESS=bar|lines|off
 *   SIM_JOBS=J  SIM_CHAIN=anvil|hardhat
 * The Hardhat task `npx hardhat simulate --help` takes the same options as flags.
 */
import hre from "hardhat";
import { simulate, withCleanErrors } from "../sim/cli";

async function main() {
  await withCleanErrors(async () => {
    const env = process.env;
    await simulate(hre, {
      scenario: env.SIM_SCENARIO,
      modes: env.SIM_MODES,
      seeds: env.SIM_SEEDS,
      seed: env.SIM_SEED,
      out: env.SIM_OUT,
      progress: env.SIM_PROGRESS,
      jobs: env.SIM_JOBS,
      chain: env.SIM_CHAIN,
    });
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

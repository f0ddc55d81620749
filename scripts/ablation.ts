/**
 * `full` with one part switched off at a time, on one scenario: which part owns a bad-debt gap
 * (docs/results-analysis.md §2.6). The shipped `full` set is not changed; the variants are custom
 * parameter sets registered for this run only. Options from the environment:
 *   SIM_SCENARIO=file (default: the default scenario)   SIM_SEED=S (default: the scenario's seed)
 *   npx hardhat run scripts/ablation.ts
 */
import hre from "hardhat";
import { DEFAULT_SCENARIO } from "../sim/cli";
import { defineMode, MODES, runScenario } from "../sim/engine";
import { loadScenario } from "../sim/scenario";

const VARIANTS = {
  "full-throttle-off": { throttle: "off" },
  "full-breaker-off": { breaker: false },
  "full-static": { thresholds: "static" },
} as const;

async function main() {
  for (const [name, change] of Object.entries(VARIANTS)) defineMode({ ...MODES.full, ...change, name });
  const scenario = loadScenario(process.env.SIM_SCENARIO ?? DEFAULT_SCENARIO);
  const seed = process.env.SIM_SEED === undefined ? scenario.seed : Number(process.env.SIM_SEED);
  const modes = ["baseline", "full", ...Object.keys(VARIANTS)];
  const run = await runScenario(hre, scenario, {
    modes,
    seeds: [seed],
    onProgress: (p) => {
      if (p.phase !== "run") console.error(`[ablation] ${p.phase}`);
    },
  });
  console.log(`${scenario.name}, seed ${seed}`);
  console.log(["mode".padEnd(18), "badDebtUsd".padStart(12), "depositorsLossUsd".padStart(18)].join(" "));
  for (const r of run.runs) {
    const m = r.metrics;
    const loss = m.insuranceDrawdownUsd - m.lpPnlUsd;
    console.log([r.mode.padEnd(18), m.badDebtUsd.toFixed(0).padStart(12), loss.toFixed(0).padStart(18)].join(" "));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

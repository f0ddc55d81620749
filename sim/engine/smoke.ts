/**
 * Developer entry point: runs a scenario through the engine and prints timings and metrics.
 *   SCENARIO=sim/scenarios/thin-books-flash-crash.json MODES=baseline,full npx hardhat run sim/engine/smoke.ts
 */
import hre from "hardhat";
import { loadScenario } from "../scenario";
import { METRIC_NAMES } from "../types";
import { runScenario } from "./index";
import { profileReport } from "./profile";

async function main(): Promise<void> {
  const file = process.env.SCENARIO ?? "sim/scenarios/thin-books-flash-crash.json";
  const scenario = loadScenario(file);
  if (process.env.BLOCKS) scenario.blocks = Number(process.env.BLOCKS);
  if (process.env.TRADERS) scenario.population.traders = Number(process.env.TRADERS);
  const modes = process.env.MODES?.split(",");
  const t0 = Date.now();
  const run = await runScenario(hre, scenario, {
    modes,
    onProgress: (e) => {
      if (e.phase !== "run" || process.env.VERBOSE) console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${e.phase} ${e.mode ?? ""} ${e.seed ?? ""} ${e.block ?? ""}`);
    },
  });
  console.log(`setup ${(run.setupMs / 1000).toFixed(1)} s; total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const r of run.runs) console.log(`run ${r.mode} seed ${r.seed}: ${(r.wallMs / 1000).toFixed(1)} s`);
  const rows = METRIC_NAMES.map((k) => [k, ...run.runs.map((r) => String(r.metrics[k]))]);
  console.log(["metric", ...run.runs.map((r) => r.mode)].join("\t"));
  for (const row of rows) console.log(row.join("\t"));
  if (process.env.LAB_PROFILE) console.log(profileReport());
  if (process.env.SERIES) {
    for (const r of run.runs)
      for (const s of r.series)
        if (s.block % Number(process.env.SERIES) === 0 || s.liquidations > 0)
          console.log(r.mode, s.block, s.asset, s.fundamentalUsd.toFixed(1), s.venueUsd.toFixed(1), s.oracleUsd.toFixed(1), s.liquidations, Math.round(s.liquidatedNotionalUsd), s.auctionsActive, s.clearingDiscountPct?.toFixed(2) ?? "-", Math.round(s.insuranceUsd));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

/**
 * The lab's engine: `runScenario` deploys and populates the world once per seed, snapshots it,
 * then runs each mode from the snapshot and returns everything the front end reports
 * (`ScenarioRun`, sim/types.ts). See docs/lab-world.md.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Scenario } from "../scenario";
import type { DepthBand, HeatmapBucket, ProgressFn, RunResult, ScenarioRun } from "../types";
import type { TxRequest } from "./chain";
import { modeParams, STATIC_RATIOS } from "./modes";
import { fundamentalPath } from "./paths";
import { drawTraders, mineBatch, openPopulation, type Trader } from "./population";
import { runOnce, type BlockObserver, type Populated } from "./run";
import { timed } from "./profile";
import { readMargins } from "./views";
import {
  COLLATERAL_WEIGHT,
  LIQUIDATION_BUFFER_USD,
  QUOTE_DECIMALS,
  deployWorld,
  fromWad,
  units,
  type World,
} from "./world";

export { defineMode, MODES, modeParams, type ModeParams } from "./modes";
export { applyBreaker, type BlockObserver } from "./run";

export interface RunOptions {
  modes?: string[];
  seeds?: number[];
  onProgress?: ProgressFn;
  /** Called after every block of every run (drain included), once the block is booked: an
   * observer for tests and instruments; it must not send transactions. */
  onBlock?: BlockObserver;
}

export async function runScenario(
  hre: HardhatRuntimeEnvironment,
  scenario: Scenario,
  opts: RunOptions = {},
): Promise<ScenarioRun> {
  const modes = opts.modes ?? scenario.modes;
  modes.forEach((m) => modeParams(m)); // unknown modes fail before any work
  const seeds = opts.seeds ?? Array.from({ length: scenario.seeds }, (_, i) => scenario.seed + i);
  const progress: ProgressFn = opts.onProgress ?? (() => undefined);
  const t0 = Date.now();

  progress({ phase: "deploy" });
  // Everything this run does is undone at the end, so the next run starts from the same chain.
  const { Chain } = await import("./chain");
  const pristineChain = await Chain.connect(hre.network.provider);
  const pristine = await pristineChain.snapshot();
  const w = await deployWorld(hre, scenario);
  try {
    await w.chain.setBlockGasLimit(1_000_000_000);
  } catch {
    // Nodes without the method keep their limit; batches are sized under TX_GAS_CAP anyway.
  }
  await w.chain.setAutomine(false);
  let base = await w.chain.snapshot();
  let setupMs = Date.now() - t0;

  let heatmap: HeatmapBucket[] = [];
  const runs: RunResult[] = [];
  const total = seeds.length * modes.length;
  try {
    for (const [si, seed] of seeds.entries()) {
      const tp = Date.now();
      if (si > 0) {
        await w.chain.revert(base);
        base = await w.chain.snapshot();
      }
      progress({ phase: "populate", seed });
      const pop = await populate(w, scenario, seed);
      if (si === 0) heatmap = await buildHeatmap(w, scenario, pop.traders);
      setupMs += Date.now() - tp;
      let snap = await w.chain.snapshot();
      for (const [mi, mode] of modes.entries()) {
        if (mi > 0) {
          await w.chain.revert(snap);
          snap = await w.chain.snapshot();
        }
        const tr = Date.now();
        const runIndex = si * modes.length + mi;
        const out = await timed("run (total)", () =>
          runOnce(w, scenario, pop, mode, { fn: progress, runIndex, runs: total }, opts.onBlock),
        );
        runs.push({ mode, seed, metrics: out.metrics, series: out.series, wallMs: Date.now() - tr });
        if (process.env.LAB_DEBUG)
          console.log(
            `lab: ${mode}/${seed} failed txs ${out.failures.txs}, failed actions ${out.failures.actions} ${JSON.stringify(out.failures.reasons)}`,
          );
      }
    }
  } finally {
    await w.chain.revert(pristine);
    await w.chain.setAutomine(true);
  }
  progress({ phase: "done", runs: total });
  return {
    scenario: {
      name: scenario.name,
      blocks: scenario.blocks,
      blockTimeSec: scenario.blockTimeSec,
      assets: scenario.assets.map((a) => a.symbol),
    },
    seeds,
    modes,
    heatmap,
    depth: depthBands(scenario),
    runs,
    setupMs,
  };
}

/** Opens the seed's population, funds the hedger flat against it, and computes the paths. */
async function populate(w: World, scenario: Scenario, seed: number): Promise<Populated> {
  const latest = await w.chain.block(await w.chain.blockNumber());
  const clock = { t: latest.timestamp };
  const traders = drawTraders(scenario, seed);
  await openPopulation(w, scenario, traders, clock);

  // The hedger starts hedged: base = anchor + net open interest, anchor = gross open interest.
  const hedgerAnchors: bigint[] = [];
  const txs: TxRequest[] = [];
  for (const a of w.assets) {
    const s = await w.vault.marketState(a.marketId);
    const scale = 10n ** BigInt(18 - a.decimals);
    const gross = (BigInt(s.oiLongWad) + BigInt(s.oiShortWad)) / scale + 10n ** BigInt(a.decimals);
    const net = (BigInt(s.oiLongWad) - BigInt(s.oiShortWad)) / scale;
    hedgerAnchors.push(gross);
    const grossUsd = fromWad(BigInt(s.oiLongWad) + BigInt(s.oiShortWad)) * a.spec.initialPriceUsd;
    txs.push({
      from: w.admin,
      to: a.tokenAddr,
      data: w.usdc.interface.encodeFunctionData("mint", [w.agentAddrs.hedger, gross + net]),
      gas: 200_000,
    });
    txs.push({
      from: w.admin,
      to: w.usdcAddr,
      data: w.usdc.interface.encodeFunctionData("mint", [
        w.agentAddrs.hedger,
        units(2 * grossUsd + 1_000_000, QUOTE_DECIMALS),
      ]),
      gas: 200_000,
    });
  }
  clock.t += scenario.blockTimeSec;
  await mineBatch(w, txs, clock.t);
  return {
    seed,
    traders,
    fundamental: scenario.assets.map((a) => fundamentalPath(a, scenario.blocks, scenario.blockTimeSec, seed)),
    hedgerAnchors,
    startTime: clock.t,
  };
}

/** Open notional by liquidation price, 1%-of-price buckets, at the initial prices (static MMR). */
async function buildHeatmap(w: World, scenario: Scenario, traders: Trader[]): Promise<HeatmapBucket[]> {
  const open = traders.filter((t) => t.opened);
  const margins = await readMargins(
    w,
    open.map((t) => t.address),
    [],
    [],
  );
  const out: HeatmapBucket[] = [];
  for (const a of w.assets) {
    const p0 = a.spec.initialPriceUsd;
    const width = p0 / 100;
    const buckets = new Map<number, { long: number; short: number }>();
    open.forEach((t, i) => {
      if (t.asset !== a.index || !margins[i].ok) return;
      const s = Number(t.sizeWad) / 1e18;
      const held = Number(t.depositUnits - t.withdrawUnits) / 10 ** a.decimals;
      const k = s + (t.collateral === a.index ? held * COLLATERAL_WEIGHT : 0);
      const e = fromWad(margins[i].equityOracleWad);
      const denom = Math.abs(s) * STATIC_RATIOS.mmr - k;
      if (Math.abs(denom) < 1e-12) return;
      const liq = (e - k * p0 - LIQUIDATION_BUFFER_USD) / denom;
      if (!(liq > 0) || liq > 3 * p0) return;
      const key = Math.floor(liq / width);
      const bucket = buckets.get(key) ?? { long: 0, short: 0 };
      if (t.long) bucket.long += Math.abs(s) * p0;
      else bucket.short += Math.abs(s) * p0;
      buckets.set(key, bucket);
    });
    for (const key of [...buckets.keys()].sort((x, y) => x - y)) {
      const bk = buckets.get(key) as { long: number; short: number };
      out.push({
        asset: a.symbol,
        liqPriceFromUsd: key * width,
        liqPriceToUsd: (key + 1) * width,
        longNotionalUsd: Math.round(bk.long * 100) / 100,
        shortNotionalUsd: Math.round(bk.short * 100) / 100,
      });
    }
  }
  return out;
}

function depthBands(scenario: Scenario): DepthBand[] {
  const out: DepthBand[] = [];
  for (const a of scenario.assets) {
    const p0 = a.initialPriceUsd;
    for (const b of a.venue.bands) {
      out.push({
        asset: a.symbol,
        priceFromUsd: p0 * (1 - b.toPct / 100),
        priceToUsd: p0 * (1 - b.fromPct / 100),
        depthUsd: b.depthUsd,
      });
      out.push({
        asset: a.symbol,
        priceFromUsd: p0 * (1 + b.fromPct / 100),
        priceToUsd: p0 * (1 + b.toPct / 100),
        depthUsd: b.depthUsd,
      });
    }
  }
  return out;
}

/**
 * The front end's block observer (`RunOptions.onBlock`, called after every booked block, drain
 * included): reports every block to the progress display, so the bar moves block by block, and
 * takes the post-crash liquidation heatmap of each run after the scenario's last block (the
 * report's "after" panel). It only reads the chain (eth_call), so runs are unchanged by it.
 */
import type { BlockObserver } from "../engine";
import type { HeatmapBucket, ModeName, ProgressFn, RunResult } from "../types";

/** The post-crash heatmap of one run. */
export interface HeatmapAfter {
  /** The block after which it was taken (the scenario's last). */
  block: number;
  buckets: HeatmapBucket[];
}

type Ctx = Parameters<BlockObserver>[0];
type St = Parameters<BlockObserver>[1];

/** Liquidation price of a position of `size` with exposure `k`, equity `e` and maintenance `m` at price `p`. */
export function liquidationPrice(size: number, k: number, e: number, m: number, p: number, buffer: number): number {
  const mmr = Math.max(0, m - buffer) / (Math.abs(size) * p);
  const denom = Math.abs(size) * mmr - k;
  if (Math.abs(denom) < 1e-12) return NaN;
  return (e - k * p - buffer) / denom;
}

/** Buckets of 1% of the initial price, as the engine's pre-crash heatmap. */
export function bucketize(
  asset: string,
  p0: number,
  positions: { liq: number; long: boolean; usd: number }[],
): HeatmapBucket[] {
  const width = p0 / 100;
  const buckets = new Map<number, { long: number; short: number }>();
  for (const q of positions) {
    if (!(q.liq > 0) || q.liq > 3 * p0) continue;
    const key = Math.floor(q.liq / width);
    const b = buckets.get(key) ?? { long: 0, short: 0 };
    if (q.long) b.long += q.usd;
    else b.short += q.usd;
    buckets.set(key, b);
  }
  return [...buckets.keys()]
    .sort((x, y) => x - y)
    .map((key) => {
      const b = buckets.get(key) as { long: number; short: number };
      return {
        asset,
        liqPriceFromUsd: key * width,
        liqPriceToUsd: (key + 1) * width,
        longNotionalUsd: Math.round(b.long * 100) / 100,
        shortNotionalUsd: Math.round(b.short * 100) / 100,
      };
    });
}

/** Open notional by liquidation price now, at the oracle, with each account's own maintenance. */
export async function currentHeatmap(ctx: Ctx, st: St, b: number): Promise<HeatmapBucket[]> {
  const { readMargins } = await import("../engine/views");
  const { COLLATERAL_WEIGHT, LIQUIDATION_BUFFER_USD } = await import("../engine/world");
  const w = ctx.w;
  const open = ctx.pop.traders.filter((t) => t.opened);
  const margins = await readMargins(
    w,
    open.map((t) => t.address),
    [],
    [],
  );
  const out: HeatmapBucket[] = [];
  for (const a of w.assets) {
    const row = st.series.find((r) => r.block === b && r.asset === a.symbol);
    const p = row?.oracleUsd ?? a.spec.initialPriceUsd;
    const positions: { liq: number; long: boolean; usd: number }[] = [];
    for (const [i, t] of open.entries()) {
      if (t.asset !== a.index || !margins[i].ok) continue;
      const raw = await w.chain.call(
        w.vaultAddr,
        w.ifaces.vault.encodeFunctionData("getPosition", [t.address, a.marketId]),
      );
      const [pos] = w.ifaces.vault.decodeFunctionResult("getPosition", raw) as unknown as [[bigint]];
      const s = Number(pos[0]) / 1e18;
      if (s === 0) continue;
      let held = 0;
      if (t.collateral === a.index) {
        const c = await w.chain.call(
          w.vaultAddr,
          w.ifaces.vault.encodeFunctionData("collateralBalance", [t.address, a.tokenAddr]),
        );
        held = Number(BigInt(c)) / 1e18;
      }
      const k = s + held * COLLATERAL_WEIGHT;
      const e = Number(margins[i].equityOracleWad) / 1e18;
      const m = Number(margins[i].maintenanceOracleWad) / 1e18;
      positions.push({
        liq: liquidationPrice(s, k, e, m, p, LIQUIDATION_BUFFER_USD),
        long: s > 0,
        usd: Math.abs(s) * p,
      });
    }
    out.push(...bucketize(a.symbol, a.spec.initialPriceUsd, positions));
  }
  return out;
}

export interface RunObserver {
  onBlock: BlockObserver;
  /** Post-crash heatmaps by `mode/seed`. */
  after: Map<string, HeatmapAfter>;
  /** Puts each run's post-crash heatmap on it (`RunResult.heatmapAfter`). */
  attach(runs: RunResult[]): void;
}

/**
 * A block observer for runs `runIndexOf(mode, seed)` of `runs`: a progress event per block to
 * `onProgress`, and the post-crash heatmap after each run's last scenario block.
 */
export function runObserver(
  onProgress: ProgressFn,
  runIndexOf: (mode: ModeName, seed: number) => number,
  runs: number,
): RunObserver {
  const after = new Map<string, HeatmapAfter>();
  const onBlock: BlockObserver = async (ctx, st, b) => {
    const blocks = ctx.scenario.blocks;
    const mode = ctx.modeName;
    const seed = ctx.pop.seed;
    onProgress({ phase: "run", mode, seed, block: b + 1, blocks, runIndex: runIndexOf(mode, seed), runs });
    if (b === blocks - 1) after.set(`${mode}/${seed}`, { block: b, buckets: await currentHeatmap(ctx, st, b) });
  };
  const attach = (list: RunResult[]) => {
    for (const r of list) {
      const h = after.get(`${r.mode}/${r.seed}`);
      if (h !== undefined) r.heatmapAfter = h;
    }
  };
  return { onBlock, after, attach };
}

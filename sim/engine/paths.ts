/**
 * Fundamental price paths (docs/lab-world.md): the "true" external price of each asset per block.
 * No agent can move it. `shock`: flat, then a linear fall of `dropPct` % of the initial price over
 * `overBlocks`, then a linear recovery of `recoverPct` % of the initial price over `recoverBlocks`
 * (negative values mirror it into a rise). `gbm`: geometric Brownian motion per block with jumps.
 * `points`: linear interpolation between [block, price] points, flat outside them.
 */
import type { AssetSpec } from "../scenario";
import { Rng } from "./prng";

export function fundamentalPath(asset: AssetSpec, blocks: number, blockTimeSec: number, seed: number): number[] {
  const f = asset.fundamental;
  const p0 = asset.initialPriceUsd;
  const out: number[] = new Array<number>(blocks + 1);
  if (f.type === "shock") {
    const trough = p0 * (1 - f.dropPct / 100);
    const recovered = trough + (p0 * f.recoverPct) / 100;
    for (let b = 0; b <= blocks; b++) {
      if (b <= f.startBlock) out[b] = p0;
      else if (b <= f.startBlock + f.overBlocks) out[b] = p0 + ((trough - p0) * (b - f.startBlock)) / f.overBlocks;
      else if (f.recoverBlocks === 0 || b >= f.startBlock + f.overBlocks + f.recoverBlocks) out[b] = recovered;
      else out[b] = trough + ((recovered - trough) * (b - f.startBlock - f.overBlocks)) / f.recoverBlocks;
    }
  } else if (f.type === "gbm") {
    const rng = new Rng(seed, 1000 + [...asset.symbol].reduce((h, c) => h * 31 + c.charCodeAt(0), 7));
    const dtDays = blockTimeSec / 86_400;
    const sigma = f.volPctPerDay / 100;
    const mu = f.driftPctPerDay / 100;
    const jumps = new Map<number, number>();
    for (const j of f.jumps) jumps.set(j.block, (jumps.get(j.block) ?? 1) * (1 + j.pct / 100));
    out[0] = p0;
    for (let b = 1; b <= blocks; b++) {
      const step = (mu - (sigma * sigma) / 2) * dtDays + sigma * Math.sqrt(dtDays) * rng.normal();
      out[b] = out[b - 1] * Math.exp(step) * (jumps.get(b) ?? 1);
    }
  } else {
    const pts = f.points;
    for (let b = 0; b <= blocks; b++) {
      if (b <= pts[0][0]) out[b] = pts[0][1];
      else if (b >= pts[pts.length - 1][0]) out[b] = pts[pts.length - 1][1];
      else {
        let i = 0;
        while (pts[i + 1][0] < b) i++;
        const [b0, v0] = pts[i];
        const [b1, v1] = pts[i + 1];
        out[b] = v0 + ((v1 - v0) * (b - b0)) / (b1 - b0);
      }
    }
  }
  return out;
}

/** Largest peak-to-trough fall, in percent of the peak. */
export function drawdownPct(series: readonly number[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const x of series) {
    peak = Math.max(peak, x);
    worst = Math.max(worst, (peak - x) / peak);
  }
  return worst * 100;
}

/** Largest trough-to-peak rise, in percent of the trough (the adverse move for shorts). */
export function drawupPct(series: readonly number[]): number {
  let trough = Infinity;
  let worst = 0;
  for (const x of series) {
    trough = Math.min(trough, x);
    worst = Math.max(worst, (x - trough) / trough);
  }
  return worst * 100;
}

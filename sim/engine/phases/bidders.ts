/**
 * What a bidder needs of a take (docs/lab-world.md, "Keepers and bidders"): a discount that grows
 * with the venue's recent volatility (`keepers.volDiscount`), and a profit at the venue price after
 * its gas (`keepers.gas`). Its capital and inventory are finite (`keepers.capitalUsd`, the vault's
 * margin check on every take).
 */
import { LotKind, decodeAuctionId } from "../../../lib/codec";
import type { AuctionInfo, RunContext, RunState } from "./context";

/** Gas a take costs a bidder (measured: a take of one lot inside `keeperAct`). */
export const TAKE_GAS = 400_000;

/** USD of `gas` units at the scenario's gas price (0 without one). */
export function gasUsd(ctx: RunContext, gas: number | bigint): number {
  const g = ctx.scenario.keepers.gas;
  return g === undefined ? 0 : Number(gas) * g.priceGwei * 1e-9 * g.nativeUsd;
}

/** Standard deviation of the venue's block returns of asset `a` over the `n` blocks before `b`, in %. */
function venueVolPct(st: RunState, a: number, b: number, n: number): number {
  const r: number[] = [];
  for (let i = Math.max(0, b - n); i < b; i++) r.push(Math.log(st.venueAt(a, i) / st.venueAt(a, i - 1)));
  if (r.length < 2) return 0;
  const m = r.reduce((x, y) => x + y, 0) / r.length;
  return Math.sqrt(r.reduce((x, y) => x + (y - m) ** 2, 0) / (r.length - 1)) * 100;
}

/** The discount (bps below the oracle) bidders require in block `b`. */
export function requiredDiscountBps(ctx: RunContext, st: RunState, b: number): number {
  const k = ctx.scenario.keepers;
  const v = k.volDiscount;
  if (v === undefined) return k.minDiscountBps;
  const vol = Math.max(...ctx.w.assets.map((a) => venueVolPct(st, a.index, b, v.windowBlocks)));
  return Math.min(9_000, Math.round(k.minDiscountBps + v.bpsPerVolPct * vol));
}

/**
 * Whether taking lot `info` at price multiple `factor` of the oracle pays at the venue price after
 * gas: a long lot (or collateral) is bought and sold on the venue, a short lot sold and bought back.
 */
export function takePays(
  ctx: RunContext,
  st: RunState,
  id: bigint,
  info: AuctionInfo,
  factor: number,
  venue: number,
): boolean {
  const collateral = decodeAuctionId(id).kind === LotKind.Collateral;
  const qty = Math.abs(Number(info.lot)) / 1e18; // every lot is WAD-scaled (collateral too)
  const oracle = st.oracle[info.asset];
  const edge = info.short && !collateral ? oracle * (2 - factor) - venue : venue - oracle * factor;
  return edge * qty > gasUsd(ctx, TAKE_GAS);
}

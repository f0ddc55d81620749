/**
 * Phase 5 of a block: the pool's hedger. It trades each asset's spot balance back to its anchor
 * plus the pool's net exposure, at once (`immediate`) or at most `usdPerBlock` per block
 * (`rate-limited`), whatever the mode: the hedger policy is the scenario's, the same in every mode.
 * Two instant baselines change it as part of their mechanism (sim/engine/modes.ts): `instant-gmx`'s
 * pool is unhedged, and in `instant-aave` the liquidator sells what it liquidated on the venue,
 * which the lab does through the hedger in the next block, on top of the scenario's budget.
 */
import type { TxRequest } from "../chain";
import { units } from "../world";
import type { BlockInput, RunContext, RunState } from "./context";

const MAX_UINT = (1n << 256n) - 1n;

/** The hedger's base cap for asset `a` in this block. */
function hedgeCap(ctx: RunContext, st: RunState, blk: BlockInput, a: number): bigint {
  const h = ctx.scenario.hedger;
  if (h.mode === "immediate") return MAX_UINT;
  const asset = ctx.w.assets[a];
  const budget = h.mode === "off" ? 0n : units((h.usdPerBlock ?? 0) / blk.prevVenue[a], asset.decimals);
  return budget + (ctx.mode.instant?.liquidatorSells ? st.liquidatedBase[a] : 0n);
}

export function hedgerTxs(ctx: RunContext, st: RunState, blk: BlockInput): TxRequest[] {
  const { w } = ctx;
  if (ctx.instant && ctx.mode.instant?.unhedgedPool) return [];
  const caps = w.assets.map((a) => hedgeCap(ctx, st, blk, a.index));
  // What was liquidated up to the last block is being sold now.
  st.liquidatedBase.fill(0n);
  return w.assets
    .filter((a) => caps[a.index] > 0n)
    .map((a) => ({
      from: w.admin,
      to: w.agentAddrs.hedger,
      data: w.ifaces.agent.encodeFunctionData("hedgePool", [a.index, ctx.pop.hedgerAnchors[a.index], caps[a.index]]),
      gas: 1_500_000,
    }));
}

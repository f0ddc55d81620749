/**
 * Phase 4 of a block: momentum sellers. Once an asset's venue has fallen `triggerDropPct` from its
 * start, they sell `usdPerBlock` of it per block until `capitalUsd` is spent (over all assets).
 */
import type { TxRequest } from "../chain";
import { sqrtAtUsd } from "../venue";
import { units } from "../world";
import type { BlockInput, RunContext, RunState } from "./context";

export function momentumTxs(ctx: RunContext, st: RunState, blk: BlockInput): TxRequest[] {
  const { w } = ctx;
  const momentum = ctx.scenario.population.momentum;
  const txs: TxRequest[] = [];
  if (!momentum || st.momentumSpent >= momentum.capitalUsd) return txs;
  for (const a of w.assets) {
    const drop = (1 - blk.prevVenue[a.index] / st.venueInit[a.index]) * 100;
    if (drop < momentum.triggerDropPct) continue;
    const usd = Math.min(momentum.usdPerBlock, momentum.capitalUsd - st.momentumSpent);
    st.momentumSpent += usd;
    txs.push({
      from: w.admin,
      to: w.agentAddrs.momentum,
      data: w.ifaces.agent.encodeFunctionData("swapToward", [
        a.index,
        sqrtAtUsd(a.shape, a.spec.initialPriceUsd * 0.1),
        units(usd / blk.prevVenue[a.index], a.decimals),
        0n,
      ]),
      gas: 1_500_000,
    });
  }
  return txs;
}

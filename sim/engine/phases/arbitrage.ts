/**
 * Phase 2 of a block: arbitrage. The arbitrageur swaps each venue toward the fundamental price,
 * with at most `arbitrage.maxUsdPerBlock` of quote (or its worth of base at the previous venue
 * price) per asset and block.
 */
import type { TxRequest } from "../chain";
import { sqrtAtUsd } from "../venue";
import { QUOTE_DECIMALS, units } from "../world";
import { fundamentalAt, type BlockInput, type RunContext } from "./context";

export function arbitrageTxs(ctx: RunContext, blk: BlockInput): TxRequest[] {
  const { w, scenario } = ctx;
  const arbUsd = scenario.arbitrage.maxUsdPerBlock;
  if (arbUsd <= 0) return [];
  return w.assets.map((a) => ({
    from: w.admin,
    to: w.agentAddrs.arb,
    data: w.ifaces.agent.encodeFunctionData("swapToward", [
      a.index,
      sqrtAtUsd(a.shape, fundamentalAt(ctx, a.index, blk.b)),
      units(arbUsd / blk.prevVenue[a.index], a.decimals),
      units(arbUsd, QUOTE_DECIMALS),
    ]),
    gas: 1_500_000,
  }));
}

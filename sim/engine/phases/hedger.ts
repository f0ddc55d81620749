/**
 * Phase 5 of a block: the pool's hedger. It trades each asset's spot balance back to its anchor
 * plus the pool's net exposure, at once (`immediate`, and always in instant mode, where
 * liquidations are hedged at once) or at most `usdPerBlock` per block.
 */
import type { TxRequest } from "../chain";
import { units } from "../world";
import type { BlockInput, RunContext } from "./context";

const MAX_UINT = (1n << 256n) - 1n;

export function hedgerTxs(ctx: RunContext, blk: BlockInput): TxRequest[] {
  const { w, scenario } = ctx;
  const hedgerMode = scenario.hedger.mode;
  if (hedgerMode === "off") return [];
  return w.assets.map((a) => {
    const cap =
      hedgerMode === "immediate" || ctx.instant
        ? MAX_UINT
        : units((scenario.hedger.usdPerBlock ?? 0) / blk.prevVenue[a.index], a.decimals);
    return {
      from: w.admin,
      to: w.agentAddrs.hedger,
      data: w.ifaces.agent.encodeFunctionData("hedgePool", [a.index, ctx.pop.hedgerAnchors[a.index], cap]),
      gas: 1_500_000,
    };
  });
}

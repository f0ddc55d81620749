/**
 * Phase 1 of a block: the oracle relayer. Per asset it writes a round when the source (the venue,
 * or the fundamental with the feed's noise, `latencyBlocks` late) has moved `deviationBps` from the last round or the
 * heartbeat is due, unless the scenario has the feed stale; with each round, under dynamic
 * thresholds, the RiskEngine's `updatePrice`, and with the breaker on, a `poke` of the market (and
 * one of every market in the first block, to open the price window).
 */
import type { TxRequest } from "../chain";
import { e8, type AssetWorld, type World } from "../world";
import { fundamentalAt, type BlockInput, type RunContext, type RunState } from "./context";

/** A permissionless `poke(market)` sent by the relayer. */
export function pokeTx(w: World, marketId: string): TxRequest {
  return {
    from: w.admin,
    to: w.breakerAddr,
    data: w.ifaces.breaker.encodeFunctionData("poke", [marketId]),
    gas: 500_000,
  };
}

/** The price the relayer reads for asset `a` at block `b` (null while its feed is stale). */
function sourcePrice(ctx: RunContext, st: RunState, a: AssetWorld, b: number): number | null {
  const o = a.spec.oracle;
  if (o.stale !== undefined && b >= o.stale.fromBlock && b < o.stale.toBlock) return null;
  if (o.source === "venue") return st.venueAt(a.index, b - o.latencyBlocks);
  const at = Math.max(0, b - o.latencyBlocks);
  const noise = ctx.oracleNoise[a.index];
  return fundamentalAt(ctx, a.index, at) * (1 + noise[Math.min(at, noise.length - 1)]);
}

export async function relayerTxs(ctx: RunContext, st: RunState, blk: BlockInput): Promise<TxRequest[]> {
  const { w, mode } = ctx;
  const txs: TxRequest[] = [];
  for (const a of w.assets) {
    const src = sourcePrice(ctx, st, a, blk.b);
    if (src === null) continue;
    const lw = st.lastWrite[a.index];
    const dev = Math.abs(src / lw.price - 1) * 10_000;
    if (dev < a.spec.oracle.deviationBps && blk.now - lw.time < a.spec.oracle.heartbeatSec) continue;
    const answer = e8(src);
    txs.push({
      from: w.admin,
      to: a.feedAddr,
      data: w.ifaces.feed.encodeFunctionData("setAnswer", [answer]),
      gas: 100_000,
    });
    st.oracle[a.index] = Number(answer) / 1e8;
    st.lastWrite[a.index] = { price: st.oracle[a.index], time: blk.now };
    if (mode.thresholds === "dynamic")
      txs.push({
        from: w.admin,
        to: await w.dynamicRisk.getAddress(),
        data: w.ifaces.risk.encodeFunctionData("updatePrice", [a.marketId]),
        gas: 400_000,
      });
    if (w.breakerEnabled) txs.push(pokeTx(w, a.marketId));
  }
  if (w.breakerEnabled && blk.b === 0)
    for (const a of w.assets)
      if (!txs.some((x) => x.to === w.breakerAddr && x.data.includes(a.marketId.slice(2))))
        txs.push(pokeTx(w, a.marketId));
  return txs;
}

/** Whether the block's transactions write an oracle round. */
export function wroteRound(w: World, txs: TxRequest[]): boolean {
  return txs.some((x) => w.assets.some((a) => a.feedAddr === x.to));
}

/**
 * Phase 2 of a block: arbitrage against an outside market. The arbitrageur swaps each venue toward
 * the fundamental price, with at most `arbitrage.maxUsdPerBlock` of quote (or its worth of base at
 * the previous venue price) per asset and block (the pull's speed), less under stress when the
 * scenario says the outside market steps back (`arbitrage.stress`). With the outside market on (the
 * default), the block first tops the arbitrageur's wallet back up to its starting inventory (at
 * least a block's worth of trading at full speed in each token): what
 * it lacks it buys outside at the fundamental, booked as a USD debt to the outside market
 * (`OutsideBook`), so it never runs dry and every dollar of it has a counterparty.
 */
import type { TxRequest } from "../chain";
import { tokenBalance } from "../views";
import { sqrtAtUsd } from "../venue";
import { QUOTE_DECIMALS, units, type World } from "../world";
import { fundamentalAt, type BlockInput, type RunContext, type RunState } from "./context";

/** What the outside market has given the arbitrageur (token units) and what it is owed (USD). */
export interface OutsideBook {
  /** The arbitrageur's wallet at the start: quote, then each asset's base (token units). */
  start: bigint[];
  /** Its wallet after the last block, same order. */
  now: bigint[];
  /** Tokens the outside market delivered (minted into the wallet), same order. */
  delivered: bigint[];
  /** USD the arbitrageur owes the outside market for them, at the fundamental of each delivery. */
  owedUsd: number;
}

/** The arbitrageur's wallet: quote, then each asset's base. */
export function arbWallet(w: World): Promise<bigint[]> {
  return Promise.all(
    [w.usdcAddr, ...w.assets.map((a) => a.tokenAddr)].map((t) => tokenBalance(w, t, w.agentAddrs.arb)),
  );
}

export function outsideOn(ctx: RunContext): boolean {
  return ctx.scenario.arbitrage.outsideMarket !== false && ctx.scenario.arbitrage.maxUsdPerBlock > 0;
}

/** The share of the arbitrageur's speed left in block `b` (1 unless the outside market steps back). */
export function speedShare(ctx: RunContext, b: number): number {
  const s = ctx.scenario.arbitrage.stress;
  if (s === undefined) return 1;
  const moved = ctx.w.assets.some((a) => {
    const now = fundamentalAt(ctx, a.index, b);
    const then = fundamentalAt(ctx, a.index, Math.max(0, b - s.windowBlocks));
    return Math.abs(now / then - 1) * 100 >= s.triggerMovePct;
  });
  return moved ? s.speedShare : 1;
}

/** The outside market's top-up of the arbitrageur's wallet before block `b`. */
function topUpTxs(ctx: RunContext, st: RunState, b: number): TxRequest[] {
  const { w } = ctx;
  const book = st.outside;
  if (!book || !outsideOn(ctx)) return [];
  const tokens = [w.usdcAddr, ...w.assets.map((a) => a.tokenAddr)];
  const txs: TxRequest[] = [];
  const speedUsd = ctx.scenario.arbitrage.maxUsdPerBlock;
  tokens.forEach((token, i) => {
    const price = i === 0 ? 1 : fundamentalAt(ctx, i - 1, b);
    const decimals = i === 0 ? QUOTE_DECIMALS : w.assets[i - 1].decimals;
    // At least the starting inventory, and at least a block's worth of trading at full speed.
    const speed = units(speedUsd / price, decimals);
    const target = book.start[i] > speed ? book.start[i] : speed;
    const lack = target - book.now[i];
    if (lack <= 0n) return;
    book.delivered[i] += lack;
    book.owedUsd += (Number(lack) / 10 ** decimals) * price;
    book.now[i] = target;
    txs.push({
      from: w.admin,
      to: token,
      data: w.usdc.interface.encodeFunctionData("mint", [w.agentAddrs.arb, lack]),
      gas: 100_000,
    });
  });
  return txs;
}

export function arbitrageTxs(ctx: RunContext, st: RunState, blk: BlockInput): TxRequest[] {
  const { w, scenario } = ctx;
  const arbUsd = scenario.arbitrage.maxUsdPerBlock * speedShare(ctx, blk.b);
  if (arbUsd <= 0) return [];
  return [
    ...topUpTxs(ctx, st, blk.b),
    ...w.assets.map((a) => ({
      from: w.admin,
      to: w.agentAddrs.arb,
      data: w.ifaces.agent.encodeFunctionData("swapToward", [
        a.index,
        sqrtAtUsd(a.shape, fundamentalAt(ctx, a.index, blk.b)),
        units(arbUsd / blk.prevVenue[a.index], a.decimals),
        units(arbUsd, QUOTE_DECIMALS),
      ]),
      gas: 1_500_000,
    })),
  ];
}

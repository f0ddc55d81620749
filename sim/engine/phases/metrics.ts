/**
 * The run's books and metrics: the keepers' and the hedger's books at the start and the end (what
 * their profit and the LPs' hedged P&L are measured from), the price metrics of the venue against
 * the fundamental, and the `Metrics` record of the run.
 */
import type { Metrics } from "../../types";
import { drawdownPct, drawupPct } from "../paths";
import { timed } from "../profile";
import { blockState, readMargins, tokenBalance, type ChainState } from "../views";
import { QUOTE_DECIMALS, fromWad } from "../world";
import { fundamentalAt, type RunContext, type RunState } from "./context";
import { arbWallet } from "./arbitrage";
import { gasUsd } from "./bidders";
import { fundamentals, hedgerBook, latentDebt, lpNav, marginsAtFundamental, unresolvedExposure } from "./watch";

/** The keepers' and the hedger's books (USD at the given oracle prices). */
export interface Books {
  keeper: number;
  hedger: number;
}

/** The keepers' vault equity and wallets; of their spot inventory only what exceeds the anchor. */
async function keeperBook(ctx: RunContext, oracle: number[]): Promise<number> {
  const { w } = ctx;
  if (w.agentAddrs.keepers.length === 0) return 0;
  const margins = await readMargins(w, w.agentAddrs.keepers, [], []);
  let v = 0;
  for (const [k, addr] of w.agentAddrs.keepers.entries()) {
    v += fromWad(margins[k].equityOracleWad);
    v += Number(await tokenBalance(w, w.usdcAddr, addr)) / 10 ** QUOTE_DECIMALS;
    // The spot inventory held when flat is outside the book: only what hedges the lots counts.
    for (const a of w.assets) {
      const held = (await tokenBalance(w, a.tokenAddr, addr)) - w.keeperAnchors[a.index];
      v += (Number(held) / 10 ** a.decimals) * oracle[a.index];
    }
  }
  return v;
}

export async function books(ctx: RunContext, oracle: number[]): Promise<Books> {
  const keeper = await timed("books", () => keeperBook(ctx, oracle));
  const hedger = await timed("books", () => hedgerBook(ctx, oracle));
  return { keeper, hedger };
}

/** Each venue's token balances (quote, base): what its LPs own, fees included. */
export function venueBalances(w: RunContext["w"]): Promise<[bigint, bigint][]> {
  return Promise.all(
    w.assets.map(async (a) => [await tokenBalance(w, w.usdcAddr, a.pool), await tokenBalance(w, a.tokenAddr, a.pool)]),
  ) as Promise<[bigint, bigint][]>;
}

/** The venue LPs', the arbitrageur's and the outside market's P&L, at the fundamental of the last
 * block: each book's change of tokens, with the arbitrageur's debt to the outside market. */
async function marketBooks(
  ctx: RunContext,
  st: RunState,
  last: number,
): Promise<{ venueLp: number; arb: number; outside: number }> {
  const { w } = ctx;
  const price = [1, ...w.assets.map((a) => fundamentalAt(ctx, a.index, last))];
  const dec = [QUOTE_DECIMALS, ...w.assets.map((a) => a.decimals)];
  const usd = (x: bigint, i: number): number => (Number(x) / 10 ** dec[i]) * price[i];
  let venueLp = 0;
  const end = await venueBalances(w);
  for (const a of w.assets) {
    venueLp += usd(end[a.index][0] - st.venueStart[a.index][0], 0);
    venueLp += usd(end[a.index][1] - st.venueStart[a.index][1], a.index + 1);
  }
  const o = st.outside;
  if (!o) return { venueLp, arb: 0, outside: 0 };
  const wallet = await arbWallet(w);
  const arb = wallet.reduce((s, x, i) => s + usd(x - o.start[i], i), 0) - o.owedUsd;
  const outside = o.owedUsd - o.delivered.reduce((s, x, i) => s + usd(x, i), 0);
  return { venueLp, arb, outside };
}

interface PriceMetrics {
  fundMove: number;
  venueMove: number;
  maxImpact: number;
  recovery: number;
}

/** Whether the fundamental's adverse move is up (a squeeze) rather than down. */
function risingPath(f: number[]): boolean {
  return drawupPct(f) > drawdownPct(f);
}

/** Blocks from the worst asset's venue extreme until it is back within 1% of the fundamental. */
function recoveryBlocks(fund: number[], vw: number[], rising: boolean): number {
  let trough = 0;
  for (let i = 1; i < vw.length; i++) if (rising ? vw[i] > vw[trough] : vw[i] < vw[trough]) trough = i;
  for (let i = trough; i < vw.length; i++) if (Math.abs(vw[i] / fund[i] - 1) <= 0.01) return i - trough;
  return vw.length - trough;
}

/** Per asset, the adverse move of the fundamental's own direction; the worst asset's recovery. */
function priceMetrics(ctx: RunContext, st: RunState): PriceMetrics {
  const fund = ctx.pop.fundamental;
  const blocks = ctx.scenario.blocks;
  let fundMove = 0;
  let venueMove = 0;
  let maxImpact = 0;
  let worstAsset = 0;
  for (const a of ctx.w.assets) {
    const f = fund[a.index].slice(0, blocks);
    const v = [st.venueInit[a.index], ...st.venue[a.index].slice(0, blocks)];
    const rising = risingPath(f);
    const fm = rising ? drawupPct(f) : drawdownPct(f);
    const vm = rising ? drawupPct(v) : drawdownPct(v);
    fundMove = Math.max(fundMove, fm);
    if (vm > venueMove) {
      venueMove = vm;
      worstAsset = a.index;
    }
    for (let i = 1; i < v.length; i++) maxImpact = Math.max(maxImpact, Math.abs(v[i] / v[i - 1] - 1) * 100);
  }
  const rising = risingPath(fund[worstAsset].slice(0, blocks));
  const recovery = recoveryBlocks(fund[worstAsset], st.venue[worstAsset].slice(0, blocks), rising);
  return { fundMove, venueMove, maxImpact, recovery };
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Percentile `q` (0..1) of `xs`, linear between closest ranks; NaN when empty. */
function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const v = [...xs].sort((x, y) => x - y);
  const r = q * (v.length - 1);
  const lo = Math.floor(r);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (r - lo);
}

/** The loss metrics at the end (`b`: the last block run), marked at the fundamental. */
async function lossMetrics(ctx: RunContext, st: RunState, sEnd: ChainState, s0: ChainState, b: number) {
  const f = fundamentals(ctx, b);
  const endMargins = await marginsAtFundamental(ctx, ctx.traderAccounts, f);
  const latent = latentDebt(endMargins);
  const nav = await timed("books", () => lpNav(ctx, st, sEnd, f, latent));
  const wt = st.watch;
  const lpPnl = nav - wt.nav0;
  const insurance = s0.insuranceUsd - sEnd.insuranceUsd;
  const protocolLoss = insurance - lpPnl;
  return {
    latent,
    lpPnl,
    insurance,
    protocolLoss,
    protocolLossBps: (protocolLoss / wt.nav0) * 10_000,
    depositorLoss: Math.max(0, -lpPnl) + Math.max(0, insurance),
    trough: (Math.min(wt.navMin, nav) / wt.nav0 - 1) * 100,
    unresolved: await unresolvedExposure(ctx, st, b),
  };
}

/** The run's metrics, from the starting state `s0` and books `start`, at the end of the run. */
export async function closingMetrics(ctx: RunContext, st: RunState, s0: ChainState, start: Books): Promise<Metrics> {
  const sEnd = await blockState(ctx.w);
  const last = ctx.scenario.blocks + st.drained - 1;
  const loss = await lossMetrics(ctx, st, sEnd, s0, last);
  const end = await books(ctx, st.oracle);
  const market = await marketBooks(ctx, st, last);
  const { fundMove, venueMove, maxImpact, recovery } = priceMetrics(ctx, st);
  const m = st.totals;
  const wt = st.watch;
  return {
    fundamentalDrawdownPct: round(fundMove, 4),
    venueDrawdownPct: round(venueMove, 4),
    amplification: round(fundMove > 1e-9 ? venueMove / fundMove : venueMove > 1e-9 ? Infinity : 1, 4),
    liquidations: m.liquidations,
    liquidatedNotionalUsd: round(m.notional, 2),
    excessLiquidatedNotionalUsd: round(m.excess, 2),
    badDebtUsd: round(m.shortfall + loss.latent, 2),
    insuranceDrawdownUsd: round(loss.insurance, 2),
    lpPnlUsd: round(loss.lpPnl, 2),
    traderLiquidationCostUsd: round(m.traderCost, 2),
    keeperProfitUsd: round(end.keeper - start.keeper - gasUsd(ctx, st.keeperGas), 2),
    maxBlockImpactPct: round(maxImpact, 4),
    recoveryBlocks: recovery,
    breakerTrips: st.breakerTrips,
    blocksPaused: st.blocksPaused,
    gasUsedTotal: Number(m.gas),
    txCount: m.txs,
    protocolLossUsd: round(loss.protocolLoss, 2),
    protocolLossBpsOfNav: round(loss.protocolLossBps, 4),
    depositorLossUsd: round(loss.depositorLoss, 2),
    lpNavTroughPct: round(loss.trough, 4),
    liquidationDelayBlocksP50: round(percentile(wt.delays, 0.5), 2),
    liquidationDelayBlocksP95: round(percentile(wt.delays, 0.95), 2),
    missedLiquidationUsd: round(wt.missedUsd, 2),
    kickPausedBlocks: wt.kickPausedBlocks,
    drainBlocks: st.drained,
    unresolvedExposureUsd: round(loss.unresolved, 2),
    arbPnlUsd: round(market.arb, 2),
    venueLpPnlUsd: round(market.venueLp, 2),
    outsideMarketPnlUsd: round(market.outside, 2),
  };
}

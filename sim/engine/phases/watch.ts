/**
 * The fundamental watch: after every block, which accounts are below maintenance margin when
 * re-marked at the fundamental (the vault's own margins through `SimLens.marginsAt`, on the health
 * model's candidates at the fundamental), how long they have been, and the LP pool's NAV marked at
 * the fundamental net of the equity underwater accounts cannot pay. These are the inputs of the
 * delay, missed-liquidation, LP NAV, protocol-loss and unresolved-exposure metrics and of the drain.
 */
import { timed } from "../profile";
import { readMargins, tokenBalance, type ChainState, type Margin } from "../views";
import { QUOTE_DECIMALS, fromWad, wad } from "../world";
import { fundamentalAt, type RunContext, type RunState } from "./context";

/** A spell below MM at the fundamental longer than this many blocks, not kicked, is missed. */
export const MISSED_AFTER_BLOCKS = 10;

/** Fundamental prices of every asset at block `b`. */
export function fundamentals(ctx: RunContext, b: number): number[] {
  return ctx.w.assets.map((a) => fundamentalAt(ctx, a.index, b));
}

/** Margins of `accounts` re-marked at the fundamental prices `f`, on the latest state. */
export function marginsAtFundamental(ctx: RunContext, accounts: string[], f: number[]): Promise<Margin[]> {
  const { w } = ctx;
  return timed("margins", () =>
    readMargins(
      w,
      accounts,
      w.assets.map((a) => a.tokenAddr),
      f.map(wad),
    ),
  );
}

/** The hedger's quote and its base beyond the anchor, at `prices`. */
export async function hedgerBook(ctx: RunContext, prices: number[]): Promise<number> {
  const { w, pop } = ctx;
  let v = Number(await tokenBalance(w, w.usdcAddr, w.agentAddrs.hedger)) / 10 ** QUOTE_DECIMALS;
  for (const a of w.assets) {
    const held = (await tokenBalance(w, a.tokenAddr, w.agentAddrs.hedger)) - pop.hedgerAnchors[a.index];
    v += (Number(held) / 10 ** a.decimals) * prices[a.index];
  }
  return v;
}

/** Σ of the negative equity of `margins` (USD): what underwater accounts cannot pay. */
export function latentDebt(margins: Margin[]): number {
  return margins.reduce((s, mg) => s + (mg.ok && mg.equityWad < 0n ? -fromWad(mg.equityWad) : 0), 0);
}

/**
 * The LP pool's NAV at the fundamental `f`: the vault's pool value (open interest marked at the
 * oracle) re-marked at the fundamental (− skew × (fundamental − oracle) per market, the pool being
 * short the traders' skew), plus the hedger's book at the fundamental beyond its start, minus the
 * latent bad debt at the fundamental.
 */
export async function lpNav(
  ctx: RunContext,
  st: RunState,
  state: ChainState,
  f: number[],
  latent: number,
): Promise<number> {
  const { w } = ctx;
  let v = state.poolValueUsd;
  for (const a of w.assets) {
    const raw = await w.chain.call(w.vaultAddr, w.ifaces.vault.encodeFunctionData("marketState", [a.marketId]));
    const [ms] = w.ifaces.vault.decodeFunctionResult("marketState", raw) as unknown as [[bigint, bigint]];
    const skew = fromWad(BigInt(ms[0]) - BigInt(ms[1]));
    v -= skew * (f[a.index] - st.oracle[a.index]);
  }
  return v + (await hedgerBook(ctx, f)) - st.watch.hedgerStart - latent;
}

/** A kick (or takeover, or instant liquidation) of `account` in block `b` serves its open spell. */
export function serveSpell(st: RunState, account: string, b: number): void {
  const spell = st.watch.spells.get(account.toLowerCase());
  if (spell === undefined || spell.served) return;
  spell.served = true;
  st.watch.delays.push(b - spell.first);
}

/** Below this share of its maintenance (in the health model), an account is deep below MM. */
const DEEP_BELOW = 0.5;

/**
 * Accounts below MM at the fundamental `f` and their latent debt. The vault is read
 * (`SimLens.marginsAt`) for the health model's candidates near the line and for those it puts
 * underwater (the latent debt is always read); an account the model puts deep below MM but not
 * underwater (0 ≤ equity < DEEP_BELOW × MM, from its last `SimLens.exposures` read, refreshed after
 * every event that touches it) is taken as below without a read.
 */
async function belowAtFundamental(
  ctx: RunContext,
  f: number[],
): Promise<{ below: Map<string, number>; latent: number }> {
  const below = new Map<string, number>();
  let latent = 0;
  const near: string[] = [];
  for (const account of ctx.health.candidates(ctx.traderAccounts, f)) {
    const e = ctx.health.estimate(account, f);
    // Read: near the line, and every account the model puts underwater (its latent debt is read).
    if (e === undefined || e.equity >= DEEP_BELOW * e.mm || e.equity < 0) near.push(account);
    else if (e.notional > 0) below.set(account.toLowerCase(), e.notional);
  }
  const margins = await marginsAtFundamental(ctx, near, f);
  near.forEach((account, i) => {
    const mg = margins[i];
    const notional = ctx.health.notional(account, f);
    if (mg.ok && mg.equityWad < 0n) latent -= fromWad(mg.equityWad);
    if (mg.ok && notional > 0 && mg.equityWad < mg.maintenanceWad) below.set(account.toLowerCase(), notional);
  });
  return { below, latent };
}

/** After block `b` (its state `state`): the accounts below MM at the fundamental, their spells, NAV. */
export async function watchBlock(ctx: RunContext, st: RunState, b: number, state: ChainState): Promise<void> {
  const f = fundamentals(ctx, b);
  const { below, latent } = await belowAtFundamental(ctx, f);
  const wt = st.watch;
  for (const [acc, notional] of below) {
    const spell = wt.spells.get(acc);
    if (spell === undefined) wt.spells.set(acc, { first: b, served: false, missed: false });
    else if (!spell.served && !spell.missed && b - spell.first >= MISSED_AFTER_BLOCKS) {
      spell.missed = true;
      wt.missedUsd += notional;
    }
  }
  for (const acc of [...wt.spells.keys()]) if (!below.has(acc)) wt.spells.delete(acc);
  wt.below = new Set(below.keys());
  const nav = await timed("books", () => lpNav(ctx, st, state, f, latent));
  wt.navMin = Math.min(wt.navMin, nav);
}

/** Whether nothing is left to resolve: no auction running, no account below MM at the fundamental. */
export function resolved(st: RunState): boolean {
  return st.auctions.size === 0 && st.watch.below.size === 0;
}

/**
 * What is left unresolved after block `b` (USD at the fundamental): the live lots (their remaining
 * lot from `AuctionHouse.auctionStatus`) and the notional of accounts still below MM there.
 */
export async function unresolvedExposure(ctx: RunContext, st: RunState, b: number): Promise<number> {
  const { w } = ctx;
  const f = fundamentals(ctx, b);
  let usd = 0;
  for (const [id, info] of st.auctions) {
    const raw = await w.chain.call(w.auctionAddr, w.ifaces.auction.encodeFunctionData("auctionStatus", [id]));
    const res = w.ifaces.auction.decodeFunctionResult("auctionStatus", raw) as unknown as [bigint, boolean, [bigint]];
    const lot = BigInt(res[2][0]);
    usd += fromWad(lot < 0n ? -lot : lot) * f[info.asset];
  }
  for (const acc of st.watch.below) usd += ctx.health.notional(acc, f);
  return usd;
}

/** The run's starting NAV at the fundamental (block −1: the path's first price). */
export async function startWatch(ctx: RunContext, st: RunState, state: ChainState): Promise<void> {
  const f = fundamentals(ctx, 0);
  st.watch.hedgerStart = await hedgerBook(ctx, f);
  const margins = await marginsAtFundamental(ctx, ctx.traderAccounts, f);
  st.watch.nav0 = await lpNav(ctx, st, state, f, latentDebt(margins));
  st.watch.navMin = st.watch.nav0;
}

/**
 * The trader population (docs/lab-world.md): drawn from the scenario with a seeded PRNG, then
 * opened on chain in batches (one block per entry-price level, many impersonated traders per
 * block, deposits made in bulk by a funder agent with `depositFor`).
 *
 * Rules: market uniform over the scenario's assets; long with probability `longShare`; leverage
 * lognormal around `leverage.median` (log-sigma 0.35), clipped to [1.5, min(max, 0.9 / IMR)];
 * (0 when max = median: every trader at the median); notional lognormal (`notionalUsd.median`, `sigma`), clipped to [$500, 100 × median]; entry
 * price p0 × (1 + x), x triangular on ±`entrySpreadPct`, on a 0.25% grid; collateral volatile
 * with probability `volatileCollateralShare` (an asset drawn uniformly among the scenario's),
 * else quote. Leverage is measured at the initial price: equity at p0 = notional / leverage. The
 * trader deposits equity − uPnL(p0) + fee; if opening at its entry needs more (IM there), it
 * deposits that and withdraws the excess once prices are back at p0.
 */
import type { Scenario } from "../scenario";
import type { TxRequest } from "./chain";
import { Rng } from "./prng";
import { timed } from "./profile";
import { STATIC_RATIOS } from "./modes";
import { COLLATERAL_WEIGHT, LIQUIDATION_BUFFER_USD, MARKET, QUOTE_DECIMALS, e8, units, wad, type World } from "./world";

export const ENTRY_GRID_PCT = 0.25;
/** Log-sigma of the leverage distribution (0 when `leverage.max` equals the median). */
export const LEVERAGE_LOG_SIGMA = 0.35;

export interface Trader {
  address: string;
  asset: number;
  long: boolean;
  notionalUsd: number;
  leverage: number;
  entryLevel: number;
  entryUsd: number;
  sizeWad: bigint;
  /** -1 for quote collateral, else the asset index of the volatile collateral. */
  collateral: number;
  depositUnits: bigint;
  withdrawUnits: bigint;
  /** Whether its opening trade succeeded. */
  opened: boolean;
}

const MAX_UINT = (1n << 256n) - 1n;

export function drawTraders(scenario: Scenario, seed: number): Trader[] {
  const rng = new Rng(seed, 1);
  const pop = scenario.population;
  const nAssets = scenario.assets.length;
  const maxLev = Math.min(pop.leverage.max, 0.9 / STATIC_RATIOS.imr);
  const out: Trader[] = [];
  for (let i = 0; i < pop.traders; i++) {
    const asset = nAssets === 1 ? 0 : Math.min(nAssets - 1, Math.floor(rng.next() * nAssets));
    const long = rng.next() < pop.longShare;
    const levSigma = pop.leverage.max === pop.leverage.median ? 0 : LEVERAGE_LOG_SIGMA;
    const leverage = Math.min(maxLev, Math.max(1.5, rng.lognormal(pop.leverage.median, levSigma)));
    const notionalUsd = Math.min(
      100 * pop.notionalUsd.median,
      Math.max(500, rng.lognormal(pop.notionalUsd.median, pop.notionalUsd.sigma)),
    );
    const entryLevel = Math.round((pop.entrySpreadPct * rng.triangular()) / ENTRY_GRID_PCT);
    const volatile = rng.next() < pop.volatileCollateralShare;
    const collateral = volatile ? (nAssets === 1 ? 0 : Math.min(nAssets - 1, Math.floor(rng.next() * nAssets))) : -1;
    const spec = scenario.assets[asset];
    const p0 = spec.initialPriceUsd;
    const entryUsd = p0 * (1 + (entryLevel * ENTRY_GRID_PCT) / 100);
    const sizeBase = notionalUsd / p0;
    const upnl = (long ? 1 : -1) * sizeBase * (p0 - entryUsd);
    const fee = MARKET.takerFee * notionalUsd;
    const targetUsd = Math.max(0, notionalUsd / leverage - upnl + fee);
    const openNeedUsd = sizeBase * entryUsd * STATIC_RATIOS.imr + LIQUIDATION_BUFFER_USD + fee + 0.002 * notionalUsd;
    // Value of one unit of collateral at p0 and at the opening level (every feed moves together).
    const levelFactor = 1 + (entryLevel * ENTRY_GRID_PCT) / 100;
    const unitAtP0 = collateral < 0 ? 1 : scenario.assets[collateral].initialPriceUsd * COLLATERAL_WEIGHT;
    const unitAtOpen = collateral < 0 ? 1 : unitAtP0 * levelFactor;
    const targetUnits = targetUsd / unitAtP0;
    const openUnits = Math.max(targetUnits, openNeedUsd / unitAtOpen);
    const decimals = collateral < 0 ? QUOTE_DECIMALS : scenario.assets[collateral].symbol === "BTC" ? 8 : 18;
    const depositUnits = units(openUnits, decimals);
    const keep = units(targetUnits, decimals);
    out.push({
      address: "0x" + (0x5100000000000000000000000000000000000000n + BigInt(i + 1)).toString(16),
      asset,
      long,
      notionalUsd,
      leverage,
      entryLevel,
      entryUsd,
      sizeWad: (long ? 1n : -1n) * wad(sizeBase),
      collateral,
      depositUnits,
      withdrawUnits: depositUnits > keep ? depositUnits - keep : 0n,
      opened: false,
    });
  }
  return out;
}

/** Sends `txs` in order into one block and mines it at `timestamp`; returns the receipts' status. */
export async function mineBatch(w: World, txs: TxRequest[], timestamp: number): Promise<boolean[]> {
  const hashes = await timed("pop-send", () => w.chain.sendBlock(txs));
  await timed("pop-mine", () => w.chain.mine(timestamp));
  const receipts = await timed("pop-receipts", () => Promise.all(hashes.map((h) => w.chain.receipt(h))));
  const pending = receipts.filter((r) => r === null).length;
  if (pending > 0) throw new Error(`lab: ${pending} transactions did not fit in the block`);
  return receipts.map((r) => r !== null && r.status === "0x1");
}

/** The collateral token of collateral index `c` (−1: the quote token). */
const tokenOf = (w: World, c: number): string => (c < 0 ? w.usdcAddr : w.assets[c].tokenAddr);

/** Mints to the funder, then deposits for every trader in bulk (grouped by collateral token). */
function depositTxs(w: World, traders: Trader[]): TxRequest[] {
  const agentIface = w.ifaces.agent;
  const tokenIface = w.usdc.interface;
  const txs: TxRequest[] = [];
  const byToken = new Map<string, Trader[]>();
  for (const t of traders) {
    const key = tokenOf(w, t.collateral);
    byToken.set(key, [...(byToken.get(key) ?? []), t]);
  }
  for (const [token, group] of byToken) {
    const total = group.reduce((s, t) => s + t.depositUnits, 0n);
    txs.push({
      from: w.admin,
      to: token,
      data: tokenIface.encodeFunctionData("mint", [w.agentAddrs.funder, total]),
      gas: 200_000,
    });
    for (let i = 0; i < group.length; i += 120) {
      const chunk = group.slice(i, i + 120);
      txs.push({
        from: w.admin,
        to: w.agentAddrs.funder,
        data: agentIface.encodeFunctionData("depositFor", [
          token,
          chunk.map((t) => t.address),
          chunk.map((t) => t.depositUnits),
        ]),
        gas: 120_000 * chunk.length + 100_000,
      });
    }
  }
  return txs;
}

/** Every feed at `factor` × its initial price. */
function feedTxs(w: World, factor: number): TxRequest[] {
  return w.assets.map((a) => ({
    from: w.admin,
    to: a.feedAddr,
    data: w.ifaces.feed.encodeFunctionData("setAnswer", [e8(a.spec.initialPriceUsd * factor)]),
    gas: 100_000,
  }));
}

/** One block per entry level: every feed at the level's price, then that level's trades. */
async function openTrades(w: World, step: number, traders: Trader[], clock: { t: number }): Promise<number> {
  const levels = [...new Set(traders.map((t) => t.entryLevel))].sort((a, b) => a - b);
  let failedTrades = 0;
  for (const level of levels) {
    const batch = feedTxs(w, 1 + (level * ENTRY_GRID_PCT) / 100);
    const group = traders.filter((t) => t.entryLevel === level);
    for (const t of group)
      batch.push({
        from: t.address,
        to: w.vaultAddr,
        data: w.ifaces.vault.encodeFunctionData("trade", [
          w.assets[t.asset].marketId,
          t.sizeWad,
          t.sizeWad > 0n ? MAX_UINT : 0n,
        ]),
        gas: 800_000,
      });
    clock.t += step;
    const res = await mineBatch(w, batch, clock.t);
    group.forEach((t, i) => {
      t.opened = res[w.assets.length + i];
      if (!t.opened) failedTrades++;
    });
  }
  return failedTrades;
}

/** Opens the population on chain. Automine must be off; `clock` is advanced per block. */
export async function openPopulation(
  w: World,
  scenario: Scenario,
  traders: Trader[],
  clock: { t: number },
): Promise<{ failedTrades: number }> {
  const step = scenario.blockTimeSec;
  const txs = depositTxs(w, traders);
  await timed("impersonate", async () => {
    for (const t of traders) {
      await w.chain.impersonate(t.address);
      await w.chain.setBalance(t.address, 10n ** 21n);
    }
  });
  clock.t += step;
  const ok = await mineBatch(w, txs, clock.t);
  if (ok.some((x) => !x)) throw new Error("lab: a population deposit failed");

  const failedTrades = await openTrades(w, step, traders, clock);

  // Prices back at p0; traders who over-deposited to open withdraw the excess.
  const restore = feedTxs(w, 1);
  for (const t of traders)
    if (t.opened && t.withdrawUnits > 0n)
      restore.push({
        from: t.address,
        to: w.vaultAddr,
        data: w.ifaces.vault.encodeFunctionData("withdraw", [tokenOf(w, t.collateral), t.withdrawUnits]),
        gas: 800_000,
      });
  clock.t += step;
  await mineBatch(w, restore, clock.t);
  return { failedTrades };
}

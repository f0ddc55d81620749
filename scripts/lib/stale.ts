/**
 * `status` and `pool-status` when a price is stale ([usability] item 5). The vault refuses every
 * price-dependent view (`StalePrice`) once a feed's round is older than its heartbeat, which on a
 * local node happens after an idle hour. These read the feeds' last rounds directly and show the
 * account's health, or the pool's ledger, "at the last prices, stale since …" instead.
 *
 * The account's figures follow the vault's formulas (IPerpVault NatSpec) at the last prices:
 *   equity = quote + Σ balance × price × weight + Σ size × (price − entry) − Σ funding owed,
 *   IM/MM  = Σ |size| × price × imr/mmr (+ the liquidation buffer when a position is open),
 * with the funding owed at the market's stored index (funding accrued since the last trade in the
 * market is left out: it needs a price). They are what the vault will compute once a fresh round
 * arrives at the same prices, up to that accrual.
 */
import { Contract } from "ethers";
import { type Bulwark } from "../../lib/client";
import { findRevertData, protocolErrors } from "../../lib/errors";
import { WAD } from "../../lib/units";

const AGGREGATOR_ABI = ["function latestRoundData() view returns (uint80, int256, uint256, uint256, uint80)"];

export interface StaleInfo {
  /** ISO time of the oldest last round among the prices used. */
  since: string;
  /** Symbols (or addresses) of the assets whose feeds are stale. */
  assets: string[];
}

export interface LastPrice {
  priceWad: bigint;
  updatedAt: number;
  stale: boolean;
}

/** Whether `e` is the vault's (or the router's) `StalePrice` revert. */
export function isStalePrice(e: unknown): boolean {
  const data = findRevertData(e);
  if (data === undefined) return false;
  try {
    return protocolErrors().parseError(data)?.name === "StalePrice";
  } catch {
    return false;
  }
}

/** The primary feed's last round of each asset, in WAD, with whether it is past its heartbeat. */
export async function lastPrices(b: Bulwark, assets: string[]): Promise<Map<string, LastPrice>> {
  const now = (await b.hre.ethers.provider.getBlock("latest"))!.timestamp;
  const out = new Map<string, LastPrice>();
  for (const asset of new Set(assets.map((a) => a.toLowerCase()))) {
    const feed = await b.oracle.feedOf(asset);
    const agg = new Contract(String(feed.primary), AGGREGATOR_ABI, b.hre.ethers.provider);
    const [, answer, , updatedAt] = (await agg.latestRoundData()) as [bigint, bigint, bigint, bigint, bigint];
    const priceWad = answer * 10n ** (18n - BigInt(feed.primaryDecimals));
    const at = Number(updatedAt);
    out.set(asset, { priceWad, updatedAt: at, stale: now - at > Number(feed.primaryHeartbeat) });
  }
  return out;
}

/** The stale-price summary of `prices`, with `nameOf` giving each asset's symbol. */
export function staleInfo(prices: Map<string, LastPrice>, nameOf: (asset: string) => string): StaleInfo {
  const stale = [...prices.entries()].filter(([, p]) => p.stale);
  const oldest = Math.min(...(stale.length > 0 ? stale : [...prices.entries()]).map(([, p]) => p.updatedAt));
  return { since: new Date(oldest * 1000).toISOString(), assets: stale.map(([a]) => nameOf(a)) };
}

/** Symbol of a collateral or a market's oracle asset, else the address. */
export function assetName(b: Bulwark, asset: string): string {
  return b.collaterals.find((c) => c.address.toLowerCase() === asset.toLowerCase())?.symbol ?? asset;
}

export interface AccountAtLastPrices {
  equityWad: bigint;
  initialMarginWad: bigint;
  maintenanceMarginWad: bigint;
  collateralValueWad: bigint;
  unrealizedPnlWad: bigint;
  fundingOwedWad: bigint;
  positions: {
    marketId: string;
    oracleAsset: string;
    sizeWad: bigint;
    entryWad: bigint;
    priceWad: bigint;
    notionalWad: bigint;
    mmrWad: bigint;
    imrWad: bigint;
  }[];
  collateral: { token: string; address: string; balanceWad: bigint; valueWad: bigint; weightedWad: bigint }[];
  prices: Map<string, LastPrice>;
}

/** An account's equity and requirements at the feeds' last prices (see the file's comment). */
export async function accountAtLastPrices(b: Bulwark, account: string): Promise<AccountAtLastPrices> {
  const ids = await b.vault.accountMarkets(account);
  const params = await Promise.all(ids.map((id) => b.vault.marketParams(id)));
  const assets = [...params.map((p) => String(p.oracleAsset)), ...b.collaterals.slice(1).map((c) => c.address)];
  const prices = await lastPrices(b, assets);
  const priceOf = (asset: string): bigint => prices.get(asset.toLowerCase())!.priceWad;
  const r: AccountAtLastPrices = {
    equityWad: await b.vault.quoteBalance(account),
    initialMarginWad: 0n,
    maintenanceMarginWad: 0n,
    collateralValueWad: 0n,
    unrealizedPnlWad: 0n,
    fundingOwedWad: 0n,
    positions: [],
    collateral: [],
    prices,
  };
  for (const c of b.collaterals.slice(1)) {
    const [bal, cfg] = await Promise.all([
      b.vault.collateralBalance(account, c.address),
      b.vault.collateralConfig(c.address),
    ]);
    if (bal === 0n) continue;
    const value = (((bal * priceOf(c.address)) / WAD) * cfg.weightWad) / WAD;
    const weightedWad = (bal * cfg.weightWad) / WAD;
    r.collateral.push({ token: c.symbol, address: c.address, balanceWad: bal, valueWad: value, weightedWad });
    r.collateralValueWad += value;
  }
  for (const [k, id] of ids.entries()) {
    const [pos, state] = await Promise.all([b.vault.getPosition(account, id), b.vault.marketState(id)]);
    const price = priceOf(String(params[k].oracleAsset));
    const size = BigInt(pos.sizeWad);
    const notional = ((size < 0n ? -size : size) * price) / WAD;
    const ratios = await b.engine.marginRatios(id, notional);
    r.unrealizedPnlWad += (size * (price - BigInt(pos.entryPriceWad))) / WAD;
    r.fundingOwedWad += (size * (BigInt(state.fundingIndexWad) - BigInt(pos.lastFundingIndexWad))) / WAD;
    r.initialMarginWad += (notional * ratios.imrWad) / WAD;
    r.maintenanceMarginWad += (notional * ratios.mmrWad) / WAD;
    r.positions.push({
      marketId: id,
      oracleAsset: String(params[k].oracleAsset),
      sizeWad: size,
      entryWad: BigInt(pos.entryPriceWad),
      priceWad: price,
      notionalWad: notional,
      mmrWad: ratios.mmrWad,
      imrWad: ratios.imrWad,
    });
  }
  if (ids.length > 0) {
    const buffer = await b.vault.liquidationBufferWad();
    r.initialMarginWad += buffer;
    r.maintenanceMarginWad += buffer;
  }
  r.equityWad += r.collateralValueWad + r.unrealizedPnlWad - r.fundingOwedWad;
  return r;
}

/**
 * Reference model of the PerpVault maths, written independently from the contracts in bigint
 * arithmetic, following the documented formulas and rounding rules (IPerpVault NatSpec):
 *  - fill = oracle × (1 + (skew + delta/2) / skewScale), rounded up for buys, down for sells;
 *  - fee = (maker part × makerFee + taker part × takerFee) × fill, rounded up;
 *  - entry = size-weighted average, rounded up for longs and down for shorts (against the trader);
 *  - realised PnL = closed size × (price − entry), rounded down;
 *  - funding rate drifts by maxVelocity × clamp(skew / skewScale) per day (clamped to ±100%/day),
 *    the index accrues avgRate × price × dt / 1 day, settlement = size × Δindex rounded up;
 *  - health: uPnL rounded down, funding owed rounded up, notional and margins rounded up,
 *    volatile collateral = balance × price × weight rounded down.
 * Tests use it to compute what the vault must produce and compare.
 */

import {
  abs,
  divCeil,
  divFloor,
  fillPrice,
  max,
  MAX_FUNDING_RATE,
  min,
  mulWadCeil,
  mulWadFloor,
  ONE_DAY,
  tradeFee,
  WAD,
} from "./reference";

// The rounding helpers and the pricing/fee primitives are the reference model's (reference.ts);
// this file builds the per-test vault model on top of them.
export { abs, divCeil, divFloor, fillPrice, max, MAX_FUNDING_RATE, min, mulWadCeil, mulWadFloor, tradeFee, WAD };
export const DAY = ONE_DAY;

// ------------------------------------------------------------------ funding

/** Daily funding rate after `elapsed` seconds (Solidity truncating divisions), clamped to ±100%. */
export function fundingRateAfter(
  lastRate: bigint,
  skew: bigint,
  skewScale: bigint,
  maxVelocity: bigint,
  elapsed: bigint,
): bigint {
  let proportional = (skew * WAD) / skewScale;
  if (proportional > WAD) proportional = WAD;
  if (proportional < -WAD) proportional = -WAD;
  const velocity = (proportional * maxVelocity) / WAD;
  let rate = lastRate + (velocity * elapsed) / DAY;
  if (rate > MAX_FUNDING_RATE) rate = MAX_FUNDING_RATE;
  if (rate < -MAX_FUNDING_RATE) rate = -MAX_FUNDING_RATE;
  return rate;
}

/** Funding per base unit accrued over `elapsed` seconds at the average of the two rates. */
export function fundingPerUnit(lastRate: bigint, nowRate: bigint, price: bigint, elapsed: bigint): bigint {
  const avg = (lastRate + nowRate) / 2n;
  return (avg * price * elapsed) / (WAD * DAY);
}

// ------------------------------------------------------------------ positions

export interface Position {
  size: bigint;
  entry: bigint;
  lastIndex: bigint;
}

export interface FillOutcome {
  newSize: bigint;
  newEntry: bigint;
  realizedPnl: bigint;
  fundingPaid: bigint;
  increasesRisk: boolean;
}

/** Size-weighted entry: rounded up for longs, down for shorts (always against the trader). */
export function averageEntry(oldSize: bigint, oldEntry: bigint, delta: bigint, price: bigint): bigint {
  const newSize = oldSize + delta;
  const num = oldSize * oldEntry + delta * price;
  return newSize > 0n ? divCeil(num, newSize) : divFloor(num, newSize);
}

/** Applies a fill of `delta` at `price` to a position, settling funding to `fundingIndex` first. */
export function computeFill(pos: Position, delta: bigint, price: bigint, fundingIndex: bigint): FillOutcome {
  const oldSize = pos.size;
  const newSize = oldSize + delta;
  const fundingPaid = oldSize !== 0n ? mulWadCeil(oldSize, fundingIndex - pos.lastIndex) : 0n;
  if (oldSize === 0n || oldSize > 0n === delta > 0n) {
    return {
      newSize,
      newEntry: averageEntry(oldSize, pos.entry, delta, price),
      realizedPnl: 0n,
      fundingPaid,
      increasesRisk: true,
    };
  }
  const closed = abs(delta) >= abs(oldSize) ? oldSize : -delta;
  const realizedPnl = mulWadFloor(closed, price - pos.entry);
  if (newSize === 0n) return { newSize, newEntry: 0n, realizedPnl, fundingPaid, increasesRisk: false };
  if (newSize > 0n === oldSize > 0n) {
    return { newSize, newEntry: pos.entry, realizedPnl, fundingPaid, increasesRisk: false };
  }
  return { newSize, newEntry: price, realizedPnl, fundingPaid, increasesRisk: true };
}

// ------------------------------------------------------------------ the vault model

export interface MarketConfig {
  /** Key of the oracle price (e.g. "ETH"). */
  asset: string;
  makerFee: bigint;
  takerFee: bigint;
  maxVelocity: bigint;
  maxOiRatio: bigint;
  skewScale: bigint;
  imr: bigint;
  mmr: bigint;
}

export interface CollateralModelConfig {
  asset: string;
  weight: bigint;
}

export interface MarketStateModel {
  oiLong: bigint;
  oiShort: bigint;
  rate: bigint;
  index: bigint;
  lastTime: bigint;
}

export interface Health {
  equity: bigint;
  initialMargin: bigint;
  maintenanceMargin: bigint;
  collateralValue: bigint;
  unrealizedPnl: bigint;
  accruedFunding: bigint;
}

export interface TradeOutcome {
  fill: bigint;
  fee: bigint;
  insuranceFee: bigint;
  realizedPnl: bigint;
  fundingPaid: bigint;
  newSize: bigint;
  newEntry: bigint;
  increasesRisk: boolean;
  /** Skew before the trade. */
  skewBefore: bigint;
  /** OI-cap violation the vault must revert with, if any. */
  capViolation?: { isLong: boolean; notional: bigint; cap: bigint };
  /** Health right after the trade (what the IM check sees). */
  health: Health;
}

const MARKET_DEFAULTS = {
  makerFee: 2n * 10n ** 14n, // 2 bps
  takerFee: 6n * 10n ** 14n, // 6 bps
  maxVelocity: 3n * WAD,
  maxOiRatio: WAD,
  imr: 5n * 10n ** 16n,
  mmr: 25n * 10n ** 15n,
};

/** The markets the fixture lists (ids are the fixture's bytes32 constants). */
export function defaultMarkets(ethId: string, btcId: string): Map<string, MarketConfig> {
  return new Map<string, MarketConfig>([
    [ethId, { asset: "ETH", ...MARKET_DEFAULTS, skewScale: 1_000_000n * WAD }],
    [btcId, { asset: "BTC", ...MARKET_DEFAULTS, skewScale: 50_000n * WAD }],
  ]);
}

const key = (a: string): string => a.toLowerCase();

/**
 * Replays the vault's bookkeeping: markets (OI, funding), accounts (quote, volatile collateral,
 * positions), the pool's and the insurance fund's balances. Timestamps are block timestamps.
 */
export class VaultModel {
  readonly markets: Map<string, MarketConfig>;
  readonly collaterals = new Map<string, CollateralModelConfig>();
  readonly prices = new Map<string, bigint>();
  readonly states = new Map<string, MarketStateModel>();
  readonly quote = new Map<string, bigint>();
  readonly volatile = new Map<string, Map<string, bigint>>();
  readonly positions = new Map<string, Map<string, Position>>();
  poolBalance: bigint;
  insuranceBalance = 0n;
  insuranceFeeShare = 2n * 10n ** 17n;
  liquidationBuffer = 5n * WAD;

  constructor(markets: Map<string, MarketConfig>, poolBalance: bigint) {
    this.markets = markets;
    this.poolBalance = poolBalance;
    for (const id of markets.keys()) {
      this.states.set(id, { oiLong: 0n, oiShort: 0n, rate: 0n, index: 0n, lastTime: 0n });
    }
  }

  clone(): VaultModel {
    const c = new VaultModel(this.markets, this.poolBalance);
    c.insuranceBalance = this.insuranceBalance;
    c.insuranceFeeShare = this.insuranceFeeShare;
    c.liquidationBuffer = this.liquidationBuffer;
    for (const [k, v] of this.collaterals) c.collaterals.set(k, v);
    for (const [k, v] of this.prices) c.prices.set(k, v);
    for (const [k, v] of this.states) c.states.set(k, { ...v });
    for (const [k, v] of this.quote) c.quote.set(k, v);
    for (const [k, v] of this.volatile) c.volatile.set(k, new Map(v));
    for (const [k, v] of this.positions) {
      const m = new Map<string, Position>();
      for (const [mk, p] of v) m.set(mk, { ...p });
      c.positions.set(k, m);
    }
    return c;
  }

  setPrice(asset: string, price: bigint): void {
    this.prices.set(asset, price);
  }

  price(asset: string): bigint {
    const p = this.prices.get(asset);
    if (p === undefined) throw new Error(`model: no price for ${asset}`);
    return p;
  }

  addCollateral(token: string, cfg: CollateralModelConfig): void {
    this.collaterals.set(key(token), cfg);
  }

  quoteOf(account: string): bigint {
    return this.quote.get(key(account)) ?? 0n;
  }

  volatileOf(account: string, token: string): bigint {
    return this.volatile.get(key(account))?.get(key(token)) ?? 0n;
  }

  position(account: string, marketId: string): Position {
    return this.positions.get(key(account))?.get(marketId) ?? { size: 0n, entry: 0n, lastIndex: 0n };
  }

  /** Market ids where the account has a position. */
  openMarkets(account: string): string[] {
    return [...(this.positions.get(key(account))?.entries() ?? [])].filter(([, p]) => p.size !== 0n).map(([id]) => id);
  }

  creditQuote(account: string, amountWad: bigint): void {
    this.quote.set(key(account), this.quoteOf(account) + amountWad);
  }

  creditVolatile(account: string, token: string, amountWad: bigint): void {
    const a = key(account);
    if (!this.volatile.has(a)) this.volatile.set(a, new Map());
    const m = this.volatile.get(a)!;
    m.set(key(token), (m.get(key(token)) ?? 0n) + amountWad);
  }

  skew(marketId: string): bigint {
    const st = this.states.get(marketId)!;
    return st.oiLong - st.oiShort;
  }

  /** Funding state accrued to `now`, without storing it. */
  fundingAt(marketId: string, now: bigint): MarketStateModel {
    const cfg = this.markets.get(marketId)!;
    const st = { ...this.states.get(marketId)! };
    const elapsed = now - st.lastTime;
    if (elapsed === 0n) return st;
    const rate = fundingRateAfter(st.rate, st.oiLong - st.oiShort, cfg.skewScale, cfg.maxVelocity, elapsed);
    st.index += fundingPerUnit(st.rate, rate, this.price(cfg.asset), elapsed);
    st.rate = rate;
    st.lastTime = now;
    return st;
  }

  /** Rolls a market's funding forward to `now` (what every trade does first). */
  accrue(marketId: string, now: bigint): MarketStateModel {
    const st = this.fundingAt(marketId, now);
    this.states.set(marketId, st);
    return st;
  }

  fillPrice(marketId: string, delta: bigint): bigint {
    const cfg = this.markets.get(marketId)!;
    return fillPrice(this.price(cfg.asset), this.skew(marketId), delta, cfg.skewScale);
  }

  /** Margin summary of an account at `now` (funding accrued in a copy, like the view). */
  health(account: string, now: bigint): Health {
    const h: Health = {
      equity: 0n,
      initialMargin: 0n,
      maintenanceMargin: 0n,
      collateralValue: 0n,
      unrealizedPnl: 0n,
      accruedFunding: 0n,
    };
    const open = this.openMarkets(account);
    for (const id of open) {
      const cfg = this.markets.get(id)!;
      const price = this.price(cfg.asset);
      const st = this.fundingAt(id, now);
      const p = this.position(account, id);
      h.unrealizedPnl += mulWadFloor(p.size, price - p.entry);
      h.accruedFunding += mulWadCeil(p.size, st.index - p.lastIndex);
      const notional = mulWadCeil(abs(p.size), price);
      h.initialMargin += mulWadCeil(notional, cfg.imr);
      h.maintenanceMargin += mulWadCeil(notional, cfg.mmr);
    }
    if (open.length > 0) {
      h.initialMargin += this.liquidationBuffer;
      h.maintenanceMargin += this.liquidationBuffer;
    }
    for (const [token, bal] of this.volatile.get(key(account)) ?? []) {
      if (bal === 0n) continue;
      const cfg = this.collaterals.get(token)!;
      h.collateralValue += (((bal * this.price(cfg.asset)) / WAD) * cfg.weight) / WAD;
    }
    h.equity = this.quoteOf(account) + h.collateralValue + h.unrealizedPnl - h.accruedFunding;
    return h;
  }

  /**
   * Executes a trade at block time `now` and returns what the vault must report. The model is
   * mutated even when the vault would revert (cap or IM violation): preview on a `clone()`.
   */
  trade(account: string, marketId: string, delta: bigint, now: bigint): TradeOutcome {
    const cfg = this.markets.get(marketId)!;
    const price = this.price(cfg.asset);
    const st = this.accrue(marketId, now);
    const skewBefore = st.oiLong - st.oiShort;
    const fill = fillPrice(price, skewBefore, delta, cfg.skewScale);
    const fee = tradeFee(skewBefore, delta, fill, cfg.makerFee, cfg.takerFee);

    const pos = this.position(account, marketId);
    const o = computeFill(pos, delta, fill, st.index);
    const pos0 = pos.size;
    const positive = (x: bigint): bigint => (x > 0n ? x : 0n);
    const prevLong = st.oiLong;
    const prevShort = st.oiShort;
    st.oiLong += positive(o.newSize) - positive(pos0);
    st.oiShort += positive(-o.newSize) - positive(-pos0);

    const a = key(account);
    if (!this.positions.has(a)) this.positions.set(a, new Map());
    if (o.newSize === 0n) this.positions.get(a)!.delete(marketId);
    else this.positions.get(a)!.set(marketId, { size: o.newSize, entry: o.newEntry, lastIndex: st.index });

    let capViolation: TradeOutcome["capViolation"];
    const cap = this.poolBalance > 0n ? (this.poolBalance * cfg.maxOiRatio) / WAD : 0n;
    const longNotional = (st.oiLong * price) / WAD;
    const shortNotional = (st.oiShort * price) / WAD;
    if (st.oiLong > prevLong && longNotional > cap) capViolation = { isLong: true, notional: longNotional, cap };
    else if (st.oiShort > prevShort && shortNotional > cap) {
      capViolation = { isLong: false, notional: shortNotional, cap };
    }

    const insuranceFee = (fee * this.insuranceFeeShare) / WAD;
    this.creditQuote(account, o.realizedPnl - o.fundingPaid - fee);
    this.poolBalance += -o.realizedPnl + o.fundingPaid + fee - insuranceFee;
    this.insuranceBalance += insuranceFee;

    return {
      fill,
      fee,
      insuranceFee,
      realizedPnl: o.realizedPnl,
      fundingPaid: o.fundingPaid,
      newSize: o.newSize,
      newEntry: o.newEntry,
      increasesRisk: o.increasesRisk,
      skewBefore,
      capViolation,
      health: this.health(account, now),
    };
  }
}

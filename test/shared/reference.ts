/**
 * The one reference model of the PerpVault maths: independent bigint arithmetic written from the
 * documented formulas (IPerpVault NatSpec, docs/architecture.md), never by calling the contracts.
 * Every rounding is mathematical floor / ceil (toward −∞ / +∞), whatever the signs of numerator
 * and denominator:
 *
 * - fill price = oracle + oracle × (2·skew + delta) / (2·skewScale), the premium rounded up for
 *   buys and down for sells;
 * - fee = ceil((makerSize·makerFee + takerSize·takerFee) × fill / 1e36), where the maker part is
 *   the part of the trade that moves |skew| toward zero (at most |skew|);
 * - new entry on an increase = (oldSize·oldEntry + delta·fill) / newSize, ceil for longs, floor
 *   for shorts; on a flip the entry is the fill; on a partial reduction it is unchanged;
 * - realised PnL on a reduction = floor(closed × (fill − entry) / 1e18), closed signed as the old
 *   position;
 * - funding rate drifts by maxVelocity × clamp(skew/skewScale, −1, 1) per day (Solidity
 *   truncation, clamped to ±100%/day); the index accrues avgRate × price × dt / 1 day;
 * - funding paid on the old size = ceil(oldSize × (index − lastIndex) / 1e18);
 * - unrealised PnL at a price = floor(size × (price − entry) / 1e18);
 * - health: notional and margins rounded up, volatile collateral = balance × price × weight
 *   rounded down (truncating), equity = quote + collateral + uPnL − accrued funding.
 *
 * `ReferenceVault` strings these together into a ledger (markets' OI and funding, accounts' quote,
 * volatile collateral and positions, pool and insurance balances) that tests compare with the
 * chain.
 */

export const WAD = 10n ** 18n;
export const ONE_DAY = 86_400n;
/** The funding rate is clamped to ±100% per day. */
export const MAX_FUNDING_RATE = WAD;

// ---------------------------------------------------------------------------------------- helpers

export const abs = (x: bigint): bigint => (x < 0n ? -x : x);
export const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
export const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const sign = (x: bigint): number => (x > 0n ? 1 : x < 0n ? -1 : 0);

/** floor(a / d) for any non-zero d (mathematical, toward −∞). */
export function divFloor(a: bigint, d: bigint): bigint {
  if (d === 0n) throw new Error("divFloor by zero");
  const q = a / d; // truncates toward zero
  // The true quotient is negative exactly when the signs differ; then truncation rounded it up.
  return a % d !== 0n && a < 0n !== d < 0n ? q - 1n : q;
}

/** ceil(a / d) for any non-zero d (mathematical, toward +∞). */
export function divCeil(a: bigint, d: bigint): bigint {
  if (d === 0n) throw new Error("divCeil by zero");
  const q = a / d;
  return a % d !== 0n && a < 0n === d < 0n ? q + 1n : q;
}

/** Solidity's `/` on int256: truncation toward zero (BigInt division does the same). */
export const divTrunc = (a: bigint, d: bigint): bigint => a / d;

export const mulWadFloor = (a: bigint, b: bigint): bigint => divFloor(a * b, WAD);
export const mulWadCeil = (a: bigint, b: bigint): bigint => divCeil(a * b, WAD);

// ------------------------------------------------------------------------------------ primitives

/** Skew-adjusted fill price of `delta` at oracle price `oracle` when the skew is `skew`. */
export function fillPrice(oracle: bigint, skew: bigint, delta: bigint, skewScale: bigint): bigint {
  const num = oracle * (2n * skew + delta);
  const den = 2n * skewScale;
  const premium = delta > 0n ? divCeil(num, den) : divFloor(num, den);
  return oracle + premium;
}

/** Maker/taker split of a trade `delta` against the skew before the trade. */
export function makerTakerSplit(skew: bigint, delta: bigint): { makerSize: bigint; takerSize: bigint } {
  const absDelta = abs(delta);
  const opposite = (skew > 0n && delta < 0n) || (skew < 0n && delta > 0n);
  const makerSize = opposite ? min(absDelta, abs(skew)) : 0n;
  return { makerSize, takerSize: absDelta - makerSize };
}

/** Trading fee (quote WAD), rounded up. */
export function tradeFee(skew: bigint, delta: bigint, fill: bigint, makerFee: bigint, takerFee: bigint): bigint {
  const { makerSize, takerSize } = makerTakerSplit(skew, delta);
  return divCeil((makerSize * makerFee + takerSize * takerFee) * fill, 10n ** 36n);
}

/** Size-weighted entry: rounded up for longs, down for shorts (always against the trader). */
export function averageEntry(oldSize: bigint, oldEntry: bigint, delta: bigint, price: bigint): bigint {
  const newSize = oldSize + delta;
  const num = oldSize * oldEntry + delta * price;
  return newSize > 0n ? divCeil(num, newSize) : divFloor(num, newSize);
}

export interface Position {
  size: bigint;
  entry: bigint;
  lastFundingIndex: bigint;
}

export interface FillOutcome {
  newSize: bigint;
  newEntry: bigint;
  realizedPnl: bigint;
  fundingPaid: bigint;
  /** |size| grows or the position flips side. */
  increasesRisk: boolean;
}

/** Funding owed by a position since its last settlement (positive: the trader pays). */
export const fundingOwed = (size: bigint, lastIndex: bigint, index: bigint): bigint =>
  mulWadCeil(size, index - lastIndex);

/** Unrealised PnL of a position at `price`, rounded down. */
export const unrealizedPnl = (size: bigint, entry: bigint, price: bigint): bigint => mulWadFloor(size, price - entry);

/** Applies a fill of `delta` at `price` to `pos`, settling funding to `fundingIndex` first. */
export function computeFill(pos: Position, delta: bigint, price: bigint, fundingIndex: bigint): FillOutcome {
  const oldSize = pos.size;
  const newSize = oldSize + delta;
  const fundingPaid = oldSize === 0n ? 0n : fundingOwed(oldSize, pos.lastFundingIndex, fundingIndex);
  if (oldSize === 0n || sign(oldSize) === sign(delta)) {
    // Opening or increasing: size-weighted average entry, rounded against the trader.
    const newEntry = averageEntry(oldSize, pos.entry, delta, price);
    return { newSize, newEntry, realizedPnl: 0n, fundingPaid, increasesRisk: true };
  }
  // Reducing, closing or flipping.
  const closed = abs(delta) >= abs(oldSize) ? oldSize : -delta;
  const realizedPnl = mulWadFloor(closed, price - pos.entry);
  if (newSize === 0n) return { newSize, newEntry: 0n, realizedPnl, fundingPaid, increasesRisk: false };
  if (sign(newSize) === sign(oldSize)) {
    return { newSize, newEntry: pos.entry, realizedPnl, fundingPaid, increasesRisk: false };
  }
  return { newSize, newEntry: price, realizedPnl, fundingPaid, increasesRisk: true };
}

// --------------------------------------------------------------------------------------- funding

export interface FundingParams {
  skewScale: bigint;
  maxVelocity: bigint;
}

export interface FundingState {
  index: bigint;
  rate: bigint;
  lastTime: bigint;
}

/** Daily funding rate after `elapsed` seconds (Solidity truncating divisions), clamped to ±100%. */
export function fundingRateAfter(lastRate: bigint, skew: bigint, p: FundingParams, elapsed: bigint): bigint {
  let proportional = divTrunc(skew * WAD, p.skewScale);
  if (proportional > WAD) proportional = WAD;
  if (proportional < -WAD) proportional = -WAD;
  const velocity = divTrunc(proportional * p.maxVelocity, WAD);
  const rate = lastRate + divTrunc(velocity * elapsed, ONE_DAY);
  return max(min(rate, MAX_FUNDING_RATE), -MAX_FUNDING_RATE);
}

/** Rolls `st` forward to `now` at `price` for a market whose skew is `skew` (a new object). */
export function accrueFunding<S extends FundingState>(
  st: S,
  skew: bigint,
  p: FundingParams,
  price: bigint,
  now: bigint,
): S {
  const elapsed = now - st.lastTime;
  if (elapsed < 0n) throw new Error("time went backwards");
  if (elapsed === 0n) return { ...st };
  const rate = fundingRateAfter(st.rate, skew, p, elapsed);
  const avgRate = divTrunc(st.rate + rate, 2n);
  const perUnit = divTrunc(avgRate * price * elapsed, WAD * ONE_DAY);
  return { ...st, index: st.index + perUnit, rate, lastTime: now };
}

// -------------------------------------------------------------------------------------- margins

export interface MarginRatios {
  imr: bigint;
  mmr: bigint;
}

/** Initial and maintenance margin of one position at `price` (notional and both rounded up). */
export function positionMargins(size: bigint, price: bigint, r: MarginRatios): { im: bigint; mm: bigint } {
  const notional = mulWadCeil(abs(size), price);
  return { im: mulWadCeil(notional, r.imr), mm: mulWadCeil(notional, r.mmr) };
}

// ---------------------------------------------------------------------------------- whole ledger

export interface MarketConfig extends FundingParams, MarginRatios {
  /** Key of the oracle price (e.g. "ETH"). */
  asset: string;
  makerFee: bigint;
  takerFee: bigint;
  maxOiRatio: bigint;
}

export interface CollateralModelConfig {
  asset: string;
  weight: bigint;
}

export interface MarketStateModel extends FundingState {
  oiLong: bigint;
  oiShort: bigint;
}

export interface Health {
  equity: bigint;
  initialMargin: bigint;
  maintenanceMargin: bigint;
  collateralValue: bigint;
  unrealizedPnl: bigint;
  accruedFunding: bigint;
}

export interface TradeOutcome extends FillOutcome {
  fill: bigint;
  fee: bigint;
  insuranceFee: bigint;
  /** Change of the trader's quote balance: realisedPnl − fundingPaid − fee. */
  quoteDelta: bigint;
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
const positive = (x: bigint): bigint => max(x, 0n);

/**
 * Replays the vault's bookkeeping: markets (OI, funding), accounts (quote, volatile collateral,
 * positions), the pool's and the insurance fund's balances, at oracle prices keyed by asset.
 * Timestamps are block timestamps.
 */
export class ReferenceVault {
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

  clone(): ReferenceVault {
    const c = new ReferenceVault(this.markets, this.poolBalance);
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
    return mustGet(this.prices, asset);
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
    return this.positions.get(key(account))?.get(marketId) ?? { size: 0n, entry: 0n, lastFundingIndex: 0n };
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
    const st = mustGet(this.states, marketId);
    return st.oiLong - st.oiShort;
  }

  /** Funding state accrued to `now`, without storing it. */
  fundingAt(marketId: string, now: bigint): MarketStateModel {
    const cfg = mustGet(this.markets, marketId);
    const st = mustGet(this.states, marketId);
    return accrueFunding(st, st.oiLong - st.oiShort, cfg, this.price(cfg.asset), now);
  }

  /** Rolls a market's funding forward to `now` (what every trade does first). */
  accrue(marketId: string, now: bigint): MarketStateModel {
    const st = this.fundingAt(marketId, now);
    this.states.set(marketId, st);
    return st;
  }

  fillPrice(marketId: string, delta: bigint): bigint {
    const cfg = mustGet(this.markets, marketId);
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
      const cfg = mustGet(this.markets, id);
      const price = this.price(cfg.asset);
      const p = this.position(account, id);
      h.unrealizedPnl += unrealizedPnl(p.size, p.entry, price);
      h.accruedFunding += fundingOwed(p.size, p.lastFundingIndex, this.fundingAt(id, now).index);
      const { im, mm } = positionMargins(p.size, price, cfg);
      h.initialMargin += im;
      h.maintenanceMargin += mm;
    }
    if (open.length > 0) {
      h.initialMargin += this.liquidationBuffer;
      h.maintenanceMargin += this.liquidationBuffer;
    }
    for (const [token, bal] of this.volatile.get(key(account)) ?? []) {
      if (bal === 0n) continue;
      const cfg = mustGet(this.collaterals, token);
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
    if (delta === 0n) throw new Error("zero trade");
    const cfg = mustGet(this.markets, marketId);
    const price = this.price(cfg.asset);
    const st = this.accrue(marketId, now);
    const skewBefore = st.oiLong - st.oiShort;
    const fill = fillPrice(price, skewBefore, delta, cfg.skewScale);
    if (fill <= 0n) throw new Error("non-positive fill price");
    const fee = tradeFee(skewBefore, delta, fill, cfg.makerFee, cfg.takerFee);

    const pos0 = this.position(account, marketId).size;
    const o = computeFill(this.position(account, marketId), delta, fill, st.index);
    const prevLong = st.oiLong;
    const prevShort = st.oiShort;
    st.oiLong += positive(o.newSize) - positive(pos0);
    st.oiShort += positive(-o.newSize) - positive(-pos0);

    const a = key(account);
    if (!this.positions.has(a)) this.positions.set(a, new Map());
    if (o.newSize === 0n) this.positions.get(a)!.delete(marketId);
    else this.positions.get(a)!.set(marketId, { size: o.newSize, entry: o.newEntry, lastFundingIndex: st.index });

    let capViolation: TradeOutcome["capViolation"];
    const cap = this.poolBalance > 0n ? (this.poolBalance * cfg.maxOiRatio) / WAD : 0n;
    const longNotional = (st.oiLong * price) / WAD;
    const shortNotional = (st.oiShort * price) / WAD;
    if (st.oiLong > prevLong && longNotional > cap) capViolation = { isLong: true, notional: longNotional, cap };
    else if (st.oiShort > prevShort && shortNotional > cap) {
      capViolation = { isLong: false, notional: shortNotional, cap };
    }

    const insuranceFee = divFloor(fee * this.insuranceFeeShare, WAD);
    const quoteDelta = o.realizedPnl - o.fundingPaid - fee;
    this.creditQuote(account, quoteDelta);
    this.poolBalance += -o.realizedPnl + o.fundingPaid + fee - insuranceFee;
    this.insuranceBalance += insuranceFee;

    return { ...o, fill, fee, insuranceFee, quoteDelta, skewBefore, capViolation, health: this.health(account, now) };
  }
}

function mustGet<K, V>(m: Map<K, V>, k: K): V {
  const v = m.get(k);
  if (v === undefined) throw new Error(`reference: missing ${String(k)}`);
  return v;
}

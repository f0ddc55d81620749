/**
 * Independent bigint reference model of Bulwark's trade maths, written from the documented
 * formulas (not by calling the contracts). Every rounding is mathematical floor / ceil (toward
 * −∞ / +∞), whatever the signs of numerator and denominator:
 *
 * - fill price = oracle + oracle × (2·skew + delta) / (2·skewScale), the premium rounded up for
 *   buys and down for sells;
 * - fee = ceil((makerSize·makerFee + takerSize·takerFee) × fill / 1e36), where the maker part is
 *   the part of the trade that moves |skew| toward zero (at most |skew|);
 * - new entry on an increase = (oldSize·oldEntry + delta·fill) / newSize, ceil for longs, floor
 *   for shorts; on a flip the entry is the fill; on a partial reduction it is unchanged;
 * - realised PnL on a reduction = floor(closed × (fill − entry) / 1e18), closed signed as the old
 *   position;
 * - funding paid on the old size = ceil(oldSize × (index − lastIndex) / 1e18);
 * - unrealised PnL at a price = floor(size × (price − entry) / 1e18).
 *
 * `ReferenceVault` strings these together into a ledger (trader quote balances, positions, open
 * interest, funding index, pool and insurance balances) that tests compare with the chain.
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

export interface RefPosition {
  size: bigint;
  entry: bigint;
  lastFundingIndex: bigint;
}

export const EMPTY_POSITION: RefPosition = Object.freeze({ size: 0n, entry: 0n, lastFundingIndex: 0n });

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

/** Applies a fill of `delta` at `price` to `pos` when the market's funding index is `fundingIndex`. */
export function computeFill(pos: RefPosition, delta: bigint, price: bigint, fundingIndex: bigint): FillOutcome {
  const oldSize = pos.size;
  const newSize = oldSize + delta;
  const fundingPaid = oldSize === 0n ? 0n : fundingOwed(oldSize, pos.lastFundingIndex, fundingIndex);
  if (oldSize === 0n || sign(oldSize) === sign(delta)) {
    // Opening or increasing: size-weighted average entry, rounded against the trader.
    const num = oldSize * pos.entry + delta * price;
    const newEntry = newSize > 0n ? divCeil(num, newSize) : divFloor(num, newSize);
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
  maxFundingVelocity: bigint;
}

export interface FundingState {
  fundingIndex: bigint;
  fundingRate: bigint;
  lastFundingTime: bigint;
}

/** Funding rate now: drifts by maxVelocity × clamp(skew/skewScale, −1, 1) per day (truncating). */
export function currentFundingRate(lastRate: bigint, skew: bigint, p: FundingParams, elapsed: bigint): bigint {
  let proportional = divTrunc(skew * WAD, p.skewScale);
  if (proportional > WAD) proportional = WAD;
  if (proportional < -WAD) proportional = -WAD;
  const velocity = divTrunc(proportional * p.maxFundingVelocity, WAD);
  return lastRate + divTrunc(velocity * elapsed, ONE_DAY);
}

/** Rolls `st` forward to `now` at `price` for a market whose skew is `skew`. */
export function accrueFunding(
  st: FundingState,
  skew: bigint,
  p: FundingParams,
  price: bigint,
  now: bigint,
): FundingState {
  const elapsed = now - st.lastFundingTime;
  if (elapsed < 0n) throw new Error("time went backwards");
  if (elapsed === 0n) return { ...st };
  let rate = currentFundingRate(st.fundingRate, skew, p, elapsed);
  if (rate > MAX_FUNDING_RATE) rate = MAX_FUNDING_RATE;
  if (rate < -MAX_FUNDING_RATE) rate = -MAX_FUNDING_RATE;
  const avgRate = divTrunc(st.fundingRate + rate, 2n);
  const perUnit = divTrunc(avgRate * price * elapsed, WAD * ONE_DAY);
  return { fundingIndex: st.fundingIndex + perUnit, fundingRate: rate, lastFundingTime: now };
}

// -------------------------------------------------------------------------------------- margins

export interface MarginRatios {
  imr: bigint;
  mmr: bigint;
}

/** Initial and maintenance margin of one position at `price` (notional and both rounded up). */
export function positionMargins(size: bigint, price: bigint, r: MarginRatios): { im: bigint; mm: bigint } {
  const notional = divCeil(abs(size) * price, WAD);
  return { im: divCeil(notional * r.imr, WAD), mm: divCeil(notional * r.mmr, WAD) };
}

// ---------------------------------------------------------------------------------- whole ledger

export interface RefMarketParams extends FundingParams {
  makerFee: bigint;
  takerFee: bigint;
  ratios: MarginRatios;
}

export interface RefMarket {
  params: RefMarketParams;
  oiLong: bigint;
  oiShort: bigint;
  funding: FundingState;
}

export interface RefTradeResult {
  /** The market's funding index at the trade (the new position's last funding index). */
  fundingIndex: bigint;
  fillPrice: bigint;
  fee: bigint;
  insuranceFee: bigint;
  realizedPnl: bigint;
  fundingPaid: bigint;
  newSize: bigint;
  newEntry: bigint;
  increasesRisk: boolean;
  /** Change of the trader's quote balance: realisedPnl − fundingPaid − fee. */
  quoteDelta: bigint;
}

/**
 * Reference ledger of the trading side of the vault: per-trader quote balance and positions,
 * per-market open interest and funding, pool and insurance balances.
 */
export class ReferenceVault {
  readonly markets = new Map<string, RefMarket>();
  readonly quote = new Map<string, bigint>();
  readonly positions = new Map<string, RefPosition>();
  poolBalance: bigint;
  insuranceBalance: bigint;

  constructor(
    poolBalance: bigint,
    insuranceBalance: bigint,
    readonly insuranceFeeShare: bigint,
    readonly liquidationBuffer: bigint,
  ) {
    this.poolBalance = poolBalance;
    this.insuranceBalance = insuranceBalance;
  }

  addMarket(id: string, params: RefMarketParams, funding: FundingState): void {
    this.markets.set(id, { params, oiLong: 0n, oiShort: 0n, funding: { ...funding } });
  }

  market(id: string): RefMarket {
    const m = this.markets.get(id);
    if (!m) throw new Error(`unknown market ${id}`);
    return m;
  }

  skew(id: string): bigint {
    const m = this.market(id);
    return m.oiLong - m.oiShort;
  }

  position(account: string, marketId: string): RefPosition {
    return this.positions.get(`${account}/${marketId}`) ?? EMPTY_POSITION;
  }

  quoteBalance(account: string): bigint {
    return this.quote.get(account) ?? 0n;
  }

  deposit(account: string, amountWad: bigint): void {
    this.quote.set(account, this.quoteBalance(account) + amountWad);
  }

  /** The funding state of market `id` accrued to `now` at `price`, without storing it. */
  fundingAt(id: string, price: bigint, now: bigint): FundingState {
    const m = this.market(id);
    return accrueFunding(m.funding, m.oiLong - m.oiShort, m.params, price, now);
  }

  /** What `trade` would do, without changing the ledger. */
  previewTrade(account: string, marketId: string, delta: bigint, oraclePrice: bigint, now: bigint): RefTradeResult {
    if (delta === 0n) throw new Error("zero trade");
    const m = this.market(marketId);
    const skew = m.oiLong - m.oiShort;
    const funding = this.fundingAt(marketId, oraclePrice, now);
    const fill = fillPrice(oraclePrice, skew, delta, m.params.skewScale);
    if (fill <= 0n) throw new Error("non-positive fill price");
    const fee = tradeFee(skew, delta, fill, m.params.makerFee, m.params.takerFee);
    const insuranceFee = divFloor(fee * this.insuranceFeeShare, WAD);
    const o = computeFill(this.position(account, marketId), delta, fill, funding.fundingIndex);
    return {
      fundingIndex: funding.fundingIndex,
      fillPrice: fill,
      fee,
      insuranceFee,
      realizedPnl: o.realizedPnl,
      fundingPaid: o.fundingPaid,
      newSize: o.newSize,
      newEntry: o.newEntry,
      increasesRisk: o.increasesRisk,
      quoteDelta: o.realizedPnl - o.fundingPaid - fee,
    };
  }

  /** Applies a trade of `delta` by `account` at oracle price `oraclePrice` at time `now`. */
  trade(account: string, marketId: string, delta: bigint, oraclePrice: bigint, now: bigint): RefTradeResult {
    const r = this.previewTrade(account, marketId, delta, oraclePrice, now);
    const m = this.market(marketId);
    m.funding = this.fundingAt(marketId, oraclePrice, now);
    const key = `${account}/${marketId}`;
    const oldSize = this.position(account, marketId).size;
    m.oiLong += max(r.newSize, 0n) - max(oldSize, 0n);
    m.oiShort += max(-r.newSize, 0n) - max(-oldSize, 0n);
    if (r.newSize === 0n) this.positions.delete(key);
    else this.positions.set(key, { size: r.newSize, entry: r.newEntry, lastFundingIndex: m.funding.fundingIndex });
    this.quote.set(account, this.quoteBalance(account) + r.quoteDelta);
    this.poolBalance += -r.realizedPnl + r.fundingPaid + (r.fee - r.insuranceFee);
    this.insuranceBalance += r.insuranceFee;
    return r;
  }

  /** Σ unrealised PnL of `account`'s positions at the given oracle prices (per market id). */
  unrealizedPnl(account: string, prices: Map<string, bigint>): bigint {
    let total = 0n;
    for (const id of this.markets.keys()) {
      const p = this.position(account, id);
      if (p.size !== 0n) total += unrealizedPnl(p.size, p.entry, mustGet(prices, id));
    }
    return total;
  }

  /**
   * Equity (quote + unrealised PnL − accrued funding, no volatile collateral) and initial margin
   * of `account` at the given prices and time, optionally as if `hypothetical` replaced one
   * position and `quoteDelta` were added to the quote balance.
   */
  equityAndInitialMargin(
    account: string,
    prices: Map<string, bigint>,
    now: bigint,
    hypothetical?: { marketId: string; position: RefPosition; quoteDelta: bigint },
  ): { equity: bigint; initialMargin: bigint } {
    let equity = this.quoteBalance(account) + (hypothetical?.quoteDelta ?? 0n);
    let initialMargin = 0n;
    let any = false;
    for (const [id, m] of this.markets) {
      const price = mustGet(prices, id);
      const p = hypothetical?.marketId === id ? hypothetical.position : this.position(account, id);
      if (p.size === 0n) continue;
      any = true;
      const f = this.fundingAt(id, price, now);
      equity += unrealizedPnl(p.size, p.entry, price) - fundingOwed(p.size, p.lastFundingIndex, f.fundingIndex);
      initialMargin += positionMargins(p.size, price, m.params.ratios).im;
    }
    if (any) initialMargin += this.liquidationBuffer;
    return { equity, initialMargin };
  }
}

function mustGet<K, V>(m: Map<K, V>, k: K): V {
  const v = m.get(k);
  if (v === undefined) throw new Error(`missing ${String(k)}`);
  return v;
}

/**
 * The spot venue: tick and liquidity maths for a Uniswap v3 pool of a base asset against the
 * quote token (prices in USD per base, human units), using @uniswap/v3-sdk's TickMath. Depth bands
 * are USD of depth between two distances from the initial price, below and (mirrored) above.
 */
import { encodeSqrtRatioX96, nearestUsableTick, TickMath, TICK_SPACINGS, FeeAmount } from "@uniswap/v3-sdk";
import type { AssetSpec } from "../scenario";

export const VENUE_FEE = FeeAmount.LOW; // 0.05%, tick spacing 10 (0.1% resolution for the bands)
export const TICK_SPACING = TICK_SPACINGS[VENUE_FEE];
const Q96 = 2 ** 96;

export interface VenueShape {
  baseIsToken0: boolean;
  baseDecimals: number;
  quoteDecimals: number;
}

/** sqrtPriceX96 (token1/token0, raw units) of a USD price. */
export function sqrtAtUsd(v: VenueShape, priceUsd: number): bigint {
  const quoteRaw = BigInt(Math.round(priceUsd * 1e9)) * 10n ** BigInt(v.quoteDecimals);
  const baseRaw = 10n ** 9n * 10n ** BigInt(v.baseDecimals);
  const [num, den] = v.baseIsToken0 ? [quoteRaw, baseRaw] : [baseRaw, quoteRaw];
  return BigInt(encodeSqrtRatioX96(num.toString(), den.toString()).toString());
}

/** USD price of a sqrtPriceX96. */
export function usdAtSqrt(v: VenueShape, sqrtPriceX96: bigint): number {
  const s = Number(sqrtPriceX96) / Q96;
  const raw = s * s; // token1 per token0, raw units
  const scale = 10 ** (v.baseDecimals - v.quoteDecimals);
  return v.baseIsToken0 ? raw * scale : scale / raw;
}

export function tickAtUsd(v: VenueShape, priceUsd: number): number {
  const sqrt = sqrtAtUsd(v, priceUsd);
  const clamped = sqrt < BigInt(TickMath.MIN_SQRT_RATIO.toString()) ? BigInt(TickMath.MIN_SQRT_RATIO.toString()) : sqrt;
  return TickMath.getTickAtSqrtRatio(encodeSqrtFromBig(clamped));
}

function encodeSqrtFromBig(x: bigint): ReturnType<typeof encodeSqrtRatioX96> {
  // encodeSqrtRatioX96(x², Q192) = x: rebuild the JSBI the SDK wants from a plain bigint.
  return encodeSqrtRatioX96((x * x).toString(), (2n ** 192n).toString());
}

export function sqrtAtTick(tick: number): bigint {
  return BigInt(TickMath.getSqrtRatioAtTick(tick).toString());
}

export interface LiquidityRange {
  tickLower: number;
  tickUpper: number;
  liquidity: bigint;
  /** USD depth this range provides, and its price span (for reports). */
  depthUsd: number;
  priceFromUsd: number;
  priceToUsd: number;
}

/**
 * Ranges that shape the venue: each band [fromPct, toPct] of USD depth `depthUsd`, below and
 * mirrored above the initial price, plus thin tails beyond the outermost band (to ±90%) at the
 * density of the thinnest band, so that the price stays defined past the book. The pool is
 * initialised at `initTick`, a usable tick; ranges never straddle it.
 *
 * Depth: selling through a range [Pa, Pb] of liquidity L (human units) raises L(√Pb − √Pa) of
 * quote, so L = depthUsd / (√Pb − √Pa); raw liquidity is L · 10^((baseDecimals + quoteDecimals)/2).
 */
export function bandRanges(v: VenueShape, asset: AssetSpec): { initTick: number; ranges: LiquidityRange[] } {
  const p0 = asset.initialPriceUsd;
  const initTick = nearestUsableTick(tickAtUsd(v, p0), TICK_SPACING);
  const rawScale = 10 ** ((v.baseDecimals + v.quoteDecimals) / 2);
  const bands = asset.venue.bands.map((b) => ({ ...b }));
  const outer = Math.max(...bands.map((b) => b.toPct));
  const density = Math.min(...bands.map((b) => b.depthUsd / (b.toPct - b.fromPct)));
  if (outer < 90 && density > 0) bands.push({ fromPct: outer, toPct: 90, depthUsd: density * (90 - outer) });
  const ranges: LiquidityRange[] = [];
  for (const b of bands) {
    if (b.depthUsd <= 0) continue;
    for (const side of [-1, 1]) {
      const pa = side < 0 ? p0 * (1 - b.toPct / 100) : p0 * (1 + b.fromPct / 100);
      const pb = side < 0 ? p0 * (1 - b.fromPct / 100) : p0 * (1 + b.toPct / 100);
      const snap = (usd: number): number => {
        if (Math.abs(usd - p0) < 1e-9 * p0) return initTick;
        return nearestUsableTick(tickAtUsd(v, usd), TICK_SPACING);
      };
      const ta = snap(pa);
      const tb = snap(pb);
      const [tickLower, tickUpper] = ta < tb ? [ta, tb] : [tb, ta];
      if (tickLower === tickUpper) continue;
      const lHuman = b.depthUsd / (Math.sqrt(pb) - Math.sqrt(pa));
      ranges.push({
        tickLower,
        tickUpper,
        liquidity: BigInt(Math.floor(lHuman * rawScale)),
        depthUsd: b.depthUsd,
        priceFromUsd: pa,
        priceToUsd: pb,
      });
    }
  }
  return { initTick, ranges };
}

/** USD depth within `pct` % below the initial price, from the scenario's bands. */
export function depthWithinPct(asset: AssetSpec, pct: number): number {
  let sum = 0;
  for (const b of asset.venue.bands) {
    const overlap = Math.max(0, Math.min(b.toPct, pct) - b.fromPct);
    sum += (b.depthUsd * overlap) / (b.toPct - b.fromPct);
  }
  return sum;
}

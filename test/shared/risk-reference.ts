/**
 * An independent floating-point model of the dynamic risk engine, written from docs/risk-model.md
 * rather than from the Solidity: plain `Math.log`/`Math.exp`/`Math.sqrt` on doubles, fractions as
 * numbers (0.05 = 5%), prices in USD, times in seconds. Tests compare the contract with it.
 */

export const SECONDS_PER_YEAR = 365 * 24 * 3600;
export const SECONDS_PER_HOUR = 3600;

/** Market parameters as plain fractions (not basis points) and seconds. */
export interface RiskParams {
  volHalfLifeSec: number;
  liquidationHorizonSec: number;
  smoothingHalfLifeSec: number;
  /** k: how many σ over the liquidation horizon the initial margin covers. */
  volMultiplier: number;
  /** Annualised volatility that seeds the variance. */
  initialVol: number;
  baseImr: number;
  baseMmr: number;
  maintenanceFraction: number;
  maxMmrRisePerHour: number;
  impactFactor: number;
  depthUsd: number;
}

/** 2^(−elapsed / halfLife): the weight an observation `elapsed` seconds old keeps. */
export function halfLifeWeight(elapsedSec: number, halfLifeSec: number): number {
  return Math.pow(2, -elapsedSec / halfLifeSec);
}

/** Initial margin ratio for a variance rate (per second): min(1, max(baseImr, k·σ_horizon)). */
export function imrFor(p: RiskParams, varianceRate: number): number {
  const sigmaHorizon = Math.sqrt(varianceRate * p.liquidationHorizonSec);
  return Math.min(1, Math.max(p.baseImr, p.volMultiplier * sigmaHorizon));
}

/** Base maintenance target: max(baseMmr, maintenanceFraction × imr). */
export function targetMmrFor(p: RiskParams, varianceRate: number): number {
  return Math.max(p.baseMmr, p.maintenanceFraction * imrFor(p, varianceRate));
}

/** Impact term of a position: impactFactor × |notional| / depth. */
export function impactFor(p: RiskParams, notionalUsd: number): number {
  return (p.impactFactor * Math.abs(notionalUsd)) / p.depthUsd;
}

/**
 * State of one market: the EWMA of squared log returns (a variance per second, time-weighted with
 * a half-life) and the EMA of accepted prices, each advanced only by new observations.
 */
export class RiskReference {
  lastPrice: number;
  ema: number;
  observedAt: number;
  varianceRate: number;

  constructor(
    readonly params: RiskParams,
    seedPrice: number,
    seedObservedAt: number,
  ) {
    this.lastPrice = seedPrice;
    this.ema = seedPrice;
    this.observedAt = seedObservedAt;
    this.varianceRate = (params.initialVol * params.initialVol) / SECONDS_PER_YEAR;
  }

  /**
   * Feeds an observation; returns whether it was new (observed strictly after the last one).
   * v ← λ·v + (1 − λ)·r²/dt with r = ln(p / p_prev), λ = 2^(−dt / volHalfLife); the EMA moves to
   * its value at the new observation's time, the previous price having held for dt.
   */
  observe(price: number, observedAt: number): boolean {
    if (observedAt <= this.observedAt) return false;
    const dt = observedAt - this.observedAt;
    const r = Math.log(price / this.lastPrice);
    const lambda = halfLifeWeight(dt, this.params.volHalfLifeSec);
    this.varianceRate = lambda * this.varianceRate + ((1 - lambda) * r * r) / dt;
    this.ema = this.lastPrice + (this.ema - this.lastPrice) * halfLifeWeight(dt, this.params.smoothingHalfLifeSec);
    this.lastPrice = price;
    this.observedAt = observedAt;
    return true;
  }

  sigmaAnnual(): number {
    return Math.sqrt(this.varianceRate * SECONDS_PER_YEAR);
  }

  sigmaHorizon(): number {
    return Math.sqrt(this.varianceRate * this.params.liquidationHorizonSec);
  }

  imr(): number {
    return imrFor(this.params, this.varianceRate);
  }

  targetMmr(): number {
    return targetMmrFor(this.params, this.varianceRate);
  }

  /**
   * The wick filter's price at `now`, given the oracle's current price and its observation time:
   * the EMA continues with the last accepted price until the oracle's observation, then with the
   * oracle's price. Without a usable oracle price, the last accepted price continues.
   */
  smoothedAt(now: number, oracle?: { price: number; observedAt: number }): number {
    let ema = this.ema;
    let price = this.lastPrice;
    let since = this.observedAt;
    if (oracle && oracle.observedAt > since) {
      const t = Math.min(oracle.observedAt, now);
      ema = price + (ema - price) * halfLifeWeight(t - since, this.params.smoothingHalfLifeSec);
      price = oracle.price;
      since = t;
    }
    return price + (ema - price) * halfLifeWeight(Math.max(0, now - since), this.params.smoothingHalfLifeSec);
  }
}

/**
 * The rate-limited follower of a maintenance target, from its definition: between changes of the
 * target it rises toward it at `ratePerHour` at most and never exceeds it; when the target falls,
 * it falls at once. `changes` are (time, new target) pairs in time order; the first sets the start.
 */
export class RateLimitedTarget {
  private target: number;
  private value: number;
  private since: number;

  constructor(
    private readonly ratePerHour: number,
    startTime: number,
    startTarget: number,
  ) {
    this.target = startTarget;
    this.value = startTarget;
    this.since = startTime;
  }

  /** The followed value at `time` (≥ the last change). */
  at(time: number): number {
    return Math.min(this.target, this.value + (this.ratePerHour * (time - this.since)) / SECONDS_PER_HOUR);
  }

  /** The target becomes `target` at `time`. */
  change(time: number, target: number): void {
    this.value = this.at(time);
    this.since = time;
    this.target = target;
  }
}

/** A deterministic pseudo-random generator (mulberry32) so that series are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from two uniforms (Box–Muller). */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * A geometric random walk: `steps` observations `gapSec(i)` seconds apart with annualised
 * volatility `annualVol` (per-step log return σ·sqrt(dt/year)). Returns (price, dt) pairs.
 */
export function randomWalk(
  rand: () => number,
  startPrice: number,
  steps: number,
  annualVol: number,
  gapSec: (i: number) => number,
): { price: number; dt: number }[] {
  const out: { price: number; dt: number }[] = [];
  let price = startPrice;
  for (let i = 0; i < steps; i++) {
    const dt = gapSec(i);
    price *= Math.exp(annualVol * Math.sqrt(dt / SECONDS_PER_YEAR) * normal(rand));
    out.push({ price, dt });
  }
  return out;
}

/** |a − b| / |b|. */
export function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

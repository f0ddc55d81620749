/**
 * The protocol's defaults, typed, in one place: the auction house's `Params` and `Throttle`, the
 * auction curve, the circuit breaker's `Params` and the auction house's breaker wiring, the dynamic
 * risk engine and the local stack's markets. Field names are the Solidity struct fields; values
 * are integers (WAD, seconds, basis points) exactly as the contracts take them.
 *
 * deploy/modules/*.ts take their module-parameter defaults from here, the lab deploys the same
 * values, and test/unit/Params.spec.ts checks deploy/parameters/*.json and a deployed stack
 * against them. Imports nothing of the project but `lib/units`.
 */
import { WAD, usdWad, wad } from "./units";

// ------------------------------------------------------------------ auction house

/** `IAuctionHouse.Params` with plain fields (`curve` is the curve contract's address). */
export interface AuctionParams {
  curve: string;
  bufWad: bigint;
  tailSec: bigint;
  cuspWad: bigint;
  floorWad: bigint;
  dustWad: bigint;
  penaltyWad: bigint;
  chipWad: bigint;
  tipWad: bigint;
  rewardCapWad: bigint;
  targetHealthWad: bigint;
  maxResets: bigint;
  instantMode: boolean;
  poolTakeover: boolean;
  instantBonusWad: bigint;
}

/** The fields of `AuctionParams`, in the struct's order. */
export const AUCTION_PARAM_FIELDS = [
  "curve",
  "bufWad",
  "tailSec",
  "cuspWad",
  "floorWad",
  "dustWad",
  "penaltyWad",
  "chipWad",
  "tipWad",
  "rewardCapWad",
  "targetHealthWad",
  "maxResets",
  "instantMode",
  "poolTakeover",
  "instantBonusWad",
] as const satisfies readonly (keyof AuctionParams)[];

/** Default auction parameters but the curve (deployed separately: `CURVE_DEFAULTS`). */
export const AUCTION_DEFAULTS: Omit<AuctionParams, "curve"> = {
  bufWad: WAD,
  tailSec: 1800n,
  cuspWad: wad(0.9),
  floorWad: wad(0.85),
  dustWad: usdWad(100),
  penaltyWad: wad(0.01),
  chipWad: wad(0.001),
  tipWad: usdWad(5),
  rewardCapWad: usdWad(2_000),
  targetHealthWad: WAD,
  maxResets: 2n,
  instantMode: false,
  poolTakeover: false,
  instantBonusWad: wad(0.01),
};

/** The default curve, `StairstepExponentialDecrease(stepSec, cutWad)`: ×0.998 every 12 s. */
export const CURVE_DEFAULTS = { stepSec: 12n, cutWad: wad(0.998) } as const;

/** `IAuctionHouse.Throttle`: the liquidation throttle over a sliding window. */
export interface ThrottleConfig {
  windowSec: bigint;
  globalCapacityWad: bigint;
  maxOutstandingWad: bigint;
}

export const THROTTLE_DEFAULTS: ThrottleConfig = {
  windowSec: 3600n,
  globalCapacityWad: usdWad(50_000_000),
  maxOutstandingWad: usdWad(50_000_000),
};

/** Per-market liquidation capacity of the local stack (`setMarketCapacity`), USD WAD. */
export const MARKET_CAPACITY_DEFAULT_WAD = usdWad(25_000_000);

/** Anything shaped like `auctionHouse.params()`'s result: an ethers `Result` or a plain object. */
export type AuctionParamsLike = { readonly [K in keyof AuctionParams]: AuctionParams[K] | string | number };

/**
 * A plain `AuctionParams` copied from `auctionHouse.params()` (an ethers `Result`, whose fields are
 * also positional) with `overrides` applied: `auctionParams(await ah.params(), { instantMode: true })`.
 */
export function auctionParams(current: AuctionParamsLike, overrides: Partial<AuctionParams> = {}): AuctionParams {
  const out = {} as Record<keyof AuctionParams, unknown>;
  for (const k of AUCTION_PARAM_FIELDS) {
    const v = current[k];
    out[k] = k === "curve" ? String(v) : typeof v === "boolean" ? v : BigInt(v);
  }
  return { ...(out as unknown as AuctionParams), ...overrides };
}

/** The default `AuctionParams` with a curve address (the zero address when none is given). */
export const defaultAuctionParams = (
  curve = "0x0000000000000000000000000000000000000000",
  overrides: Partial<AuctionParams> = {},
): AuctionParams => ({ curve, ...AUCTION_DEFAULTS, ...overrides });

// ------------------------------------------------------------------ circuit breaker

/** `ICircuitBreaker.Params`. docs/circuit-breakers.md explains each default. */
export interface BreakerParams {
  windowSec: number;
  band1Wad: bigint;
  band2Wad: bigint;
  band3Wad: bigint;
  hysteresisWad: bigint;
  cooldownSec: number;
  maxPauseSec: number;
  oracleMaxAgeSec: number;
  oracleDeviationWad: bigint;
  insuranceWindowSec: number;
  insuranceDrawdownWad: bigint;
  insuranceMinPeakWad: bigint;
  cautionImWad: bigint;
  haltImWad: bigint;
  guardianRearmSec: number;
}

export const BREAKER_DEFAULTS: BreakerParams = {
  windowSec: 3600,
  band1Wad: wad(0.07),
  band2Wad: wad(0.13),
  band3Wad: wad(0.2),
  hysteresisWad: wad(0.3),
  cooldownSec: 900,
  maxPauseSec: 3600,
  oracleMaxAgeSec: 3900,
  oracleDeviationWad: wad(0.03),
  insuranceWindowSec: 86_400,
  insuranceDrawdownWad: wad(0.25),
  insuranceMinPeakWad: usdWad(100_000),
  cautionImWad: wad(1.5),
  haltImWad: wad(1.25),
  guardianRearmSec: 86_400,
};

/** The auction house's breaker wiring (`IAuctionHouse.BreakerConfig`), besides the breaker's address. */
export const AUCTION_BREAKER_DEFAULTS = {
  cautionCapacityBps: 5_000,
  reportDiscountBps: 800,
  // Only takes (and backstops) of at least $10,000 of tab are reported: dust cannot hold a pause.
  reportMinNotionalWad: usdWad(10_000),
};

// ------------------------------------------------------------------ risk engines

/**
 * The dynamic `RiskEngine` (deploy/modules/BulwarkLocalDynamic.ts, docs/risk-model.md): the
 * engine's hard floor, the per-market settings shared by both local markets, and each market's
 * own volatility seed, base ratios and depth. Fractions in basis points, USD in WAD.
 */
export const DYNAMIC_ENGINE_DEFAULTS = {
  hardFloorBps: 5_000,
  shared: {
    volHalfLifeSec: 14_400,
    liquidationHorizonSec: 3_600,
    smoothingHalfLifeSec: 180,
    volMultiplierBps: 30_000,
    maintenanceFractionBps: 7_000,
    maxMmrRisePerHourBps: 100,
    impactFactorBps: 100,
  },
  eth: { initialVolBps: 8_000, baseImrBps: 500, baseMmrBps: 250, depthUsdWad: usdWad(25_000_000) },
  btc: { initialVolBps: 6_000, baseImrBps: 500, baseMmrBps: 250, depthUsdWad: usdWad(50_000_000) },
} as const;

// ------------------------------------------------------------------ the local stack

/** Margin ratios of the static engine on the local stack (`setRatios`), per market. */
export const STATIC_RATIOS_DEFAULTS = { imrWad: wad(0.05), mmrWad: wad(0.025) } as const;

/** Market settings shared by the local markets (`listMarket`), besides the oracle asset and skew. */
export const MARKET_DEFAULTS = {
  makerFeeWad: wad(0.0002),
  takerFeeWad: wad(0.0006),
  maxFundingVelocityWad: 3n * WAD,
  maxOiPoolRatioWad: WAD,
} as const;

/** The vault's global parameters (`setGlobalParams`). */
export const GLOBAL_DEFAULTS = {
  insuranceFeeShareWad: wad(0.2),
  reserveRatioWad: wad(0.25),
  liquidationBufferWad: usdWad(5),
} as const;

/** The two local markets: feed price (8 decimals), skew scale, collateral weight and cap. */
export const LOCAL_MARKETS = {
  eth: {
    priceE8: 3_000n * 10n ** 8n,
    skewScaleWad: 1_000_000n * WAD,
    collateralWeightWad: wad(0.85),
    collateralCapWad: 100_000n * WAD,
  },
  btc: {
    priceE8: 60_000n * 10n ** 8n,
    skewScaleWad: 50_000n * WAD,
    collateralWeightWad: wad(0.85),
    collateralCapWad: 5_000n * WAD,
  },
} as const;

/** Heartbeat of the local mock feeds (`setFeed`), seconds. */
export const FEED_HEARTBEAT_SEC = 3600;

/**
 * Protocol modes (docs/simulation.md §2): the same contracts with different deployment
 * parameters. One parameter set per mode, used for every scenario: nothing here depends on the
 * scenario except through rules stated in terms of the market (e.g. depth).
 */
import { DYNAMIC_ENGINE_DEFAULTS, STATIC_RATIOS_DEFAULTS } from "../../lib/params";
import { fromWad } from "../../lib/units";

export interface ModeParams {
  name: string;
  /** Margin policy: the static engine (fixed IMR/MMR) or the dynamic RiskEngine. */
  thresholds: "static" | "dynamic";
  /** Liquidation: AuctionHouse instant mode (close at oracle against the pool, fixed bonus) or Dutch auction. */
  liquidation: "instant" | "auction";
  /** Auction throttle: liquidation notional a market may start per window, as a multiple of the
   * market's 1% depth (USD that moves the venue 1%), over `throttleWindowSec`. Off = unbounded. */
  throttle: { depthMultiple: number; windowSec: number } | "off";
  /** Circuit breaker on or off (see `applyBreaker`). */
  breaker: boolean;
  /** Auction mode only: the pool takes each kicked slice over at the oracle price and auctions its
   * own exposure (AuctionHouse `poolTakeover`), so the account carries no price risk during the
   * auction; the hedger leaves what is on sale unhedged. */
  poolTakeover: boolean;
}

export const MODES: Readonly<Record<string, ModeParams>> = {
  baseline: {
    name: "baseline",
    thresholds: "static",
    liquidation: "instant",
    throttle: "off",
    breaker: false,
    poolTakeover: false,
  },
  auction: {
    name: "auction",
    thresholds: "static",
    liquidation: "auction",
    throttle: { depthMultiple: 0.5, windowSec: 3600 },
    breaker: false,
    poolTakeover: false,
  },
  "auction+breaker": {
    name: "auction+breaker",
    thresholds: "static",
    liquidation: "auction",
    throttle: { depthMultiple: 0.5, windowSec: 3600 },
    breaker: true,
    poolTakeover: false,
  },
  full: {
    name: "full",
    thresholds: "dynamic",
    liquidation: "auction",
    throttle: { depthMultiple: 0.5, windowSec: 3600 },
    breaker: true,
    poolTakeover: true,
  },
};

/** Custom parameter sets registered with `defineMode` (scripts/ablation.ts). */
const CUSTOM: Record<string, ModeParams> = {};

/** Registers a custom parameter set under `p.name`; a built-in mode cannot be replaced. */
export function defineMode(p: ModeParams): void {
  if (p.name in MODES) throw new Error(`mode "${p.name}" is built in`);
  CUSTOM[p.name] = p;
}

/** The mode's parameter set; throws a domain error naming the known modes. */
export function modeParams(name: string): ModeParams {
  const m = MODES[name] ?? CUSTOM[name];
  if (!m) {
    const known = [...Object.keys(MODES), ...Object.keys(CUSTOM)].join(", ");
    throw new Error(`unknown mode "${name}": known modes are ${known}`);
  }
  return m;
}

/**
 * Dynamic RiskEngine parameters used by `full` (lib/params, the local stack's ETH market: every
 * lab asset gets its volatility seed and base ratios), with each market's `depthUsd` taken from its
 * venue (USD within 1% of the price).
 */
export const DYNAMIC_ENGINE = {
  hardFloorBps: DYNAMIC_ENGINE_DEFAULTS.hardFloorBps,
  ...DYNAMIC_ENGINE_DEFAULTS.shared,
  initialVolBps: DYNAMIC_ENGINE_DEFAULTS.eth.initialVolBps,
  baseImrBps: DYNAMIC_ENGINE_DEFAULTS.eth.baseImrBps,
  baseMmrBps: DYNAMIC_ENGINE_DEFAULTS.eth.baseMmrBps,
} as const;

/** Static margin ratios of the local stack (lib/params) as decimal numbers. */
export const STATIC_RATIOS = {
  imr: fromWad(STATIC_RATIOS_DEFAULTS.imrWad),
  mmr: fromWad(STATIC_RATIOS_DEFAULTS.mmrWad),
} as const;

/**
 * Protocol modes (docs/simulation.md §2): the same contracts with different deployment
 * parameters. One parameter set per mode, used for every scenario: nothing here depends on the
 * scenario except through rules stated in terms of the market (e.g. depth).
 */
import { AUCTION_DEFAULTS, DYNAMIC_ENGINE_DEFAULTS, STATIC_RATIOS_DEFAULTS } from "../../lib/params";
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
  /**
   * Instant mode only (docs/simulation.md §2). `close`: "partial" closes the smallest slice that
   * restores equity ≥ target health × IM (AuctionHouse `_sliceNotional`: about 62% of the position
   * at health 1, 66% at health 0.95, all of it at health ≤ 0.4 with the lab's static 5%/2.5%
   * ratios: the contract's stand-in for a close factor); "full" closes the whole position (the
   * auction house's dust raised to its maximum, $1M, so no slice leaves anything behind).
   * `bonusWad`: the liquidator's bonus as a fraction of notional (default: the deployment's 1%).
   * `liquidatorSells`: the liquidated exposure is sold on the venue in the next block, on top of
   * the scenario's hedger budget (done by the pool's hedger on the liquidator's behalf, so its
   * price impact is booked to the pool). `unhedgedPool`: the pool's hedger does nothing (GMX-style
   * pool); otherwise the scenario's hedger policy applies, as in every other mode.
   */
  instant?: { close: "partial" | "full"; bonusWad?: bigint; liquidatorSells: boolean; unhedgedPool: boolean };
}

/** Aave-like: partial close (the contract's target-health slice), 1% bonus, the liquidator sells on the venue. */
const INSTANT_AAVE: Omit<ModeParams, "name"> = {
  thresholds: "static",
  liquidation: "instant",
  throttle: "off",
  breaker: false,
  poolTakeover: false,
  instant: { close: "partial", liquidatorSells: true, unhedgedPool: false },
};

/** The mode `baseline` is an alias of (same parameters, its own name in the output). */
export const BASELINE_ALIAS_OF = "instant-aave";

export const MODES: Readonly<Record<string, ModeParams>> = {
  baseline: { name: "baseline", ...INSTANT_AAVE },
  "instant-aave": { name: "instant-aave", ...INSTANT_AAVE },
  /** GMX-v1-like: the whole position is closed against the pool at the oracle, the pool unhedged;
   * the liquidator is paid the auction modes' keeper reward rate (chip, 0.1%). */
  "instant-gmx": {
    name: "instant-gmx",
    thresholds: "static",
    liquidation: "instant",
    throttle: "off",
    breaker: false,
    poolTakeover: false,
    instant: { close: "full", bonusWad: AUCTION_DEFAULTS.chipWad, liquidatorSells: false, unhedgedPool: true },
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

/**
 * The contract between the lab's engine (world, agents, runner, metrics) and its front end
 * (CLI, task, progress, report, metrics.json). The engine produces `ScenarioRun`; the front end
 * only reads it. Units are in the field names; every USD figure is a plain number of dollars.
 */

/** A mode name: "baseline" | "auction" | "auction+breaker" | "full", or a custom parameter set. */
export type ModeName = string;

/** Per mode and seed, computed from on-chain events and state (see docs/simulation.md). */
export interface Metrics {
  fundamentalDrawdownPct: number;
  venueDrawdownPct: number;
  amplification: number;
  liquidations: number;
  liquidatedNotionalUsd: number;
  excessLiquidatedNotionalUsd: number;
  badDebtUsd: number;
  insuranceDrawdownUsd: number;
  lpPnlUsd: number;
  traderLiquidationCostUsd: number;
  keeperProfitUsd: number;
  maxBlockImpactPct: number;
  recoveryBlocks: number;
  breakerTrips: number;
  blocksPaused: number;
  gasUsedTotal: number;
  txCount: number;
  protocolLossUsd: number;
  protocolLossBpsOfNav: number;
  depositorLossUsd: number;
  lpNavTroughPct: number;
  liquidationDelayBlocksP50: number;
  liquidationDelayBlocksP95: number;
  missedLiquidationUsd: number;
  kickPausedBlocks: number;
  drainBlocks: number;
  unresolvedExposureUsd: number;
  arbPnlUsd: number;
  venueLpPnlUsd: number;
  outsideMarketPnlUsd: number;
}

/** Metric names in the order reports print them. */
export const METRIC_NAMES: readonly (keyof Metrics)[] = [
  "fundamentalDrawdownPct",
  "venueDrawdownPct",
  "amplification",
  "liquidations",
  "liquidatedNotionalUsd",
  "excessLiquidatedNotionalUsd",
  "badDebtUsd",
  "insuranceDrawdownUsd",
  "lpPnlUsd",
  "traderLiquidationCostUsd",
  "keeperProfitUsd",
  "maxBlockImpactPct",
  "recoveryBlocks",
  "breakerTrips",
  "blocksPaused",
  "gasUsedTotal",
  "txCount",
  "protocolLossUsd",
  "protocolLossBpsOfNav",
  "depositorLossUsd",
  "lpNavTroughPct",
  "liquidationDelayBlocksP50",
  "liquidationDelayBlocksP95",
  "missedLiquidationUsd",
  "kickPausedBlocks",
  "drainBlocks",
  "unresolvedExposureUsd",
  "arbPnlUsd",
  "venueLpPnlUsd",
  "outsideMarketPnlUsd",
];

/** One row per simulated block and asset. */
export interface SeriesRow {
  block: number;
  /** "run": a block of the scenario; "drain": a block after it (docs/lab-world.md, "Drain"). */
  phase: "run" | "drain";
  asset: string;
  fundamentalUsd: number;
  venueUsd: number;
  oracleUsd: number;
  /** Liquidation events (kicks, or instant liquidations) in this block. */
  liquidations: number;
  liquidatedNotionalUsd: number;
  /** Auctions running at the end of the block. */
  auctionsActive: number;
  /** Mean clearing discount below oracle of this block's takes, in percent; null when none. */
  clearingDiscountPct: number | null;
  /** Insurance fund balance at the end of the block. */
  insuranceUsd: number;
  /** Effective breaker level of the asset's market at the end of the block (0 when breakers are off). */
  breakerLevel: number;
}

/** Pre-crash liquidation heatmap: open notional bucketed by liquidation price. */
export interface HeatmapBucket {
  asset: string;
  /** Lower edge of the bucket. */
  liqPriceFromUsd: number;
  liqPriceToUsd: number;
  longNotionalUsd: number;
  shortNotionalUsd: number;
}

/** The venue's depth as the scenario shaped it (both sides, mirrored around the initial price). */
export interface DepthBand {
  asset: string;
  priceFromUsd: number;
  priceToUsd: number;
  depthUsd: number;
}

export interface RunResult {
  mode: ModeName;
  seed: number;
  metrics: Metrics;
  series: SeriesRow[];
  /** Wall-clock milliseconds of this run (goes to run.json only, never to metrics.json). */
  wallMs: number;
  /** The report's post-crash heatmap, taken by the front end's block observer (sim/report/observe.ts). */
  heatmapAfter?: { block: number; buckets: HeatmapBucket[] };
}

export interface ScenarioRun {
  scenario: { name: string; blocks: number; blockTimeSec: number; assets: string[] };
  seeds: number[];
  modes: ModeName[];
  /** Taken once, after populating and before the first simulated block. */
  heatmap: HeatmapBucket[];
  depth: DepthBand[];
  runs: RunResult[];
  /** Wall-clock milliseconds of deploying and populating (run.json only). */
  setupMs: number;
}

/** Progress events the engine emits; the front end draws a bar on a TTY or prints plain lines. */
export interface ProgressEvent {
  phase: "deploy" | "populate" | "run" | "done";
  mode?: ModeName;
  seed?: number;
  block?: number;
  blocks?: number;
  runIndex?: number;
  runs?: number;
}
export type ProgressFn = (e: ProgressEvent) => void;

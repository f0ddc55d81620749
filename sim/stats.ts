/**
 * Statistics over seeds (issue 25, item 2): per mode and metric the p5/p50/p95, the mean and a 95%
 * bootstrap interval of the mean; per mode against `baseline`, the paired comparison on the same
 * seeds: the win rate (for metrics with a known direction) and the mean paired difference
 * (mode − baseline) with its bootstrap interval. Generic over whatever metrics a run holds.
 * Deterministic: the bootstrap draws from the lab's seeded PRNG. Schema: docs/simulation.md.
 */
import { canonicalNumber, mean, MetricsFile, quantile } from "./aggregate";
import { Rng } from "./engine/prng";
import { METRIC_NAMES, type ModeName, type ScenarioRun } from "./types";

/** Which way a metric is better. */
export type Direction = "lower" | "higher";

/**
 * The direction of each metric that has one. A metric not listed (the fundamental drawdown is the
 * scenario's input; liquidations, liquidated notional, keeper profit, breaker trips and the
 * transaction count are neither good nor bad in themselves; any metric added later) gets no win
 * rate, only quantiles, means and paired differences.
 */
export const DIRECTIONS: Readonly<Record<string, Direction>> = {
  venueDrawdownPct: "lower",
  amplification: "lower",
  excessLiquidatedNotionalUsd: "lower",
  badDebtUsd: "lower",
  insuranceDrawdownUsd: "lower",
  lpPnlUsd: "higher",
  traderLiquidationCostUsd: "lower",
  maxBlockImpactPct: "lower",
  recoveryBlocks: "lower",
  blocksPaused: "lower",
  gasUsedTotal: "lower",
  protocolLossUsd: "lower",
  protocolLossBpsOfNav: "lower",
  depositorLossUsd: "lower",
  lpNavTroughPct: "higher",
  liquidationDelayBlocksP50: "lower",
  liquidationDelayBlocksP95: "lower",
  missedLiquidationUsd: "lower",
  kickPausedBlocks: "lower",
  unresolvedExposureUsd: "lower",
};

export const BOOTSTRAP_RESAMPLES = 2000;
export const CONFIDENCE = 0.95;
export const BASELINE = "baseline";

/**
 * Percentile bootstrap interval of the mean: `resamples` resamples with replacement of `values`
 * (drawn from Rng(seed, stream)), the (1−level)/2 and (1+level)/2 quantiles of their means.
 * One value gives [v, v]; none throws.
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  seed: number,
  stream = 0,
  resamples = BOOTSTRAP_RESAMPLES,
  level = CONFIDENCE,
): [number, number] {
  if (values.length === 0) throw new Error("bootstrap of an empty list");
  const rng = new Rng(seed, stream);
  const n = values.length;
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(rng.next() * n)];
    means[r] = sum / n;
  }
  return [quantile(means, (1 - level) / 2), quantile(means, (1 + level) / 2)];
}

/** A metric's distribution over seeds (finite values only). */
export interface Summary {
  n: number;
  p5: number | null;
  p50: number | null;
  p95: number | null;
  mean: number | null;
  meanLo: number | null;
  meanHi: number | null;
}

/** The paired comparison of a mode against baseline over the seeds where both are finite. */
export interface Paired {
  n: number;
  diffMean: number | null;
  diffLo: number | null;
  diffHi: number | null;
  /** Seeds where the mode is strictly better / equal / strictly worse; null without a direction. */
  wins: number | null;
  ties: number | null;
  losses: number | null;
  /** wins / n; null without a direction or paired seed. */
  winRate: number | null;
}

const c = (x: number): number | null => canonicalNumber(x);

export function summarize(values: readonly number[], seed: number, stream: number): Summary {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { n: 0, p5: null, p50: null, p95: null, mean: null, meanLo: null, meanHi: null };
  const [lo, hi] = bootstrapMeanInterval(v, seed, stream);
  const q = (p: number) => c(quantile(v, p));
  return { n: v.length, p5: q(0.05), p50: q(0.5), p95: q(0.95), mean: c(mean(v)), meanLo: c(lo), meanHi: c(hi) };
}

/** `mode` and `base` are per-seed values in the same seed order. */
export function paired(
  mode: readonly number[],
  base: readonly number[],
  direction: Direction | undefined,
  seed: number,
  stream: number,
): Paired {
  const diffs: number[] = [];
  mode.forEach((m, i) => {
    if (Number.isFinite(m) && Number.isFinite(base[i])) diffs.push(m - base[i]);
  });
  const n = diffs.length;
  const [lo, hi] = n === 0 ? [NaN, NaN] : bootstrapMeanInterval(diffs, seed, stream);
  const better = (d: number) => (direction === "lower" ? d < 0 : d > 0);
  const worse = (d: number) => (direction === "lower" ? d > 0 : d < 0);
  const count = (f: (d: number) => boolean) => (direction === undefined ? null : diffs.filter(f).length);
  const wins = count(better);
  return {
    n,
    diffMean: n === 0 ? null : c(mean(diffs)),
    diffLo: c(lo),
    diffHi: c(hi),
    wins,
    ties: count((d) => d === 0),
    losses: count(worse),
    winRate: wins === null || n === 0 ? null : c(wins / n),
  };
}

export interface MetricStatistics extends Summary {
  /** Against baseline; absent for baseline itself and when baseline did not run. */
  vsBaseline?: Paired;
}

/** metrics.json's `statistics` key (several seeds only). */
export interface Statistics {
  resamples: number;
  level: number;
  bootstrapSeed: number;
  directions: Record<string, Direction | null>;
  modes: Record<ModeName, Record<string, MetricStatistics>>;
}

/** A stream id per name (FNV-1a), so each (mode, metric) draws its own bootstrap sequence. */
export function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The statistics of a run over its seeds (sorted ascending), for the metrics in `metrics`. The
 * bootstrap is seeded with the first seed; each (mode, metric, summary or difference) draws its
 * own stream, so adding a metric or mode leaves the other intervals unchanged.
 */
export function computeStatistics(run: ScenarioRun, metrics: readonly string[]): Statistics {
  const seeds = [...run.seeds].sort((a, b) => a - b);
  const bootstrapSeed = seeds[0];
  const values = (mode: ModeName, metric: string): number[] =>
    seeds.map((seed) => {
      const r = run.runs.find((x) => x.mode === mode && x.seed === seed);
      if (r === undefined) throw new Error(`no result for mode ${mode} seed ${seed}`);
      const v = (r.metrics as unknown as Record<string, number | null>)[metric];
      return v === null || v === undefined ? NaN : v;
    });
  const modes: Statistics["modes"] = {};
  for (const mode of run.modes) {
    const out: Record<string, MetricStatistics> = {};
    for (const metric of metrics) {
      const s: MetricStatistics = summarize(values(mode, metric), bootstrapSeed, streamOf(`${mode}/${metric}`));
      if (mode !== BASELINE && run.modes.includes(BASELINE))
        s.vsBaseline = paired(
          values(mode, metric),
          values(BASELINE, metric),
          DIRECTIONS[metric],
          bootstrapSeed,
          streamOf(`${mode}-${BASELINE}/${metric}`),
        );
      out[metric] = s;
    }
    modes[mode] = out;
  }
  const directions = Object.fromEntries(metrics.map((m) => [m, DIRECTIONS[m] ?? null]));
  return { resamples: BOOTSTRAP_RESAMPLES, level: CONFIDENCE, bootstrapSeed, directions, modes };
}

/** metrics.json's content with `statistics` added after `modes` when the run has several seeds. */
export function withStatistics(
  file: MetricsFile,
  run: ScenarioRun,
  metrics: readonly string[] = METRIC_NAMES,
): MetricsFile {
  if (file.seeds.length < 2) return file;
  return { ...file, statistics: computeStatistics(run, metrics) };
}

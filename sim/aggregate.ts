/**
 * Aggregation of per-run metrics over seeds, and the deterministic number format every output
 * file uses. Pure functions: no clock, no randomness, no I/O.
 */
import type { Statistics } from "./stats";
import { METRIC_NAMES, Metrics, ModeName, ScenarioRun } from "./types";

/** A metric over several seeds (simulation.md §5). */
export interface MetricStats {
  p50: number | null;
  p95: number | null;
  mean: number | null;
  values: (number | null)[];
}

/** One mode's metrics: a number per metric for one seed, `MetricStats` for several. */
export type ModeMetrics = Record<keyof Metrics, number | null> | Record<keyof Metrics, MetricStats>;

/** The content of metrics.json. Key order is part of the format: scenario, seeds, modes, statistics. */
export interface MetricsFile {
  scenario: string;
  seeds: number[];
  modes: Record<ModeName, ModeMetrics>;
  /** With several seeds only (sim/stats.ts; docs/simulation.md): added after `modes`. */
  statistics?: Statistics;
}

/** Significant digits kept for non-integer numbers in every output file. */
export const SIGNIFICANT_DIGITS = 12;

/**
 * The one number format of metrics.json and series.csv: integers as they are, other finite numbers
 * to 12 significant digits (which removes floating-point noise such as 0.30000000000000004),
 * -0 as 0, and NaN/±Infinity as null (JSON has no representation for them).
 */
export function canonicalNumber(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  if (Number.isInteger(x)) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(SIGNIFICANT_DIGITS));
  return r === 0 ? 0 : r;
}

/**
 * Quantile by linear interpolation between closest ranks (Hyndman & Fan type 7; numpy's and R's
 * default): position (n−1)·q in the sorted values. Throws on an empty list.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("quantile of an empty list");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile q must be in [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error("mean of an empty list");
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Stats of one metric over seeds. Non-finite values (e.g. an amplification with no fundamental
 * drawdown) are kept as null in `values` and left out of p50/p95/mean; all null gives null stats.
 */
export function stats(values: readonly number[]): MetricStats {
  const finite = values.filter((v) => Number.isFinite(v));
  const pick = (f: () => number) => (finite.length === 0 ? null : canonicalNumber(f()));
  return {
    p50: pick(() => quantile(finite, 0.5)),
    p95: pick(() => quantile(finite, 0.95)),
    mean: pick(() => mean(finite)),
    values: values.map(canonicalNumber),
  };
}

/**
 * Builds metrics.json's content from a scenario run. Modes keep the order of `run.modes`, seeds
 * are sorted ascending, metrics follow `METRIC_NAMES`. Every (mode, seed) pair must have a run.
 */
export function aggregate(run: ScenarioRun): MetricsFile {
  const seeds = [...run.seeds].sort((a, b) => a - b);
  const modes: Record<ModeName, ModeMetrics> = {};
  for (const mode of run.modes) {
    const perSeed = seeds.map((seed) => {
      const r = run.runs.find((x) => x.mode === mode && x.seed === seed);
      if (r === undefined) throw new Error(`no result for mode ${mode} seed ${seed}`);
      return r.metrics;
    });
    if (seeds.length === 1) {
      const one = {} as Record<keyof Metrics, number | null>;
      for (const m of METRIC_NAMES) one[m] = canonicalNumber(perSeed[0][m]);
      modes[mode] = one;
    } else {
      const many = {} as Record<keyof Metrics, MetricStats>;
      for (const m of METRIC_NAMES) many[m] = stats(perSeed.map((x) => x[m]));
      modes[mode] = many;
    }
  }
  return { scenario: run.scenario.name, seeds, modes };
}

/** metrics.json bytes: two-space JSON, keys in the documented order, trailing newline. */
export function serializeMetrics(file: MetricsFile): string {
  return JSON.stringify(file, null, 2) + "\n";
}

/** True when a mode's metrics are per-seed stats (several seeds). */
export function isStats(v: number | null | MetricStats): v is MetricStats {
  return v !== null && typeof v === "object";
}

/** The side-by-side metrics table: metric rows × mode columns, for the terminal and for HTML. */
import { isStats, MetricsFile, MetricStats } from "../aggregate";
import type { Summary } from "../stats";
import { METRIC_NAMES } from "../types";

/** Human format: thousands separators, up to 2 decimals (4 below 1), "n/a" for null. */
export function formatValue(v: number | null): string {
  if (v === null) return "n/a";
  const abs = Math.abs(v);
  const digits = Number.isInteger(v) ? 0 : abs < 1 ? 4 : 2;
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** One cell: the value for one seed, "p50 / p95" for several. */
export function formatCell(v: number | null | MetricStats): string {
  if (isStats(v)) return `${formatValue(v.p50)} / ${formatValue(v.p95)}`;
  return formatValue(v);
}

/** The compact view of a metric over seeds: "p50 [p5, p95]". */
export function formatSpread(s: Summary): string {
  return `${formatValue(s.p50)} [${formatValue(s.p5)}, ${formatValue(s.p95)}]`;
}

/**
 * Rows of cells, header first: ["metric", ...modes]. With statistics (several seeds) a cell is
 * "p50 [p5, p95]"; without them (a file aggregated without statistics), "p50 / p95".
 */
export function tableRows(file: MetricsFile): string[][] {
  const modes = Object.keys(file.modes);
  const rows = [["metric", ...modes]];
  for (const m of METRIC_NAMES) {
    rows.push([
      m,
      ...modes.map((mode) => {
        const s = file.statistics?.modes[mode]?.[m];
        if (s !== undefined) return formatSpread(s);
        return formatCell((file.modes[mode] as Record<string, number | null | MetricStats>)[m]);
      }),
    ]);
  }
  return rows;
}

/** Win rates against baseline, one line per mode and metric with a direction (several seeds). */
export function winRateLines(file: MetricsFile): string[] {
  const st = file.statistics;
  if (st === undefined) return [];
  const lines: string[] = [];
  for (const [mode, metrics] of Object.entries(st.modes)) {
    const parts: string[] = [];
    for (const [m, s] of Object.entries(metrics)) {
      const p = s.vsBaseline;
      if (p?.winRate === undefined || p.winRate === null) continue;
      const ties = p.ties !== null && p.ties > 0 ? ` (${p.ties} tie${p.ties > 1 ? "s" : ""})` : "";
      parts.push(`${m} ${Math.round(100 * p.winRate)}%${ties}`);
    }
    if (parts.length > 0) lines.push(`${mode} beats baseline on: ${parts.join(", ")}`);
  }
  return lines;
}

/** Plain-text table, numbers right-aligned; a note line when cells are p50 / p95. */
export function textTable(file: MetricsFile): string {
  const rows = tableRows(file);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const lines = [fmt(rows[0]), rule, ...rows.slice(1).map(fmt)];
  const head =
    file.seeds.length === 1
      ? `${file.scenario}, seed ${file.seeds[0]}`
      : `${file.scenario}, seeds ${file.seeds[0]}..${file.seeds[file.seeds.length - 1]} ` +
        (file.statistics ? `(cells: p50 [p5, p95] over ${file.seeds.length} seeds)` : "(cells: p50 / p95)");
  const wins = winRateLines(file);
  return [head, ...lines, ...(wins.length > 0 ? ["", "win rate over paired seeds:", ...wins] : [])].join("\n");
}

/** A metric as one number: the value for one seed, the p50 over seeds for several. */
export function metricValue(file: MetricsFile, mode: string, metric: string): number | null {
  const v = (file.modes[mode] as Record<string, number | null | MetricStats> | undefined)?.[metric];
  if (v === undefined) return null;
  return isStats(v) ? v.p50 : v;
}

/** The mode the difference columns compare: `full` when run, else the last mode. */
export function referenceMode(file: MetricsFile): string {
  const modes = Object.keys(file.modes);
  return modes.includes("full") ? "full" : modes[modes.length - 1];
}

export interface Difference {
  /** reference − baseline, in the metric's unit; null when either is missing. */
  abs: number | null;
  /** abs / |baseline| × 100; null when the baseline is 0 or missing. */
  pct: number | null;
}

export function difference(ref: number | null, baseline: number | null): Difference {
  if (ref === null || baseline === null) return { abs: null, pct: null };
  const abs = ref - baseline;
  return { abs, pct: baseline === 0 ? null : (100 * abs) / Math.abs(baseline) };
}

/** "+1,234.50 (+12.3%)", "0 (0.0%)", "−5 (n/a)". */
export function formatDifference(d: Difference): string {
  if (d.abs === null) return "n/a";
  const sign = (v: number) => (v > 0 ? "+" : "");
  const pct = d.pct === null ? "n/a" : `${sign(d.pct)}${d.pct.toFixed(1)}%`;
  return `${sign(d.abs)}${formatValue(d.abs)} (${pct})`;
}

/**
 * The difference columns: for each mode but the reference (`full`), reference − mode per metric
 * (p50s with several seeds), absolute and in percent of the mode's value.
 */
export function differenceColumns(file: MetricsFile): { header: string[]; rows: Map<string, Difference[]> } {
  const ref = referenceMode(file);
  const others = Object.keys(file.modes).filter((m) => m !== ref);
  const rows = new Map<string, Difference[]>();
  for (const m of METRIC_NAMES)
    rows.set(
      m,
      others.map((o) => difference(metricValue(file, ref, m), metricValue(file, o, m))),
    );
  return { header: others.map((o) => `${ref} − ${o}`), rows };
}

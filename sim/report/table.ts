/** The side-by-side metrics table: metric rows × mode columns, for the terminal and for HTML. */
import { isStats, MetricsFile, MetricStats } from "../aggregate";
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

/** Rows of cells, header first: ["metric", ...modes]. */
export function tableRows(file: MetricsFile): string[][] {
  const modes = Object.keys(file.modes);
  const rows = [["metric", ...modes]];
  for (const m of METRIC_NAMES) {
    rows.push([
      m,
      ...modes.map((mode) => formatCell((file.modes[mode] as Record<string, number | null | MetricStats>)[m])),
    ]);
  }
  return rows;
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
      : `${file.scenario}, seeds ${file.seeds[0]}..${file.seeds[file.seeds.length - 1]} (cells: p50 / p95)`;
  return [head, ...lines].join("\n");
}

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

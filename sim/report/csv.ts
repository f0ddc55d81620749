/** series.csv: one row per mode, seed, block and asset; every SeriesRow field. */
import { canonicalNumber } from "../aggregate";
import { RunResult, SeriesRow } from "../types";

/** SeriesRow fields in column order (after `mode` and `seed`). */
export const SERIES_COLUMNS: readonly (keyof SeriesRow)[] = [
  "block",
  "phase",
  "asset",
  "fundamentalUsd",
  "venueUsd",
  "oracleUsd",
  "liquidations",
  "liquidatedNotionalUsd",
  "auctionsActive",
  "clearingDiscountPct",
  "insuranceUsd",
  "breakerLevel",
];

export const CSV_HEADER = ["mode", "seed", ...SERIES_COLUMNS].join(",");

function cell(v: string | number | null): string {
  if (v === null) return "";
  if (typeof v === "number") {
    const n = canonicalNumber(v);
    return n === null ? "" : String(n);
  }
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The CSV text (RFC 4180 quoting, `\n` line ends, trailing newline). Empty cell = null. */
export function seriesCsv(runs: readonly RunResult[]): string {
  const lines = [CSV_HEADER];
  for (const r of runs) {
    for (const row of r.series) {
      lines.push([cell(r.mode), cell(r.seed), ...SERIES_COLUMNS.map((c) => cell(row[c]))].join(","));
    }
  }
  return lines.join("\n") + "\n";
}

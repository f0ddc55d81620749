/** Writes a report directory: metrics.json, run.json, series.csv, one PNG per chart, report.html. */
import fs from "node:fs";
import path from "node:path";
import { aggregate, MetricsFile, serializeMetrics } from "../aggregate";
import { withStatistics } from "../stats";
import { ScenarioRun } from "../types";
import { modeParams as lookupMode } from "../engine/modes";
import { buildCharts, ChartContext, chartSeed, renderCharts, scenarioWindows, svgToPng } from "./charts";
import { seriesCsv } from "./csv";
import { reportHtml } from "./html";
import { gitCommit, RunInfo, serializeRunInfo } from "./run-info";

export { buildCharts, renderCharts, renderSvg, svgToPng } from "./charts";
export { seriesCsv, CSV_HEADER, SERIES_COLUMNS } from "./csv";
export { reportHtml } from "./html";
export type { RunInfo } from "./run-info";
export { textTable, tableRows, formatValue } from "./table";

export interface WriteReportInput {
  run: ScenarioRun;
  /** The scenario as validated (pretty-printed into report.html). */
  scenario: unknown;
  /** Initial price per asset, drawn on the heatmap. */
  initialPrices: Record<string, number>;
  /** run.json without `reportMs` and `totalMs`, which this function measures. */
  info: Omit<RunInfo, "reportMs" | "totalMs">;
  /** performance.now() at the command's start, for `totalMs`. */
  startedAtMs: number;
}

/** Each mode's parameter set; a mode the engine does not know (a test's) gets none. */
export function modeParamSets(modes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of modes) {
    try {
      out[m] = lookupMode(m);
    } catch {
      out[m] = null;
    }
  }
  return out;
}

/** Whether a parameter set liquidates instantly (no auctions). */
export function isInstant(params: unknown): boolean {
  return (params as { liquidation?: string } | null)?.liquidation === "instant";
}

export interface WrittenReport {
  dir: string;
  metrics: MetricsFile;
  files: string[];
  info: RunInfo;
}

export async function writeReport(dir: string, input: WriteReportInput): Promise<WrittenReport> {
  const t0 = performance.now();
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    fs.writeFileSync(path.join(dir, name), data);
    files.push(name);
  };
  const metrics = withStatistics(aggregate(input.run), input.run);
  write("metrics.json", serializeMetrics(metrics));
  write("series.csv", seriesCsv(input.run.runs));
  const modeParams = input.info.modeParams ?? modeParamSets(input.run.modes);
  const chartCtx: ChartContext = {
    windows: scenarioWindows(input.scenario),
    instantModes: input.run.modes.filter((m) => isInstant(modeParams[m])),
  };
  const charts = await renderCharts(buildCharts(input.run, input.initialPrices, chartCtx));
  for (const c of charts) write(`${c.id}.png`, svgToPng(c.svg));
  const full = { ...input.info, commit: input.info.commit ?? gitCommit(), modeParams };
  const provisional: RunInfo = { ...full, reportMs: 0, totalMs: 0 };
  write(
    "report.html",
    reportHtml({
      metrics,
      charts,
      scenarioJson: JSON.stringify(input.scenario, null, 2),
      info: provisional,
      chartSeed: chartSeed(input.run),
    }),
  );
  const t1 = performance.now();
  const info: RunInfo = { ...full, reportMs: Math.round(t1 - t0), totalMs: Math.round(t1 - input.startedAtMs) };
  write("run.json", serializeRunInfo(info));
  return { dir, metrics, files, info };
}

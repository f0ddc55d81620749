/** report.html: one self-contained page (inline SVG charts, inline CSS, no script, no network). */
import { MetricsFile } from "../aggregate";
import { RenderedChart } from "./charts";
import { RunInfo } from "./run-info";
import { METRIC_NAMES } from "../types";
import { definitionOf, MetricDefinition, metricDefinitions } from "./definitions";
import { differenceColumns, formatDifference, tableRows } from "./table";

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const CSS = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; }
p.sub, p.caption { color: #555; font-size: 13px; margin-top: 2px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f5f5f5; text-align: left; }
pre { background: #f7f7f7; padding: 10px; font-size: 12px; overflow-x: auto; }
figure { margin: 0; } figure svg { max-width: 100%; height: auto; }
nav a { margin-right: 12px; font-size: 13px; }
td.diff, th.diff { background: #f4f8fc; }
tr[title] td:first-child { cursor: help; text-decoration: underline dotted #999; }
dl.defs { font-size: 13px; display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
dl.defs dt { font-weight: normal; } dl.defs dd { margin: 0; color: #444; }
span.unit { color: #777; font-size: 12px; }
`;

export interface ReportInput {
  metrics: MetricsFile;
  charts: RenderedChart[];
  /** The scenario as loaded (pretty-printed into the page). */
  scenarioJson: string;
  info: RunInfo;
  chartSeed: number;
  /** Metric definitions; default docs/simulation.md's table. */
  definitions?: Map<string, MetricDefinition>;
}

/** The metrics table: a row per metric (its definition on hover), a column per mode, then full − each other mode. */
function metricsTable(metrics: MetricsFile, defs: Map<string, MetricDefinition>): string {
  const [head, ...rows] = tableRows(metrics);
  const diff = differenceColumns(metrics);
  const th = [...head, ...diff.header]
    .map((h, i) => {
      const cls = i === 0 ? "" : i >= head.length ? ' class="num diff"' : ' class="num"';
      return `<th${cls}>${escapeHtml(h)}</th>`;
    })
    .join("");
  const trs = rows
    .map((r) => {
      const name = r[0];
      const d = definitionOf(name, defs);
      const title = `${d.meaning}${d.unit ? ` (${d.unit})` : ""}`;
      const cells = r
        .slice(1)
        .map((c) => `<td class="num">${escapeHtml(c)}</td>`)
        .join("");
      const diffs = (diff.rows.get(name) ?? [])
        .map(
          (x) =>
            `<td class="num diff" data-abs="${x.abs ?? ""}" data-pct="${x.pct ?? ""}">${escapeHtml(formatDifference(x))}</td>`,
        )
        .join("");
      return `<tr title="${escapeHtml(title)}"><td><code>${escapeHtml(name)}</code></td>${cells}${diffs}</tr>`;
    })
    .join("\n");
  return `<table class="metrics">\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>`;
}

/** The definitions of the table's metrics, as a list. */
function definitionsList(defs: Map<string, MetricDefinition>): string {
  const items = METRIC_NAMES.map((m) => {
    const d = definitionOf(m, defs);
    return `<dt><code>${escapeHtml(m)}</code>${d.unit ? ` <span class="unit">${escapeHtml(d.unit)}</span>` : ""}</dt><dd>${escapeHtml(d.meaning)}</dd>`;
  });
  return `<dl class="defs">\n${items.join("\n")}\n</dl>`;
}

/** A value of a parameter set as text: objects as "k: v, …". */
function paramText(v: unknown): string {
  if (v === undefined) return "–";
  if (v !== null && typeof v === "object")
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}: ${paramText(x)}`)
      .join(", ");
  return String(v);
}

/** Each mode's parameter set: a row per parameter, a column per mode. */
function modesTable(params: Record<string, unknown>): string {
  const modes = Object.keys(params);
  const keys: string[] = [];
  for (const m of modes)
    for (const k of Object.keys((params[m] as Record<string, unknown> | null) ?? {}))
      if (k !== "name" && !keys.includes(k)) keys.push(k);
  const th = ["parameter", ...modes].map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const rows = keys.map(
    (k) =>
      `<tr><td><code>${escapeHtml(k)}</code></td>${modes
        .map((m) => `<td>${escapeHtml(paramText((params[m] as Record<string, unknown> | null)?.[k]))}</td>`)
        .join("")}</tr>`,
  );
  return `<table class="modes">\n<thead><tr>${th}</tr></thead>\n<tbody>\n${rows.join("\n")}\n</tbody>\n</table>`;
}

function infoTable(info: RunInfo): string {
  const rows: [string, string][] = [
    ["scenario file", info.scenarioFile],
    ["network", `${info.network} (chain id ${info.chainId})`],
    ["modes", info.modes.join(", ")],
    ["seeds", info.seeds.join(", ")],
    ["deploy + populate", `${(info.setupMs / 1000).toFixed(1)} s`],
    ...info.runs.map((r): [string, string] => [`run ${r.mode}, seed ${r.seed}`, `${(r.wallMs / 1000).toFixed(1)} s`]),
    ["simulation total", `${(info.simulationMs / 1000).toFixed(1)} s`],
    ["started", info.startedAt],
    ["node / hardhat", `${info.nodeVersion} / ${info.hardhatVersion}`],
    ["commit", info.commit ?? "unknown"],
  ];
  return (
    "<table>\n" +
    rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n") +
    "\n</table>"
  );
}

export function reportHtml(input: ReportInput): string {
  const { metrics, charts, info } = input;
  const defs = input.definitions ?? metricDefinitions();
  const seedsNote =
    metrics.seeds.length === 1
      ? `seed ${metrics.seeds[0]}`
      : `seeds ${metrics.seeds.join(", ")}; table cells are ${metrics.statistics ? "p50 [p5, p95]" : "p50 / p95"} over seeds; charts show seed ${input.chartSeed}`;
  const nav = ["metrics", "modes", ...charts.map((c) => c.id), "definitions", "scenario", "run"]
    .map((id) => `<a href="#${id}">${escapeHtml(id)}</a>`)
    .join("");
  const figures = charts
    .map(
      (c) =>
        `<section id="${c.id}">\n<h2>${escapeHtml(c.title)}</h2>\n<p class="caption">${escapeHtml(c.caption)} ` +
        `(<a href="${c.id}.png">PNG</a>)</p>\n<figure>\n${c.svg}\n</figure>\n</section>`,
    )
    .join("\n");
  const diffNote = differenceColumns(metrics).header.length
    ? ` The shaded columns are the differences ${escapeHtml(differenceColumns(metrics).header.join(", "))}, absolute and in percent of the other mode${metrics.seeds.length > 1 ? " (of the p50s)" : ""}.`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(metrics.scenario)}: Bulwark cascade lab</title>
<style>${CSS}</style>
</head>
<body>
<h1>Cascade lab: ${escapeHtml(metrics.scenario)}</h1>
<p class="sub">Modes ${escapeHtml(Object.keys(metrics.modes).join(" vs "))}; ${escapeHtml(seedsNote)}; ${escapeHtml(info.network)} network; commit <code>${escapeHtml(info.commit ?? "unknown")}</code>.</p>
<nav>${nav}</nav>
<section id="metrics">
<h2>Metrics</h2>
<p class="caption">Hover a metric for its definition; all of them are under <a href="#definitions">definitions</a>.${diffNote} Machine-readable copy: <a href="metrics.json">metrics.json</a>; per-block series: <a href="series.csv">series.csv</a>.</p>
${metricsTable(metrics, defs)}
</section>
<section id="modes">
<h2>Modes</h2>
<p class="caption">Each mode's parameter set (sim/engine/modes.ts), the same for every scenario.</p>
${modesTable(info.modeParams ?? {})}
</section>
${figures}
<section id="definitions">
<h2>Metric definitions</h2>
<p class="caption">From docs/simulation.md.</p>
${definitionsList(defs)}
</section>
<section id="scenario">
<h2>Scenario</h2>
<pre>${escapeHtml(input.scenarioJson)}</pre>
</section>
<section id="run">
<h2>Run</h2>
${infoTable(info)}
</section>
</body>
</html>
`;
}

/** report.html: one self-contained page (inline SVG charts, inline CSS, no script, no network). */
import { MetricsFile } from "../aggregate";
import { RenderedChart } from "./charts";
import { RunInfo } from "./run-info";
import { tableRows } from "./table";

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
`;

export interface ReportInput {
  metrics: MetricsFile;
  charts: RenderedChart[];
  /** The scenario as loaded (pretty-printed into the page). */
  scenarioJson: string;
  info: RunInfo;
  chartSeed: number;
}

function metricsTable(metrics: MetricsFile): string {
  const [head, ...rows] = tableRows(metrics);
  const th = head.map((h, i) => `<th${i > 0 ? ' class="num"' : ""}>${escapeHtml(h)}</th>`).join("");
  const trs = rows
    .map(
      (r) =>
        "<tr>" +
        r
          .map((c, i) => (i === 0 ? `<td><code>${escapeHtml(c)}</code></td>` : `<td class="num">${escapeHtml(c)}</td>`))
          .join("") +
        "</tr>",
    )
    .join("\n");
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>`;
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
  ];
  return (
    "<table>\n" +
    rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n") +
    "\n</table>"
  );
}

export function reportHtml(input: ReportInput): string {
  const { metrics, charts, info } = input;
  const seedsNote =
    metrics.seeds.length === 1
      ? `seed ${metrics.seeds[0]}`
      : `seeds ${metrics.seeds.join(", ")}; table cells are ${metrics.statistics ? "p50 [p5, p95]" : "p50 / p95"} over seeds; charts show seed ${input.chartSeed}`;
  const nav = ["metrics", ...charts.map((c) => c.id), "scenario", "run"]
    .map((id) => `<a href="#${id}">${escapeHtml(id)}</a>`)
    .join("");
  const figures = charts
    .map(
      (c) =>
        `<section id="${c.id}">\n<h2>${escapeHtml(c.title)}</h2>\n<p class="caption">${escapeHtml(c.caption)} ` +
        `(<a href="${c.id}.png">PNG</a>)</p>\n<figure>\n${c.svg}\n</figure>\n</section>`,
    )
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(metrics.scenario)}: Bulwark cascade lab</title>
<style>${CSS}</style>
</head>
<body>
<h1>Cascade lab: ${escapeHtml(metrics.scenario)}</h1>
<p class="sub">Modes ${escapeHtml(Object.keys(metrics.modes).join(" vs "))}; ${escapeHtml(seedsNote)}; ${escapeHtml(info.network)} network.</p>
<nav>${nav}</nav>
<section id="metrics">
<h2>Metrics</h2>
<p class="caption">Definitions in docs/simulation.md. Machine-readable copy: <a href="metrics.json">metrics.json</a>; per-block series: <a href="series.csv">series.csv</a>.</p>
${metricsTable(metrics)}
</section>
${figures}
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

/**
 * Issue 26, item 11: what each change of the report promises, checked in its HTML and SVG, from a
 * synthetic run (test/sim/fixtures/synthetic-run.ts) with a keeper outage, a shock, an instant
 * mode and post-crash heatmaps. No chain.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { writeReport } from "../../sim/report";
import { buildCharts, priceDomains, scenarioWindows } from "../../sim/report/charts";
import { parseDefinitions } from "../../sim/report/definitions";
import { differenceColumns, metricValue } from "../../sim/report/table";
import { METRIC_NAMES, type HeatmapBucket, type ScenarioRun } from "../../sim/types";
import { syntheticRun } from "./fixtures/synthetic-run";

const SCENARIO = {
  name: "synthetic",
  keepers: { outage: { fromBlock: 25, toBlock: 60 } },
  assets: [
    { symbol: "ETH", oracle: {}, fundamental: { type: "shock", startBlock: 20, overBlocks: 5 } },
    { symbol: "BTC", oracle: { stale: { fromBlock: 30, toBlock: 40 } }, fundamental: { type: "gbm", jumps: [] } },
  ],
};

function withAfter(run: ScenarioRun): ScenarioRun {
  run.runs.forEach((r, i) => {
    const buckets: HeatmapBucket[] = run.scenario.assets.map((asset) => ({
      asset,
      liqPriceFromUsd: asset === "ETH" ? 2400 + 30 * i : 50_000,
      liqPriceToUsd: asset === "ETH" ? 2430 + 30 * i : 50_600,
      longNotionalUsd: 77_000 + i,
      shortNotionalUsd: 0,
    }));
    r.heatmapAfter = { block: run.scenario.blocks - 1, buckets };
  });
  return run;
}

function section(html: string, id: string): string {
  return html.split(`<section id="${id}">`)[1]?.split("</section>")[0] ?? "";
}

describe("lab report (issue 26, item 11)", function () {
  this.timeout(60_000);
  let dir: string;
  let html: string;
  const run = withAfter(syntheticRun({ modes: ["baseline", "auction", "full"], assets: ["ETH", "BTC"] }));

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-report-"));
    await writeReport(dir, {
      run,
      scenario: SCENARIO,
      initialPrices: { ETH: 3000, BTC: 60000 },
      startedAtMs: performance.now(),
      info: {
        scenario: "synthetic",
        scenarioFile: "synthetic.json",
        modes: run.modes,
        seeds: run.seeds,
        network: "hardhat",
        chainId: 31337,
        startedAt: "2025-01-01T00:00:00.000Z",
        setupMs: run.setupMs,
        runs: run.runs.map((r) => ({ mode: r.mode, seed: r.seed, wallMs: r.wallMs })),
        simulationMs: 5000,
        nodeVersion: process.version,
        hardhatVersion: "test",
        commit: "abc1234-test",
      },
    });
    html = fs.readFileSync(path.join(dir, "report.html"), "utf8");
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("gives every mode's price panel of an asset one y-domain, and draws them so", () => {
    const domains = priceDomains(run);
    const spec = buildCharts(run).find((c) => c.id === "prices")!.spec as { vconcat: { hconcat: unknown[] }[] };
    expect(spec.vconcat).to.have.length(3); // a row per mode
    const yDomains = spec.vconcat.map((row) =>
      row.hconcat.map((p) =>
        JSON.stringify(
          (p as { layer: { encoding: { y: { scale: { domain: unknown } } } }[] }).layer.at(-1)!.encoding.y.scale.domain,
        ),
      ),
    );
    for (const [a, asset] of ["ETH", "BTC"].entries()) {
      expect(new Set(yDomains.map((r) => r[a])).size, asset).to.equal(1);
      expect(yDomains[0][a]).to.equal(JSON.stringify(domains[asset]));
    }
    // The y axis labels of the ETH panels are the same in every row of the SVG.
    const svg = section(html, "prices");
    const axes = [
      ...svg.matchAll(/aria-label="Y-axis titled 'price \(USD\)' for a linear scale with values from ([^"]+)"/g),
    ].map((m) => m[1]);
    expect(axes).to.have.length(6);
    expect(new Set(axes.filter((_, i) => i % 2 === 0)).size).to.equal(1);
  });

  it("draws the insurance axis from zero", () => {
    const spec = buildCharts(run).find((c) => c.id === "insurance")!.spec as {
      layer: { encoding: { y: { scale: { domain: number[] } } } }[];
    };
    const domain = spec.layer.at(-1)!.encoding.y.scale.domain;
    expect(domain[0]).to.equal(0);
    expect(domain[1]).to.be.at.least(1_000_000);
    expect(section(html, "insurance")).to.match(
      /Y-axis titled 'balance \(USD\)' for a linear scale with values from 0 to/,
    );
  });

  it("adds full − each baseline columns equal to the metrics.json values, with % and definitions", () => {
    const metrics = JSON.parse(fs.readFileSync(path.join(dir, "metrics.json"), "utf8"));
    const table = section(html, "metrics");
    expect(table).to.contain('<th class="num diff">full − baseline</th>');
    expect(table).to.contain('<th class="num diff">full − auction</th>');
    const rows = table.split("<tr").slice(2);
    expect(rows).to.have.length(METRIC_NAMES.length);
    for (const [i, m] of METRIC_NAMES.entries()) {
      const abs = [...rows[i].matchAll(/data-abs="([^"]*)" data-pct="([^"]*)"/g)].map((x) => [
        Number(x[1]),
        Number(x[2]),
      ]);
      const f = metrics.modes.full[m] as number;
      for (const [j, base] of ["baseline", "auction"].entries()) {
        const b = metrics.modes[base][m] as number;
        expect(abs[j][0], `${m} vs ${base}`).to.be.closeTo(f - b, 1e-9);
        expect(abs[j][1], `${m} vs ${base} %`).to.be.closeTo((100 * (f - b)) / Math.abs(b), 1e-9);
      }
    }
    expect(differenceColumns(metrics).rows.get("badDebtUsd")![0].abs).to.equal(
      metricValue(metrics, "full", "badDebtUsd")! - metricValue(metrics, "baseline", "badDebtUsd")!,
    );
    expect(table).to.match(
      /<tr title="notional liquidated from accounts that were healthy[^"]*\(USD\)"><td><code>excessLiquidatedNotionalUsd<\/code>/,
    );
    const defs = section(html, "definitions");
    for (const m of METRIC_NAMES) expect(defs).to.contain(`<dt><code>${m}</code>`);
    expect(defs).to.contain("max peak-to-trough drop of the fundamental path");
  });

  it("reads definitions from the metrics table of the doc only", () => {
    const d = parseDefinitions(
      "| `x` | a | other table |\n\n| metric | unit | meaning |\n|--|--|--|\n| `x` | USD | the **x**, see [doc](d.md) |\n",
    );
    expect(d.get("x")).to.deep.equal({ unit: "USD", meaning: "the x, see doc" });
  });

  it("shows each mode's parameter set and the commit", () => {
    const modes = section(html, "modes");
    expect(modes).to.contain("<th>baseline</th><th>auction</th><th>full</th>");
    expect(modes).to.match(/<td><code>liquidation<\/code><\/td><td>instant<\/td><td>auction<\/td><td>auction<\/td>/);
    expect(modes).to.match(/<td><code>thresholds<\/code><\/td><td>static<\/td><td>static<\/td><td>dynamic<\/td>/);
    expect(html).to.contain("commit <code>abc1234-test</code>");
    expect(section(html, "run")).to.contain("<th>commit</th><td>abc1234-test</td>");
  });

  it("shades the keeper outage and the shock on every time chart", () => {
    expect(scenarioWindows(SCENARIO)).to.deep.equal([
      { kind: "keeper outage", from: 25, to: 60 },
      { kind: "shock", asset: "ETH", from: 20, to: 25 },
      { kind: "oracle stale", asset: "BTC", from: 30, to: 40 },
    ]);
    const panels = { prices: 6, liquidations: 6, auctions: 2, insurance: 1, breaker: 2 };
    for (const [id, n] of Object.entries(panels)) {
      const svg = section(html, id);
      const bands = svg.match(/class="mark-rect role-mark windowbands_marks"/g) ?? [];
      expect(bands.length, id).to.equal(n);
      expect(svg, id).to.contain("keeper outage");
      expect(section(html, id), id).to.contain("Shaded: keeper outage blocks 25–60, shock ETH blocks 20–25");
    }
    // ETH panels carry the outage and the ETH shock, BTC panels the outage and the stale BTC oracle.
    const breakerSpec = buildCharts(run, {}, { windows: scenarioWindows(SCENARIO) }).find((c) => c.id === "breaker")!
      .spec as { vconcat: { layer: { data: { values: { kind: string }[] } }[] }[] };
    expect(breakerSpec.vconcat.map((p) => p.layer[0].data.values.map((w) => w.kind))).to.deep.equal([
      ["keeper outage", "shock"],
      ["keeper outage", "oracle stale"],
    ]);
  });

  it("draws no active-auction series for instant modes", () => {
    const charts = buildCharts(run, {}, { instantModes: ["baseline"] });
    const auctions = charts.find((c) => c.id === "auctions")!.spec as {
      vconcat: { layer: { data: { values: { mode: string }[] } }[] }[];
    };
    const modes = new Set(auctions.vconcat[0].layer.at(-1)!.data.values.map((d) => d.mode));
    expect([...modes]).to.deep.equal(["auction", "full"]);
    const svg = section(html, "auctions");
    expect(svg).to.contain("baseline liquidates instantly");
    expect(svg).to.not.match(/<text[^>]*>baseline<\/text>/); // no legend entry for baseline
    expect(svg).to.match(/<text[^>]*>full<\/text>/);
    // Only instant modes: no auctions chart at all.
    const onlyInstant = buildCharts(syntheticRun({ modes: ["baseline"] }), {}, { instantModes: ["baseline"] });
    expect(onlyInstant.map((c) => c.id)).to.not.include("auctions");
  });

  it("shows the heatmap before the crash and after it, per mode", () => {
    const heat = section(html, "heatmap");
    expect(heat).to.contain("before and after the crash");
    for (const asset of ["ETH", "BTC"]) {
      expect(heat).to.contain(`${asset}: before the crash (every mode)`);
      for (const mode of run.modes) expect(heat).to.contain(`${asset}: ${mode}, after block 79`);
    }
    // 2 assets × (before + 3 modes) panels.
    expect(heat.match(/>[A-Z]+: (before the crash|[a-z+]+, after block)/g)).to.have.length(8);
  });
});

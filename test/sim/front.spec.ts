/**
 * The lab's front end without a chain run: aggregation over seeds, metrics.json bytes, series.csv,
 * charts and report.html, progress lines, and the CLI's handling of invalid input.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre from "hardhat";
import { aggregate, canonicalNumber, isStats, mean, quantile, serializeMetrics, stats } from "../../sim/aggregate";
import { resolveRun, RunScenarioFn, simulate, UsageError } from "../../sim/cli";
import { withStatistics } from "../../sim/stats";
import { CSV_HEADER, seriesCsv, textTable, writeReport } from "../../sim/report";
import { decimate, MAX_POINTS_PER_LINE } from "../../sim/report/charts";
import { lineProgress } from "../../sim/report/progress";
import { ScenarioError } from "../../sim/scenario";
import { METRIC_NAMES } from "../../sim/types";
import { syntheticRun } from "./fixtures/synthetic-run";

const ROOT = path.join(__dirname, "..", "..");
const FIXTURES = path.join(__dirname, "fixtures");
// The report directory below is written for two seeds, so it has the distributions chart too.
const CHART_IDS = ["prices", "liquidations", "auctions", "insurance", "breaker", "heatmap", "distributions"];

function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `bulwark-front-${tag}-`));
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).to.equal(true);
  expect(buf.subarray(12, 16).toString("latin1")).to.equal("IHDR");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe("lab front end", () => {
  describe("aggregation", () => {
    it("quantiles interpolate between closest ranks (type 7)", () => {
      expect(quantile([10, 1, 3, 2, 4], 0.5)).to.equal(3);
      // sorted [1,2,3,4,10], position 4·0.95 = 3.8 → 4 + 0.8·(10−4)
      expect(quantile([10, 1, 3, 2, 4], 0.95)).to.be.closeTo(8.8, 1e-12);
      expect(quantile([5, 1], 0.5)).to.equal(3);
      expect(quantile([5, 1], 0.95)).to.be.closeTo(4.8, 1e-12);
      expect(quantile([7], 0.95)).to.equal(7);
      expect(mean([1, 2, 3, 4, 10])).to.equal(4);
      expect(() => quantile([], 0.5)).to.throw("empty");
    });

    it("stats keep seed order in values and skip non-finite values", () => {
      expect(stats([3, 1, 2])).to.deep.equal({ p50: 2, p95: 2.9, mean: 2, values: [3, 1, 2] });
      expect(stats([4, NaN, 2])).to.deep.equal({ p50: 3, p95: 3.9, mean: 3, values: [4, null, 2] });
      expect(stats([Infinity, NaN])).to.deep.equal({ p50: null, p95: null, mean: null, values: [null, null] });
    });

    it("numbers are canonical: 12 significant digits, no -0, null for non-finite", () => {
      expect(canonicalNumber(0.1 + 0.2)).to.equal(0.3);
      expect(Object.is(canonicalNumber(-0), 0)).to.equal(true);
      expect(canonicalNumber(NaN)).to.equal(null);
      expect(canonicalNumber(-Infinity)).to.equal(null);
      expect(canonicalNumber(123456789012345)).to.equal(123456789012345);
      expect(canonicalNumber(1 / 3)).to.equal(0.333333333333);
    });

    it("one seed gives a number per metric, in METRIC_NAMES order", () => {
      const file = aggregate(syntheticRun({ seeds: [7] }));
      expect(Object.keys(file)).to.deep.equal(["scenario", "seeds", "modes"]);
      expect(file.seeds).to.deep.equal([7]);
      expect(Object.keys(file.modes)).to.deep.equal(["baseline", "full"]);
      expect(Object.keys(file.modes.full)).to.deep.equal([...METRIC_NAMES]);
      // syntheticMetrics(k): metric i = k·(i+1) + 0.1·i; full is k = 2
      expect((file.modes.full as Record<string, number>).amplification).to.equal(2 * 3 + 0.2);
    });

    it("several seeds give p50/p95/mean/values matching hand-computed figures", () => {
      const file = aggregate(syntheticRun({ seeds: [7, 8, 9] }));
      const liq = (file.modes.baseline as Record<string, unknown>).liquidations;
      expect(isStats(liq as never)).to.equal(true);
      // baseline k = 1, 2, 3 for seeds 7, 8, 9; liquidations is metric index 3: 4k + 0.3
      // p95: position 2·0.95 = 1.9 → 8.3 + 0.9·(12.3 − 8.3) = 11.9
      expect(liq).to.deep.equal({ p50: 8.3, p95: 11.9, mean: 8.3, values: [4.3, 8.3, 12.3] });
      expect(Object.keys(liq as object)).to.deep.equal(["p50", "p95", "mean", "values"]);
    });

    it("metrics.json is byte-identical for the same input, whatever the order of runs", () => {
      const a = serializeMetrics(aggregate(syntheticRun({ seeds: [7, 8] })));
      const b = serializeMetrics(aggregate(syntheticRun({ seeds: [7, 8] })));
      const shuffled = syntheticRun({ seeds: [7, 8] });
      shuffled.runs.reverse();
      shuffled.seeds.reverse();
      expect(b).to.equal(a);
      expect(serializeMetrics(aggregate(shuffled))).to.equal(a);
      expect(a.endsWith("}\n")).to.equal(true);
      expect(a).to.not.contain("wallMs");
    });

    it("a missing (mode, seed) run is an error", () => {
      const run = syntheticRun({ seeds: [7, 8] });
      run.runs.pop();
      expect(() => aggregate(run)).to.throw("no result for mode full seed 8");
    });
  });

  describe("series.csv", () => {
    it("has the documented header and one row per mode, seed, block and asset", () => {
      const run = syntheticRun({ seeds: [7, 8], blocks: 30, assets: ["ETH", "BTC"] });
      const csv = seriesCsv(run.runs);
      const lines = csv.trimEnd().split("\n");
      expect(lines[0]).to.equal(
        "mode,seed,block,phase,asset,fundamentalUsd,venueUsd,oracleUsd,liquidations,liquidatedNotionalUsd," +
          "auctionsActive,clearingDiscountPct,insuranceUsd,breakerLevel",
      );
      expect(lines[0]).to.equal(CSV_HEADER);
      expect(lines.length).to.equal(1 + 2 * 2 * 30 * 2);
      // baseline seed 7, block 0, ETH: venue 3000·(1 + 0.001·sin 7) to 12 digits; no takes → empty cell
      expect(lines[1]).to.equal("baseline,7,0,run,ETH,3000,3001.9709598,3001.9709598,0,0,0,,1000000,0");
      const cols = lines.slice(1).map((l) => l.split(",").length);
      expect(new Set(cols)).to.deep.equal(new Set([14]));
    });
  });

  describe("text table", () => {
    it("puts metrics in rows and modes in columns; p50 / p95 with several seeds", () => {
      const one = textTable(aggregate(syntheticRun()));
      expect(one.split("\n")[1]).to.match(/^metric\s+baseline\s+full$/);
      expect(one).to.match(/amplification\s+3.20\s+6.20/);
      const many = textTable(aggregate(syntheticRun({ seeds: [7, 8, 9] })));
      expect(many).to.contain("p50 / p95");
      expect(many).to.match(/liquidations\s+8.30 \/ 11.90/);
    });
  });

  describe("report directory", function () {
    let dir: string;
    before(async function () {
      dir = tmpDir("report");
      const run = syntheticRun({ seeds: [7, 8], assets: ["ETH", "BTC"] });
      await writeReport(dir, {
        run,
        scenario: { name: "synthetic" },
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
        },
      });
    });

    it("writes metrics.json, run.json, series.csv, one PNG per chart and report.html", () => {
      const files = fs.readdirSync(dir).sort();
      expect(files).to.deep.equal(
        [...CHART_IDS.map((c) => `${c}.png`), "metrics.json", "report.html", "run.json", "series.csv"].sort(),
      );
      const metrics = fs.readFileSync(path.join(dir, "metrics.json"), "utf8");
      const r = syntheticRun({ seeds: [7, 8], assets: ["ETH", "BTC"] });
      expect(metrics).to.equal(serializeMetrics(withStatistics(aggregate(r), r)));
      expect(metrics).to.contain('"statistics": {'); // two seeds: the statistics key (sim/stats.ts)
      const info = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as Record<string, unknown>;
      expect(info.setupMs).to.equal(1234);
      expect(info.reportMs).to.be.a("number");
      expect(info.totalMs as number).to.be.at.least(info.reportMs as number);
    });

    it("report.html inlines one <svg> per chart, the metrics table and no script", () => {
      const html = fs.readFileSync(path.join(dir, "report.html"), "utf8");
      for (const id of CHART_IDS) {
        const section = html.split(`<section id="${id}">`)[1]?.split("</section>")[0] ?? "";
        expect(section, id).to.match(/<svg[^>]*class="marks"/);
        expect(section).to.contain(`${id}.png`);
      }
      expect(html.match(/<svg /g)?.length).to.equal(CHART_IDS.length);
      expect(html).to.contain("<td><code>excessLiquidatedNotionalUsd</code></td>");
      expect(html).to.not.match(/<script|https?:\/\/(?!www\.w3\.org)/);
    });

    it("PNGs are valid PNG files with sane dimensions", () => {
      for (const id of CHART_IDS) {
        const { width, height } = pngSize(fs.readFileSync(path.join(dir, `${id}.png`)));
        expect(width, id).to.be.within(600, 3000);
        expect(height, id).to.be.within(200, 4000);
      }
    });

    it("the heatmap draws the depth bands and the long and short buckets", () => {
      const html = fs.readFileSync(path.join(dir, "report.html"), "utf8");
      const heat = html.split('<section id="heatmap">')[1].split("</section>")[0];
      expect(heat).to.contain("venue depth in band (USD)");
      expect(heat).to.contain("long");
      expect(heat).to.contain("short");
      expect(heat).to.contain("initial 3000");
    });
  });

  describe("chart decimation", () => {
    it("keeps short lines whole and long lines' spikes, ends and order", () => {
      const short = Array.from({ length: 100 }, (_, b) => ({ block: b, usd: b }));
      expect(decimate(short, "usd")).to.equal(short);
      const long = Array.from({ length: 10_000 }, (_, b) => ({ block: b, usd: b === 4321 ? 10 : b === 777 ? -5 : 1 }));
      const d = decimate(long, "usd");
      expect(d.length).to.be.at.most(MAX_POINTS_PER_LINE);
      expect(d.length).to.be.greaterThan(MAX_POINTS_PER_LINE / 4); // ≥ first and last of each bucket
      expect(d.map((x) => x.block)).to.include.members([0, 777, 4321, 9999]);
      expect(d.map((x) => x.block)).to.deep.equal([...d.map((x) => x.block)].sort((a, b) => a - b));
    });
  });

  describe("progress lines", () => {
    it("print phases once and a line per 10% of each run", () => {
      const lines: string[] = [];
      const p = lineProgress((l) => lines.push(l));
      p({ phase: "deploy" });
      p({ phase: "populate" });
      for (const runIndex of [0, 1])
        for (let block = 0; block <= 200; block++)
          p({
            phase: "run",
            mode: runIndex === 0 ? "baseline" : "full",
            seed: 7,
            block,
            blocks: 200,
            runIndex,
            runs: 2,
          });
      p({ phase: "done" });
      expect(lines.filter((l) => l.includes("run 1/2 baseline seed 7"))).to.have.length(11);
      expect(lines.filter((l) => l.includes("run 2/2 full seed 7"))).to.have.length(11);
      expect(lines[0]).to.equal("[lab] deploy…");
      expect(lines.at(-1)).to.equal("[lab] runs done");
      expect(lines).to.contain("[lab] run 2/2 full seed 7: block 100/200 (50%)");
    });
  });

  describe("command options", () => {
    const tiny = path.join(FIXTURES, "tiny.json");

    it("defaults come from the scenario; --seeds N runs seed..seed+N−1", () => {
      const r = resolveRun({ scenario: tiny, progress: "off" });
      expect(r.modes).to.deep.equal(["baseline", "full"]);
      expect(r.seeds).to.deep.equal([3]);
      const r2 = resolveRun({ scenario: tiny, modes: " full,auction ", seeds: "3", seed: 10, progress: "lines" });
      expect(r2.modes).to.deep.equal(["full", "auction"]);
      expect(r2.seeds).to.deep.equal([10, 11, 12]);
      expect(r2.progress).to.equal("lines");
    });

    it("rejects bad options and bad scenarios with a user error", () => {
      expect(() => resolveRun({ scenario: tiny, seeds: "0" })).to.throw(UsageError, "--seeds");
      expect(() => resolveRun({ scenario: tiny, seeds: "two" })).to.throw(UsageError, "--seeds");
      expect(() => resolveRun({ scenario: tiny, modes: "full,full" })).to.throw(UsageError, "twice");
      expect(() => resolveRun({ scenario: tiny, progress: "fancy" })).to.throw(UsageError, "--progress");
      expect(() => resolveRun({ scenario: path.join(FIXTURES, "invalid.json") })).to.throw(ScenarioError);
      expect(() => resolveRun({ scenario: path.join(FIXTURES, "missing.json") })).to.throw(ScenarioError, "(file)");
    });

    it("simulate() passes modes and seeds to the engine and writes the report", async () => {
      const calls: { modes?: string[]; seeds?: number[] }[] = [];
      const fakeEngine: RunScenarioFn = async (_hre, scenario, opts) => {
        calls.push({ modes: opts.modes, seeds: opts.seeds });
        opts.onProgress?.({ phase: "deploy" });
        const run = syntheticRun({ modes: opts.modes, seeds: opts.seeds, blocks: scenario.blocks });
        run.scenario.name = scenario.name;
        return run;
      };
      const out = tmpDir("cli");
      const logged: string[] = [];
      const res = await simulate(hre, {
        scenario: tiny,
        modes: "full,baseline",
        seeds: 2,
        out,
        progress: "off",
        log: (l) => logged.push(l),
        runScenario: fakeEngine,
      });
      expect(calls).to.deep.equal([{ modes: ["full", "baseline"], seeds: [3, 4] }]);
      expect(res.metrics.scenario).to.equal("front-tiny");
      expect(Object.keys(res.metrics.modes)).to.deep.equal(["full", "baseline"]);
      expect(fs.existsSync(path.join(out, "report.html"))).to.equal(true);
      const info = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8")) as Record<string, unknown>;
      expect(info.network).to.equal("hardhat");
      expect(info.chainId).to.equal(31337);
      expect(logged.join("\n")).to.match(/metric\s+full\s+baseline/);
    });
  });

  describe("invalid scenario on the command line", function () {
    this.timeout(120_000);
    function hardhat(...args: string[]) {
      return spawnSync("npx", ["hardhat", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, FORCE_COLOR: "0" },
      });
    }

    it("npx hardhat simulate exits non-zero, listing every bad field path, without a stack trace", () => {
      const r = hardhat("simulate", "--scenario", path.join(FIXTURES, "invalid.json"));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain("invalid scenario");
      for (const p of [
        "assets[0].oracle.deviationBps",
        "assets[0].oracle.lagSec",
        "assets[0].fundamental.recoverBlocks",
      ])
        expect(r.stderr).to.contain(p);
      expect(r.stderr + r.stdout).to.not.match(/\n\s+at /);
    });

    it("a bad option exits non-zero with the option's name", () => {
      const r = hardhat("simulate", "--scenario", path.join(FIXTURES, "tiny.json"), "--seeds", "0");
      expect(r.status).to.equal(1);
      expect(r.stderr).to.contain("--seeds must be an integer ≥ 1");
      expect(r.stderr + r.stdout).to.not.match(/\n\s+at /);
    });
  });
});

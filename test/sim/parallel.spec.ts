/**
 * Issue 25, acceptance 3: `--jobs 2` writes metrics.json and series.csv byte-identical to
 * `--jobs 1`. Runs the tiny scenario (2 modes × 3 seeds) through the real command in fresh
 * processes: serially in-process, then over 2 workers (one worker runs two seeds in turn, so a
 * worker's reuse of its chain between units is covered too).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { combine, planUnits } from "../../sim/parallel";
import { RunsTracker } from "../../sim/report/progress";
import type { RunResult, ScenarioRun } from "../../sim/types";

const ROOT = path.join(__dirname, "..", "..");
const TINY = path.join(__dirname, "fixtures", "tiny.json");

function simulate(out: string, jobs: number): string {
  const args = ["hardhat", "simulate", "--scenario", TINY, "--seeds", "3", "--jobs", String(jobs), "--out", out];
  const r = spawnSync("npx", [...args, "--progress", "lines"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  if (r.status !== 0) throw new Error(`simulate --jobs ${jobs} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

describe("lab parallel runs: --jobs 2 is byte-identical to --jobs 1", function () {
  this.timeout(600_000);
  let base: string;
  let parallelLog = "";

  before(function () {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-par-"));
    simulate(path.join(base, "serial"), 1);
    parallelLog = simulate(path.join(base, "parallel"), 2);
  });

  after(function () {
    fs.rmSync(base, { recursive: true, force: true });
  });

  for (const file of ["metrics.json", "series.csv"]) {
    it(`writes ${file} byte for byte as the serial run`, () => {
      const a = fs.readFileSync(path.join(base, "serial", file));
      const b = fs.readFileSync(path.join(base, "parallel", file));
      expect(a.length).to.be.greaterThan(500);
      expect(b.toString("utf8")).to.equal(a.toString("utf8"));
    });
  }

  it("ran over 2 workers with one progress display over all 6 runs", () => {
    expect(parallelLog).to.match(/2 workers/);
    expect(parallelLog).to.match(/runs 6\/6 done, blocks 180\/180 \(100%\)/);
    const info = JSON.parse(fs.readFileSync(path.join(base, "parallel", "run.json"), "utf8")) as {
      runs: { mode: string; seed: number }[];
    };
    expect(info.runs.map((r) => `${r.mode}/${r.seed}`)).to.deep.equal([
      "baseline/3",
      "full/3",
      "baseline/4",
      "full/4",
      "baseline/5",
      "full/5",
    ]);
  });
});

describe("lab parallel runs: plan, assembly and progress", () => {
  it("plans a unit per seed with enough seeds, a unit per run otherwise", () => {
    expect(planUnits([1, 2, 3], ["a", "b"], 2).map((u) => [u.seed, u.modes, u.firstRun])).to.deep.equal([
      [1, ["a", "b"], 0],
      [2, ["a", "b"], 2],
      [3, ["a", "b"], 4],
    ]);
    expect(planUnits([7], ["a", "b"], 2).map((u) => [u.seed, u.modes, u.firstRun])).to.deep.equal([
      [7, ["a"], 0],
      [7, ["b"], 1],
    ]);
  });

  it("assembles the units' runs in serial order, whatever order they finished in", () => {
    const units = planUnits([7], ["a", "b"], 2);
    const run = (mode: string): ScenarioRun => ({
      scenario: { name: "s", blocks: 1, blockTimeSec: 12, assets: [] },
      seeds: [7],
      modes: [mode],
      heatmap: [],
      depth: [],
      runs: [{ mode, seed: 7, metrics: {}, series: [], wallMs: 1 } as unknown as RunResult],
      setupMs: 5,
    });
    const out = combine(units, [run("a"), run("b")], ["a", "b"], [7]);
    expect(out.runs.map((r) => r.mode)).to.deep.equal(["a", "b"]);
    expect(out.modes).to.deep.equal(["a", "b"]);
    expect(out.setupMs).to.equal(10);
    expect(() => combine(units, [run("a"), run("a")], ["a", "b"], [7])).to.throw(/no result for mode b/);
  });

  it("tracks blocks over interleaved runs and estimates the time left", () => {
    let now = 0;
    const t = new RunsTracker(2, () => now);
    t.update({ phase: "run", runIndex: 1, block: 5, blocks: 10 });
    now = 5_000;
    t.update({ phase: "run", runIndex: 0, block: 10, blocks: 10 });
    expect(t.total).to.equal(20);
    expect(t.done).to.equal(15);
    expect(t.runsDone).to.equal(1);
    expect(t.etaSec()).to.be.closeTo((5 * 5) / 15, 1e-9);
    expect(t.line()).to.equal("runs 1/2 done, blocks 15/20 (75%), ETA 2s");
  });
});

/**
 * Acceptance 3 (issue #6): the same scenario and seed give a byte-identical metrics.json. Runs a
 * small scenario twice through the real command (`npx hardhat simulate`, two fresh processes on
 * the in-process chain, the real engine) and compares the bytes; wall-clock figures go to run.json.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { METRIC_NAMES } from "../../sim/types";

const ROOT = path.join(__dirname, "..", "..");
const TINY = path.join(__dirname, "fixtures", "tiny.json");

describe("lab end to end: reproducible metrics.json", function () {
  this.timeout(900_000);
  const outs: string[] = [];
  const stdouts: string[] = [];

  before(function () {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-e2e-"));
    for (const i of [1, 2]) {
      const out = path.join(base, `run${i}`);
      const r = spawnSync("npx", ["hardhat", "simulate", "--scenario", TINY, "--out", out, "--progress", "lines"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, FORCE_COLOR: "0" },
      });
      if (r.status !== 0) throw new Error(`simulate exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
      outs.push(out);
      stdouts.push(r.stdout);
    }
  });

  it("writes byte-identical metrics.json for the same scenario and seed", () => {
    const a = fs.readFileSync(path.join(outs[0], "metrics.json"));
    const b = fs.readFileSync(path.join(outs[1], "metrics.json"));
    expect(a.length).to.be.greaterThan(100);
    expect(a.equals(b)).to.equal(true);
    const m = JSON.parse(a.toString("utf8")) as { scenario: string; seeds: number[]; modes: Record<string, object> };
    expect(m.scenario).to.equal("front-tiny");
    expect(m.seeds).to.deep.equal([3]);
    expect(Object.keys(m.modes)).to.deep.equal(["baseline", "full"]);
    for (const mode of ["baseline", "full"]) expect(Object.keys(m.modes[mode])).to.deep.equal([...METRIC_NAMES]);
  });

  it("writes the same series.csv, and wall-clock figures only to run.json", () => {
    expect(
      fs.readFileSync(path.join(outs[0], "series.csv")).equals(fs.readFileSync(path.join(outs[1], "series.csv"))),
    ).to.equal(true);
    const info = JSON.parse(fs.readFileSync(path.join(outs[0], "run.json"), "utf8")) as Record<string, unknown>;
    expect(info.setupMs).to.be.a("number");
    expect(info.runs).to.have.length(2);
    expect(fs.readFileSync(path.join(outs[0], "metrics.json"), "utf8")).to.not.match(/Ms"/);
  });

  it("prints the side-by-side table and writes the whole report", () => {
    expect(stdouts[0]).to.match(/metric\s+baseline\s+full/);
    expect(stdouts[0]).to.match(/excessLiquidatedNotionalUsd/);
    for (const f of ["report.html", "heatmap.png", "prices.png", "series.csv", "run.json"])
      expect(fs.existsSync(path.join(outs[0], f)), f).to.equal(true);
    const rows = fs.readFileSync(path.join(outs[0], "series.csv"), "utf8").trimEnd().split("\n").slice(1);
    const phases = rows.map((l) => l.split(",")[3]);
    expect(phases.filter((p) => p === "run")).to.have.length(2 * 30); // two modes × 30 blocks × one asset
    const m = JSON.parse(fs.readFileSync(path.join(outs[0], "metrics.json"), "utf8"));
    const drained = (m.modes.baseline.drainBlocks as number) + (m.modes.full.drainBlocks as number);
    expect(phases.filter((p) => p === "drain")).to.have.length(drained);
  });
});

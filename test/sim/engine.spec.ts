import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadScenario, parseScenario, type Scenario } from "../../sim/scenario";
import { METRIC_NAMES } from "../../sim/types";
import { runScenario } from "../../sim/engine";
import { AUCTION, MARKET, SKEW_SCALE_USD } from "../../sim/engine/world";
import { Chain, type TxRequest } from "../../sim/engine/chain";

const SCENARIOS = path.join(__dirname, "..", "..", "sim", "scenarios");

describe("lab engine", function () {
  this.timeout(600_000);

  it("ships at least nine scenarios, every one valid", () => {
    const files = fs.readdirSync(SCENARIOS).filter((f) => f.endsWith(".json"));
    expect(files.length).to.be.at.least(9);
    for (const f of files) {
      const s = loadScenario(path.join(SCENARIOS, f));
      expect(`${s.name}.json`).to.equal(f);
    }
    expect(files).to.include("thin-books-flash-crash.json");
    expect(files).to.include("ground-truth.json");
  });

  it("ground truth: one trader, one shock, outcome computed by hand", async () => {
    const s = loadScenario(path.join(SCENARIOS, "ground-truth.json"));
    const run = await runScenario(hre, s, { modes: ["baseline"] });
    const m = run.runs[0].metrics;

    // By hand, from the scenario's numbers and the documented rules (docs/lab-world.md).
    const a = s.assets[0];
    const p0 = a.initialPriceUsd;
    const n = s.population.notionalUsd.median;
    const lev = s.population.leverage.median;
    if (a.fundamental.type !== "shock") throw new Error("ground truth is a shock");
    const p1 = p0 * (1 - a.fundamental.dropPct / 100);
    const size = n / p0; // base units, long
    const deposit = n / lev + MARKET.takerFee * n; // equity at p0 = notional / leverage, plus the fee
    const skewScale = SKEW_SCALE_USD / p0;
    const fill = p0 * (1 + size / (2 * skewScale)); // PerpMath.fillPrice from zero skew
    const fee = MARKET.takerFee * size * fill;
    const loss = size * (fill - p1); // the instant liquidation closes everything at the oracle, p1
    const bonus = AUCTION.instantBonus * size * p1;
    const shortfall = -(deposit - fee - loss - bonus);

    expect(shortfall).to.be.greaterThan(0);
    expect(m.liquidations).to.equal(1);
    expect(m.liquidatedNotionalUsd).to.be.closeTo(size * p1, 0.01);
    expect(m.badDebtUsd).to.be.closeTo(shortfall, 0.01);
    expect(m.excessLiquidatedNotionalUsd).to.equal(0);
    expect(m.traderLiquidationCostUsd).to.be.closeTo(bonus, 0.01);
  });

  it("reproducible: the same scenario and seed give deep-equal metrics and series", async () => {
    const s: Scenario = parseScenario({
      ...JSON.parse(fs.readFileSync(path.join(SCENARIOS, "thin-books-flash-crash.json"), "utf8")),
      blocks: 36,
    });
    s.population.traders = 30;
    const a = await runScenario(hre, s, { modes: ["auction"], seeds: [3] });
    const b = await runScenario(hre, s, { modes: ["auction"], seeds: [3] });
    expect(a.runs[0].series.filter((r) => r.phase === "run").length).to.equal(36);
    expect(a.runs[0].series.length).to.equal(36 + a.runs[0].metrics.drainBlocks);
    expect(a.runs[0].metrics).to.deep.equal(b.runs[0].metrics);
    expect(a.runs[0].series).to.deep.equal(b.runs[0].series);
    expect(a.heatmap).to.deep.equal(b.heatmap);
  });

  it("a short baseline run of a shipped scenario liquidates, with well-formed output", async () => {
    const s = loadScenario(path.join(SCENARIOS, "one-block-wick.json"));
    const run = await runScenario(hre, s, { modes: ["baseline"] });
    expect(run.modes).to.deep.equal(["baseline"]);
    expect(run.seeds).to.deep.equal([s.seed]);
    expect(run.runs).to.have.length(1);
    const r = run.runs[0];
    for (const k of METRIC_NAMES) expect(r.metrics[k], k).to.be.a("number");
    expect(r.metrics.liquidations).to.be.greaterThan(0);
    expect(r.metrics.liquidatedNotionalUsd).to.be.greaterThan(0);
    expect(r.metrics.txCount).to.be.greaterThan(0);
    expect(r.series).to.have.length((s.blocks + r.metrics.drainBlocks) * s.assets.length);
    expect(r.series.reduce((x, row) => x + row.liquidations, 0)).to.equal(r.metrics.liquidations);
    expect(run.heatmap.length).to.be.greaterThan(0);
    expect(run.depth).to.have.length(2 * s.assets[0].venue.bands.length);
  });

  it("sendBlock: a block's transactions from several senders are mined in array order, whatever the arrival", async () => {
    const chain = await Chain.connect(hre.network.provider);
    const [a, b, c] = await hre.ethers.getSigners();
    // Interleaved senders, each with several transactions (plain value transfers to distinct targets).
    const order = [a, b, a, c, b, a, c, c, b, a];
    const txs: TxRequest[] = order.map((s, i) => ({
      from: s.address,
      to: "0x" + (0x1000 + i).toString(16).padStart(40, "0"),
      data: "0x",
      gas: 30_000,
    }));
    await chain.setAutomine(false);
    let hashes: string[];
    try {
      hashes = await chain.sendBlock(txs);
      await chain.mine();
    } finally {
      await chain.setAutomine(true);
    }
    const block = await hre.ethers.provider.getBlock("latest");
    expect(block?.transactions).to.deep.equal(hashes);
    const receipts = await Promise.all(hashes.map((h) => chain.receipt(h)));
    expect(receipts.every((r) => r !== null && r.status === "0x1")).to.equal(true);
    expect(new Set(receipts.map((r) => r?.blockNumber)).size).to.equal(1);
  });

  it("full: bidders take the pool's short lots (priced oracle × (2 − m)) at their discount in a squeeze", async () => {
    // A short squeeze liquidates shorts only: under pool takeover every lot is a short pool lot.
    const s: Scenario = parseScenario({
      ...JSON.parse(fs.readFileSync(path.join(SCENARIOS, "short-squeeze.json"), "utf8")),
      blocks: 60,
    });
    s.population.traders = 60;
    delete s.keepers.outage; // keepers on throughout, so that 60 blocks see kicks and takes
    const run = await runScenario(hre, s, { modes: ["full"] });
    const r = run.runs[0];
    expect(r.metrics.liquidations).to.be.greaterThan(0);
    const takes = r.series.filter((row) => row.clearingDiscountPct !== null);
    expect(takes.length, "blocks with a take").to.be.greaterThan(0);
    // The bidders ask 1.5% (minDiscountBps 150): a short lot clears at least that far above the oracle.
    const minDiscountPct = s.keepers.minDiscountBps / 100;
    for (const row of takes) expect(row.clearingDiscountPct as number).to.be.at.least(minDiscountPct - 0.01);
  });
});

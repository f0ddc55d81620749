/** Issue 25, item 2: quantiles, bootstrap intervals and the paired comparison (sim/stats.ts). */
import { expect } from "chai";
import { aggregate, quantile, serializeMetrics } from "../../sim/aggregate";
import { textTable } from "../../sim/report/table";
import { bootstrapMeanInterval, computeStatistics, paired, summarize, withStatistics } from "../../sim/stats";
import { METRIC_NAMES, type Metrics, type RunResult, type ScenarioRun } from "../../sim/types";

function metrics(over: Partial<Metrics>): Metrics {
  const m = Object.fromEntries(METRIC_NAMES.map((k) => [k, 0])) as unknown as Metrics;
  return { ...m, ...over };
}

/** baseline and full over seeds 1..4; full has less bad debt on 3 seeds, equal on one. */
function run(): ScenarioRun {
  const bad = { baseline: [100, 200, 50, 0], full: [10, 20, 50, 0] };
  const runs: RunResult[] = [];
  for (const [i, seed] of [1, 2, 3, 4].entries())
    for (const mode of ["baseline", "full"] as const)
      runs.push({ mode, seed, metrics: metrics({ badDebtUsd: bad[mode][i], liquidations: i }), series: [], wallMs: 1 });
  return {
    scenario: { name: "syn", blocks: 1, blockTimeSec: 12, assets: ["ETH"] },
    seeds: [1, 2, 3, 4],
    modes: ["baseline", "full"],
    heatmap: [],
    depth: [],
    runs,
    setupMs: 1,
  };
}

describe("lab statistics", () => {
  it("quantiles by linear interpolation (type 7), by hand", () => {
    const v = [5, 1, 4, 2, 3];
    expect(quantile(v, 0.05)).to.be.closeTo(1.2, 1e-12); // position 4 × 0.05 = 0.2
    expect(quantile(v, 0.5)).to.equal(3);
    expect(quantile(v, 0.95)).to.be.closeTo(4.8, 1e-12);
    const s = summarize([10, 20, NaN, 30, 40], 1, 1);
    expect([s.n, s.p5, s.p50, s.p95, s.mean]).to.deep.equal([4, 11.5, 25, 38.5, 25]);
  });

  it("bootstrap interval of the mean against hand-computed cases", () => {
    expect(bootstrapMeanInterval([2, 2, 2], 7)).to.deep.equal([2, 2]);
    expect(bootstrapMeanInterval([5], 7)).to.deep.equal([5, 5]);
    // Resample means of [0, 1] are 0, 0.5, 1 with probability 1/4, 1/2, 1/4: both 2.5% tails fall on the ends.
    expect(bootstrapMeanInterval([0, 1], 7)).to.deep.equal([0, 1]);
    // 0..99: mean 49.5, standard error 28.87 / 10 = 2.887, so about 49.5 ± 1.96 × 2.887.
    const [lo, hi] = bootstrapMeanInterval(
      Array.from({ length: 100 }, (_, i) => i),
      7,
    );
    expect(lo).to.be.closeTo(49.5 - 5.66, 0.8);
    expect(hi).to.be.closeTo(49.5 + 5.66, 0.8);
    expect(() => bootstrapMeanInterval([], 1)).to.throw(/empty/);
  });

  it("is deterministic: the same seed gives the same interval, another seed another", () => {
    const v = [3, 8, 1, 9, 4, 7, 2];
    expect(bootstrapMeanInterval(v, 42, 3)).to.deep.equal(bootstrapMeanInterval(v, 42, 3));
    expect(bootstrapMeanInterval(v, 42, 3)).to.not.deep.equal(bootstrapMeanInterval(v, 43, 3));
    expect(serializeMetrics(withStatistics(aggregate(run()), run()))).to.equal(
      serializeMetrics(withStatistics(aggregate(run()), run())),
    );
  });

  it("paired difference and win rate on a synthetic input", () => {
    const p = paired([1, 5, 3, NaN], [2, 5, 1, 4], "lower", 1, 1);
    expect(p.n).to.equal(3); // the seed with a NaN is left out
    expect([p.wins, p.ties, p.losses]).to.deep.equal([1, 1, 1]);
    expect(p.winRate).to.equal(0.333333333333);
    expect(p.diffMean).to.equal(0.333333333333); // (−1 + 0 + 2) / 3
    expect(p.diffLo as number).to.be.at.least(-1);
    expect(p.diffHi as number).to.be.at.most(2);
    const up = paired([1, 5, 3], [2, 5, 1], "higher", 1, 1);
    expect([up.wins, up.losses]).to.deep.equal([1, 1]);
    const unknown = paired([1, 5, 3], [2, 5, 1], undefined, 1, 1);
    expect([unknown.wins, unknown.winRate, unknown.diffMean]).to.deep.equal([null, null, 0.333333333333]);
  });

  it("compares every mode with baseline on the same seeds; an unknown metric gets no direction", () => {
    const st = computeStatistics(run(), [...METRIC_NAMES, "newMetricUsd"]);
    expect(st.bootstrapSeed).to.equal(1);
    expect(st.directions.badDebtUsd).to.equal("lower");
    expect(st.directions.newMetricUsd).to.equal(null);
    expect(st.modes.baseline.badDebtUsd.vsBaseline).to.equal(undefined);
    const vs = st.modes.full.badDebtUsd.vsBaseline!;
    expect([vs.n, vs.wins, vs.ties, vs.losses, vs.winRate]).to.deep.equal([4, 2, 2, 0, 0.5]);
    expect(vs.diffMean).to.equal(-67.5); // (−90 − 180 + 0 + 0) / 4
    expect(st.modes.full.liquidations.vsBaseline!.winRate).to.equal(null); // no direction
    expect(st.modes.full.newMetricUsd.n).to.equal(0);
    expect(st.modes.full.newMetricUsd.p50).to.equal(null);
  });

  it("adds statistics to metrics.json after modes with several seeds only, and p50 [p5, p95] to the table", () => {
    const file = withStatistics(aggregate(run()), run());
    expect(Object.keys(file)).to.deep.equal(["scenario", "seeds", "modes", "statistics"]);
    const one = { ...run(), seeds: [1], runs: run().runs.filter((r) => r.seed === 1) };
    expect(Object.keys(withStatistics(aggregate(one), one))).to.deep.equal(["scenario", "seeds", "modes"]);
    const table = textTable(file);
    expect(table).to.contain("p50 [p5, p95] over 4 seeds");
    expect(table).to.match(/badDebtUsd\s+75 \[7\.50, 185\]\s+15 \[1\.50, 45\.50\]/);
    expect(table).to.contain("full beats baseline on: ");
    expect(table).to.contain("badDebtUsd 50% (2 ties)");
  });
});

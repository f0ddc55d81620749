/**
 * Issue 22, item 4 (fair baselines): the hedger policy is the scenario's in every mode (the old
 * engine forced unlimited hedging in instant mode), and the two named instant baselines close what
 * they say: `instant-aave` a partial slice, `instant-gmx` the whole position.
 */
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { loadScenario, type Scenario } from "../../sim/scenario";
import { MODES, runScenario } from "../../sim/engine";
import { BASELINE_ALIAS_OF } from "../../sim/engine/modes";
import { hedgerTxs } from "../../sim/engine/phases/hedger";
import type { AuctionInfo, RunContext, RunState } from "../../sim/engine/phases/context";
import { requiredDiscountBps, takePays } from "../../sim/engine/phases/bidders";
import { SimAgent__factory } from "../../typechain-types";

const SCENARIOS = path.join(__dirname, "..", "..", "sim", "scenarios");
const MAX_UINT = (1n << 256n) - 1n;

/** The hedger's cap per asset in one block of `mode` under a rate-limited hedger. */
function hedgerCaps(mode: string, usdPerBlock: number, liquidated: bigint): bigint[] {
  const s = loadScenario(path.join(SCENARIOS, "thin-books-flash-crash.json"));
  const scenario: Scenario = { ...s, hedger: { mode: "rate-limited", usdPerBlock } };
  const agent = SimAgent__factory.createInterface();
  const ctx = {
    w: {
      admin: "0x" + "11".repeat(20),
      agentAddrs: { hedger: "0x" + "22".repeat(20) },
      ifaces: { agent },
      assets: [{ index: 0, decimals: 18 }],
    },
    scenario,
    pop: { hedgerAnchors: [0n] },
    mode: MODES[mode],
    instant: MODES[mode].liquidation === "instant",
  } as unknown as RunContext;
  const st = { liquidatedBase: [liquidated] } as unknown as RunState;
  return hedgerTxs(ctx, st, { b: 0, now: 0, prevVenue: [2_000] }).map(
    (tx) => agent.decodeFunctionData("hedgePool", tx.data)[2] as bigint,
  );
}

describe("fair baselines (issue 22, item 4)", function () {
  this.timeout(300_000);

  it("the forced instant hedger: a rate-limited hedger is rate-limited in instant mode too", () => {
    // $400k a block at $2,000: 200 base units (18 decimals). The old engine sent type(uint256).max.
    const budget = 200n * 10n ** 18n;
    for (const mode of ["baseline", "instant-aave", "auction", "full"])
      expect(hedgerCaps(mode, 400_000, 0n)).to.deep.equal([budget]);
    expect(hedgerCaps("baseline", 400_000, 0n)[0]).to.not.equal(MAX_UINT);
    // instant-aave's liquidator sells what it liquidated, on top of the budget; instant-gmx's pool is unhedged.
    expect(hedgerCaps("instant-aave", 400_000, 5n * 10n ** 18n)).to.deep.equal([budget + 5n * 10n ** 18n]);
    expect(hedgerCaps("full", 400_000, 5n * 10n ** 18n)).to.deep.equal([budget]);
    expect(hedgerCaps("instant-gmx", 400_000, 5n * 10n ** 18n)).to.deep.equal([]);
  });

  it("baseline is an alias of instant-aave", () => {
    expect(BASELINE_ALIAS_OF).to.equal("instant-aave");
    expect({ ...MODES.baseline, name: "x" }).to.deep.equal({ ...MODES[BASELINE_ALIAS_OF], name: "x" });
  });

  it("instant-aave closes part of a position just below MM; instant-gmx closes all of it", async () => {
    // The ground truth's one 15x long with a 5% fall: health ≈ 0.67, so the target-health slice
    // is ≈ 83% of the position; a full close is all of it.
    const base = loadScenario(path.join(SCENARIOS, "ground-truth.json"));
    const a = base.assets[0];
    if (a.fundamental.type !== "shock") throw new Error("ground truth is a shock");
    const s: Scenario = { ...base, assets: [{ ...a, fundamental: { ...a.fundamental, dropPct: 5 } }] };
    const run = await runScenario(hre, s, { modes: ["instant-aave", "instant-gmx"] });
    const [aave, gmx] = run.runs.map((r) => r.metrics);
    const whole = s.population.notionalUsd.median * 0.95; // the position at the oracle after the fall
    expect(gmx.liquidations).to.equal(1);
    expect(gmx.liquidatedNotionalUsd).to.be.closeTo(whole, whole * 0.01);
    expect(aave.liquidations).to.equal(1);
    expect(aave.liquidatedNotionalUsd).to.be.within(whole * 0.7, whole * 0.9);
    // The liquidator's bonus: 1% (instant-aave) against the keeper reward rate, 0.1% (instant-gmx).
    expect(aave.traderLiquidationCostUsd).to.be.closeTo(aave.liquidatedNotionalUsd * 0.01, 1);
    expect(gmx.traderLiquidationCostUsd).to.be.closeTo(gmx.liquidatedNotionalUsd * 0.001, 1);
  });
});

describe("bidders who need a profit (issue 22, item 5)", () => {
  const ctxWith = (keepers: Partial<Scenario["keepers"]>): RunContext =>
    ({
      scenario: { keepers: { minDiscountBps: 150, ...keepers } },
      w: { assets: [{ index: 0, decimals: 18 }] },
    }) as unknown as RunContext;
  const stWith = (venue: number[]): RunState =>
    ({ oracle: [100], venueAt: (_a: number, b: number) => venue[Math.max(0, b + 1)] }) as unknown as RunState;
  const lot = (short: boolean): AuctionInfo =>
    ({
      account: "0x",
      asset: 0,
      kind: 0,
      short,
      startTime: 0,
      lot: (short ? -1n : 1n) * 10n ** 18n,
      kicks: 1,
    }) as AuctionInfo;
  const POSITION_ID = 5n; // kind byte (bits 8-15) 0: LotKind.Position

  it("the required discount grows with the venue's recent volatility", () => {
    const calm = stWith(new Array(12).fill(100));
    const wild = stWith([100, 104, 97, 103, 96, 104, 98, 103, 95, 102, 99, 101]);
    const ctx = ctxWith({ volDiscount: { bpsPerVolPct: 100, windowBlocks: 10 } });
    expect(requiredDiscountBps(ctx, calm, 10)).to.equal(150);
    expect(requiredDiscountBps(ctx, wild, 10)).to.be.greaterThan(400);
    expect(requiredDiscountBps(ctxWith({}), wild, 10)).to.equal(150);
  });

  it("a take is made only if it pays its gas at the venue price", () => {
    const st = stWith([100]);
    // One unit at 2% below a $100 oracle: $2 of edge if the venue is at the oracle.
    const noGas = ctxWith({});
    const gas = ctxWith({ gas: { priceGwei: 10, nativeUsd: 3000 } }); // 400k gas: $12
    expect(takePays(noGas, st, POSITION_ID, lot(false), 0.98, 100)).to.equal(true);
    expect(takePays(gas, st, POSITION_ID, lot(false), 0.98, 100)).to.equal(false);
    // The venue below the auction price: a long lot loses money even without gas.
    expect(takePays(noGas, st, POSITION_ID, lot(false), 0.98, 97)).to.equal(false);
    // A short lot is sold at oracle × (2 − m) and bought back on the venue.
    expect(takePays(noGas, st, POSITION_ID, lot(true), 0.98, 100)).to.equal(true);
    expect(takePays(noGas, st, POSITION_ID, lot(true), 0.98, 103)).to.equal(false);
  });
});

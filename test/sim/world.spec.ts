/**
 * Issue 22, items 1 and 2: the outside market (the arbitrageur never runs dry, and every dollar it
 * moves has a booked counterparty) and the external oracle's noise.
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { parseScenario, type Scenario } from "../../sim/scenario";
import { runScenario } from "../../sim/engine";
import { oracleNoisePath, fundamentalAt, type RunContext, type RunState } from "../../sim/engine/phases/context";
import { tokenBalance } from "../../sim/engine/views";
import { QUOTE_DECIMALS } from "../../sim/engine/world";

const SCENARIOS = path.join(__dirname, "..", "..", "sim", "scenarios");
const SHIPPED = fs.readdirSync(SCENARIOS).filter((f) => f.endsWith(".json"));

function shipped(file: string): Scenario {
  return parseScenario(JSON.parse(fs.readFileSync(path.join(SCENARIOS, file), "utf8")), file);
}

/** Every address that can hold the lab's tokens in a run. */
async function holders(ctx: RunContext): Promise<string[]> {
  const { w } = ctx;
  const vault = w.vault as unknown as { pool(): Promise<string>; insuranceFund(): Promise<string> };
  return [
    w.admin,
    w.vaultAddr,
    w.auctionAddr,
    await vault.pool(),
    await vault.insuranceFund(),
    ...w.assets.map((a) => a.pool),
    ...(await Promise.all(
      Object.values(w.agents)
        .flat()
        .map((a) => a.getAddress()),
    )),
    ...ctx.pop.traders.map((t) => t.address),
  ];
}

async function seq<T, R>(xs: T[], f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const x of xs) out.push(await f(x));
  return out;
}

interface Snap {
  balances: bigint[][];
  supply: bigint[];
  delivered: bigint[];
  owedUsd: number;
}

async function snap(ctx: RunContext, st: RunState, who: string[]): Promise<Snap> {
  const { w } = ctx;
  const tokens = [w.usdcAddr, ...w.assets.map((a) => a.tokenAddr)];
  const supplyOf = async (t: string): Promise<bigint> =>
    BigInt(await w.chain.call(t, w.usdc.interface.encodeFunctionData("totalSupply")));
  return {
    balances: await seq(tokens, (t) => seq(who, (h) => tokenBalance(w, t, h))),
    supply: await seq(tokens, supplyOf),
    delivered: [...st.outside!.delivered],
    owedUsd: st.outside!.owedUsd,
  };
}

describe("outside market and oracle (issue 22, items 1-2)", function () {
  this.timeout(900_000);

  it("the arbitrageur running dry: with the outside market the venue follows the fundamental", async () => {
    // The thin-book crash with $300k of arbitrage capital: a dry arbitrageur cannot lift the venue.
    const base = shipped("thin-books-flash-crash.json");
    const s: Scenario = {
      ...base,
      blocks: 90,
      drainBlocks: 0,
      population: { ...base.population, traders: 40 },
      arbitrage: { ...base.arbitrage, capitalUsd: 300_000 },
    };
    const gap = (sc: Scenario) => async (): Promise<number> => {
      const run = await runScenario(hre, sc, { modes: ["full"] });
      const last = run.runs[0].series[run.runs[0].series.length - 1];
      return Math.abs(last.venueUsd / last.fundamentalUsd - 1) * 100;
    };
    const dry = await gap({ ...s, arbitrage: { ...s.arbitrage, outsideMarket: false } })();
    const wet = await gap(s)();
    expect(dry, "gap without the outside market (%)").to.be.greaterThan(2);
    expect(wet, "gap with it (%)").to.be.lessThan(0.6);
  });

  it("the accounting identity: on every shipped scenario, every token moved has a booked counterparty", async () => {
    for (const file of SHIPPED) {
      const full = shipped(file);
      const s: Scenario = {
        ...full,
        blocks: Math.min(full.blocks, 30),
        drainBlocks: 0,
        population: { ...full.population, traders: Math.min(full.population.traders, 30) },
      };
      let first: Snap | undefined;
      let who: string[] = [];
      let end: Snap | undefined;
      let ctx: RunContext | undefined;
      const run = await runScenario(hre, s, {
        modes: [s.modes[s.modes.length - 1]],
        // Balances are read inside the run: it is undone (reverted) when it returns.
        onBlock: async (c, st, b) => {
          if (!first) {
            who = await holders(c);
            first = await snap(c, st, who);
          }
          if (b === s.blocks - 1) {
            ctx = c;
            end = await snap(c, st, who);
          }
        },
      });
      if (!ctx || !end || !first) throw new Error("no blocks observed");
      const [c, e, f0] = [ctx, end, first];
      const price = [1, ...c.w.assets.map((a) => fundamentalAt(c, a.index, s.blocks - 1))];
      const dec = [QUOTE_DECIMALS, ...c.w.assets.map((a) => a.decimals)];
      const usd = (x: bigint, i: number): number => (Number(x) / 10 ** dec[i]) * price[i];
      // The books at the last block's fundamental: every holder's change of tokens, the
      // arbitrageur's debt to the outside market, and the outside market's side of it.
      const owed = e.owedUsd - f0.owedUsd;
      let books = -owed + owed;
      e.supply.forEach((sup, i) => {
        const moved = e.balances[i].reduce((x, bal, h) => x + bal - f0.balances[i][h], 0n);
        const delivered = e.delivered[i] - f0.delivered[i];
        // Only the outside market creates tokens, and every token is held by a booked party.
        expect(sup - f0.supply[i], `${file}: supply of token ${i}`).to.equal(delivered);
        expect(moved, `${file}: holders of token ${i}`).to.equal(delivered);
        books += usd(moved, i) - usd(delivered, i);
      });
      expect(Math.abs(books), `${file}: the books' sum (USD)`).to.be.lessThan(0.01);
      expect(run.runs[0].metrics.txCount, file).to.be.greaterThan(0);
    }
  });

  it("the external oracle's noise: stationary AR(1) with the scenario's deviation and half-life, the same for every mode", () => {
    const spec = {
      deviationBps: 50,
      heartbeatSec: 3600,
      latencyBlocks: 1,
      source: "fundamental" as const,
      noiseBps: 20,
      noiseHalfLifeBlocks: 5,
    };
    const x = oracleNoisePath(spec, 20_000, 7, 0);
    const sd = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    expect(sd * 10_000).to.be.closeTo(20, 1.5);
    const lag1 = x.slice(1).reduce((s, v, i) => s + v * x[i], 0) / x.length / (sd * sd);
    expect(lag1).to.be.closeTo(0.5 ** (1 / 5), 0.03);
    expect(oracleNoisePath(spec, 100, 7, 0)).to.deep.equal(x.slice(0, 100));
    expect(oracleNoisePath({ ...spec, source: "venue" }, 10, 7, 0)).to.deep.equal(new Array(10).fill(0));
    // Shipped scenarios: the external, noisy oracle, except the named stress case.
    for (const f of SHIPPED) {
      const s = shipped(f);
      for (const a of s.assets) {
        if (s.name === "thin-books-venue-oracle") expect(a.oracle.source, f).to.equal("venue");
        else if (s.name !== "ground-truth")
          expect([a.oracle.source, (a.oracle.noiseBps ?? 0) > 0], f).to.deep.equal(["fundamental", true]);
      }
    }
  });
});

/**
 * [usability] item 8: the scenario schema accepts exactly the starting prices the lab's deployment
 * accepts. A world deploys and runs at both ends of `PRICE_BOUNDS_USD`, and just outside them the
 * schema refuses the file with the field's path (test/sim/schema.spec.ts), where the deployment
 * would have failed with a raw `ParamOutOfBounds`.
 */
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { parseScenario, PRICE_BOUNDS_USD } from "../../sim/scenario";
import { runScenario } from "../../sim/engine";

const TINY = path.join(__dirname, "fixtures", "tiny.json");

describe("scenario price bounds match the deployment", function () {
  this.timeout(0);

  for (const [label, price] of [
    ["lowest", PRICE_BOUNDS_USD.min],
    ["highest", PRICE_BOUNDS_USD.max],
  ] as const) {
    it(`deploys and runs at the ${label} accepted price ($${price})`, async () => {
      const raw = JSON.parse(fs.readFileSync(TINY, "utf8"));
      raw.assets[0].initialPriceUsd = price;
      raw.blocks = 8;
      raw.population.traders = 5;
      const s = parseScenario(raw);
      const run = await runScenario(hre, s, { modes: ["baseline"], seeds: [1] });
      expect(run.runs).to.have.length(1);
      expect(run.runs[0].series.filter((r) => r.phase === "run")).to.have.length(8);
      // The venue's first price is the scenario's, within the pool's tick spacing.
      const first = run.runs[0].series[0].venueUsd;
      expect(Math.abs(first / price - 1)).to.be.lessThan(0.01);
    });
  }
});

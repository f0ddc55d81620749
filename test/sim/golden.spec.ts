/**
 * The lab stays byte-identical across refactors (issue 21, acceptance 6): re-runs the default
 * scenario (thin-books-flash-crash, baseline and full, seed 7) through the real command on a freshly
 * reset in-process chain and compares metrics.json and series.csv byte for byte with the copies in
 * test/sim/golden/, recorded by `npm run simulate` before the engine was split into phases.
 *
 * A deliberate change to the lab's world or agents changes these files: regenerate them with
 * `SIM_OUT=/tmp/g SIM_PROGRESS=off npm run simulate` and copy metrics.json and series.csv here.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { reset } from "@nomicfoundation/hardhat-network-helpers";
import { DEFAULT_SCENARIO, simulate } from "../../sim/cli";

const GOLDEN = path.join(__dirname, "golden", "thin-books-flash-crash");

describe("lab golden run: the default scenario is byte-identical to test/sim/golden", function () {
  this.timeout(600_000);
  let out: string;

  before(async function () {
    // Deployment addresses follow the deployer's nonce (and Uniswap's token0/token1 order follows
    // the addresses), so the run starts from genesis, like `npm run simulate` in a fresh process.
    await reset();
    out = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-golden-"));
    await simulate(hre, { scenario: DEFAULT_SCENARIO, out, force: true, progress: "off", log: () => undefined });
  });

  after(async function () {
    // Later files that use loadFixture redeploy on the reset chain.
    await reset();
    fs.rmSync(out, { recursive: true, force: true });
  });

  for (const file of ["metrics.json", "series.csv"]) {
    it(`writes ${file} byte for byte as the golden copy`, () => {
      const golden = fs.readFileSync(path.join(GOLDEN, file));
      const now = fs.readFileSync(path.join(out, file));
      expect(golden.length, "golden copy").to.be.greaterThan(1_000);
      if (!now.equals(golden)) {
        // Name the first differing line, so a failure says what moved.
        const a = golden.toString("utf8").split("\n");
        const b = now.toString("utf8").split("\n");
        const i = a.findIndex((line, k) => line !== b[k]);
        expect(b[i], `${file} line ${i + 1}`).to.equal(a[i]);
      }
      expect(now.equals(golden)).to.equal(true);
    });
  }
});

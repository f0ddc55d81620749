/**
 * The lab stays byte-identical across refactors (issue 21, acceptance 6): re-runs the default
 * scenario (thin-books-flash-crash, baseline and full, seed 7) through `npm run simulate` in a
 * fresh process and compares metrics.json and series.csv byte for byte with the copies in
 * test/sim/golden/, recorded by `npm run simulate` before the engine was split into phases.
 *
 * A deliberate change to the lab's world or agents changes these files: regenerate them with
 * `SIM_OUT=/tmp/g SIM_PROGRESS=off npm run simulate` and copy metrics.json and series.csv here.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";

const ROOT = path.join(__dirname, "..", "..");
const GOLDEN = path.join(__dirname, "golden", "thin-books-flash-crash");

describe("lab golden run: the default scenario is byte-identical to test/sim/golden", function () {
  this.timeout(600_000);
  let out: string;

  before(function () {
    // `npm run simulate` in a fresh process, as the golden copies were made: deployment addresses
    // follow the deployer's nonce (and each venue's token0/token1 order follows the addresses), so
    // the run must start from genesis, not from whatever this test process's chain holds.
    out = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-golden-"));
    const r = spawnSync("npx", ["hardhat", "run", "--no-compile", "scripts/simulate.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, FORCE_COLOR: "0", SIM_OUT: out, SIM_PROGRESS: "off" },
    });
    if (r.status !== 0) throw new Error(`simulate exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  });

  after(function () {
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

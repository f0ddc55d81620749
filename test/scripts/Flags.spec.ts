/**
 * Numeric flags of the tasks (tasks/user.ts, tasks/keeper.ts) are validated before anything
 * connects: a bad value exits non-zero with one line naming the flag, and no stack trace.
 * (`liquidatable --chunk 0` used to loop forever.)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { hardhat } from "./cli";

const cases: { args: string[]; flag: string }[] = [
  { args: ["liquidatable", "--chunk", "0"], flag: "--chunk" },
  { args: ["liquidatable", "--chunk", "-5"], flag: "--chunk" },
  { args: ["liquidatable", "--chunk", "1.5"], flag: "--chunk" },
  { args: ["liquidatable", "--from-block", "-1"], flag: "--from-block" },
  { args: ["trade", "--market", "ETH-USD", "--size", "1", "--slippage-bps", "10000"], flag: "--slippage-bps" },
  { args: ["keeper", "--network", "localhost", "--max-tx-per-block", "0"], flag: "--max-tx-per-block" },
  { args: ["keeper", "--network", "localhost", "--poll-ms", "5"], flag: "--poll-ms" },
  { args: ["keeper", "--network", "localhost", "--start-block", "x"], flag: "--start-block" },
  { args: ["keeper", "--network", "localhost", "--min-profit-usd", "-1"], flag: "--min-profit-usd" },
  { args: ["keeper", "--network", "localhost", "--max-gas-price-gwei", "abc"], flag: "--max-gas-price-gwei" },
];

describe("task flags: bad numbers fail early, in one line naming the flag", function () {
  this.timeout(300_000);
  for (const c of cases) {
    it(`hardhat ${c.args.join(" ")}`, async () => {
      // LOCALHOST_RPC_URL points nowhere: a flag that passed validation would fail to connect instead.
      const r = await hardhat(c.args, { LOCALHOST_RPC_URL: "http://127.0.0.1:9" });
      expect(r.code, r.stderr + r.stdout).to.not.equal(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.match(/^Error: /);
      expect(lines[0]).to.contain(c.flag);
      expect(r.stderr + r.stdout).to.not.match(/\n\s+at /);
    });
  }
});

/**
 * `simulate` checks its options before compiling or deploying: an --out that is a file or lies
 * under one, a non-empty --out without --force, an unknown mode and an empty --modes list.
 */
describe("simulate: options fail before anything runs", function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-sim-flags-"));
  const file = path.join(tmp, "a-file");
  const full = path.join(tmp, "full");
  fs.writeFileSync(file, "x");
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, "report.html"), "old");
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const simCases: { args: string[]; says: string }[] = [
    { args: ["--out", file], says: "--out" },
    { args: ["--out", path.join(file, "report")], says: "under the file" },
    { args: ["--out", full], says: "--force" },
    { args: ["--modes", "nope"], says: 'unknown mode "nope"' },
    { args: ["--modes", ","], says: "--modes lists no mode" },
  ];
  for (const c of simCases) {
    it(`hardhat simulate ${c.args.join(" ")}`, async () => {
      const t0 = Date.now();
      const r = await hardhat(["simulate", "--progress", "off", ...c.args]);
      expect(r.code, r.stderr + r.stdout).to.not.equal(0);
      const lines = r.stderr.trim().split("\n");
      expect(lines, r.stderr).to.have.length(1);
      expect(lines[0]).to.contain(c.says);
      expect(r.stderr + r.stdout).to.not.match(/\n\s+at /);
      // Nothing ran: no compile, no run, no report written.
      expect(r.stdout, "simulate ran").to.not.contain("report:");
      expect(Date.now() - t0, "ms before failing").to.be.below(30_000);
      expect(fs.readFileSync(path.join(full, "report.html"), "utf8")).to.equal("old");
    });
  }
});

/**
 * Fork tests (issue 7): a separate chain process, an Ignition deployment, a pre-crash population,
 * then cascades driven on an in-process fork of that state, once per mode from the same block.
 * CHAIN=anvil runs the same suite on anvil; FORK_URL (+ FORK_BLOCK) runs it against any RPC
 * where Bulwark is deployed (addresses from BULWARK_ADDRESSES or deploy/deployments/chain-<id>/).
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import hre from "hardhat";
import { portInUse } from "../../lib/devnode";
import { forkAt, prepareTarget, unfork, type ForkTarget } from "./harness";
import {
  MODES,
  runCascade,
  setupFork,
  THIN_BOOK_CRASH,
  type CascadeResult,
  type ForkContext,
  type Mode,
} from "./cascade";

const t0 = Date.now();

/** Processes whose parent is this test process (excluding the `ps` that lists them). */
function childProcesses(): string[] {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)]).toString();
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/\bps$/.test(l));
}

/** Processes in the node's process group (it was started detached: group id = its pid). */
function processGroup(pgid: number): string[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "-g", String(pgid)])
      .toString()
      .split("\n")
      .filter((l) => l.trim() !== "");
  } catch {
    return []; // ps exits 1 when nothing matches
  }
}

describe(`fork: cascades on a fork of a deployed, populated chain (${process.env.FORK_URL ? "FORK_URL" : process.env.CHAIN === "anvil" ? "anvil" : "hardhat node"})`, function () {
  let target: ForkTarget | undefined;
  let ctx: ForkContext;
  const results = {} as Record<Mode, CascadeResult>;

  after(async function () {
    await unfork();
    await target?.close();
    if (process.env.FORK_TIMING)
      console.log(`      fork suite: ${((Date.now() - t0) / 1000).toFixed(1)} s`, target?.timings);
  });

  it("prepares the target: node, Ignition deployment and pre-crash population (or FORK_URL)", async function () {
    target = await prepareTarget();
    expect(target.block).to.be.greaterThan(0);
    if (target.kind === "local") {
      expect(target.population).to.have.length(42);
      expect(target.node).to.not.equal(undefined);
      expect(await portInUse(target.node!.port)).to.equal(true);
    }
  });

  it("forks the target at the populated block in-process (one block mined after forking)", async function () {
    await forkAt(hre, target!.url, target!.block);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(target!.block + 1);
    expect(await hre.ethers.provider.getCode(target!.vault)).to.not.equal("0x");
    ctx = await setupFork(hre, target!.vault, target!.population);
    expect(ctx.accounts.length, "accounts with an ETH-USD position").to.be.greaterThan(0);
    if (target!.kind === "local") expect(ctx.accounts).to.have.length(42);
  });

  it("drives the same cascade in each mode from the same fork state", async function () {
    const snap = (await hre.network.provider.request({ method: "evm_snapshot", params: [] })) as string;
    let id = snap;
    for (const [i, mode] of MODES.entries()) {
      if (i > 0) {
        expect(await hre.network.provider.request({ method: "evm_revert", params: [id] })).to.equal(true);
        id = (await hre.network.provider.request({ method: "evm_snapshot", params: [] })) as string;
      }
      const t = Date.now();
      results[mode] = await runCascade(ctx, mode, THIN_BOOK_CRASH);
      const r = results[mode];
      console.log(
        `      ${mode.padEnd(8)} amplification ${r.amplification.toFixed(3)}  venue dd ${r.venueDrawdownPct.toFixed(2)}%` +
          `  kicks ${r.kicks.length}  liquidated $${Math.round(r.liquidatedNotionalUsd).toLocaleString("en-US")}` +
          `  bad debt $${r.badDebtUsd.toFixed(2)}  steps ${r.steps}  (${((Date.now() - t) / 1000).toFixed(1)} s)`,
      );
    }
    await hre.network.provider.request({ method: "evm_revert", params: [id] });
    for (const mode of MODES) expect(results[mode].fundamentalDrawdownPct).to.be.closeTo(THIN_BOOK_CRASH.dropPct, 1e-9);
  });

  it("baseline cascades: liquidations push the venue below the fundamental (amplification > 1)", function () {
    expect(results.baseline.kicks.length).to.be.greaterThan(0);
    expect(results.baseline.amplification).to.be.greaterThan(1.05);
  });

  it("full: lower amplification than baseline (auctions and paced hedging instead of dumps)", function () {
    expect(results.full.kicks.length, "full liquidates too").to.be.greaterThan(0);
    expect(results.full.amplification).to.be.lessThan(results.baseline.amplification);
  });

  // The price falls 2% per 12 s step and the wick filter (smoothing half-life 180 s) lags it, so
  // most accounts become liquidatable late. With pool takeover the pool takes each slice over at
  // the oracle price at the kick: the account stops carrying the lot's price risk while the auction
  // runs, which is where all of this test's bad debt came from before ($148k over 21 shortfalls;
  // docs/results-analysis.md §2.5).
  it("full: zero bad debt, and no shortfall of any account", function () {
    const full = results.full;
    expect(full.kicks.length, "full liquidates").to.be.greaterThan(0);
    expect(full.shortfalls, "shortfalls in full").to.deep.equal([]);
    expect(full.badDebtUsd).to.equal(0);
    expect(results.baseline.badDebtUsd, "baseline liquidates at MM without a wick filter").to.equal(0);
  });

  it("every liquidatable account is liquidated or in auction by the end, in each mode", function () {
    for (const mode of MODES) expect(results[mode].unresolved, mode).to.deep.equal([]);
  });

  it("no healthy account is kicked, in each mode (each kick checked against the state right before it)", async function () {
    for (const mode of MODES) {
      const healthy = results[mode].kicks.filter((k) => !k.liquidatableBefore).map((k) => k.account);
      expect(healthy, mode).to.deep.equal([]);
    }
    // And the contract refuses to: a healthy account's kick reverts.
    const [liq] = await ctx.vault.isLiquidatable(ctx.accounts[0]);
    expect(liq).to.equal(false); // the 3x long survives a 10% drop
    await expect(ctx.auction.connect(ctx.keeper).kick(ctx.accounts[0])).to.be.revertedWithCustomError(
      ctx.auction,
      "NotLiquidatable",
    );
  });

  it("stops the node: its port is free and no child process remains", async function () {
    await unfork();
    const node = target!.node;
    await target!.close();
    if (node) {
      expect(await portInUse(node.port)).to.equal(false);
      expect(processGroup(node.pid)).to.deep.equal([]);
    }
    expect(childProcesses()).to.deep.equal([]);
  });
});

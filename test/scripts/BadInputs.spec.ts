/**
 * [usability] acceptance 3: no user error in the CLI prints a stack trace. Each bad input below
 * (tasks, the keeper, simulate) is run as a user runs it, against a node with the local deployment,
 * and must exit non-zero with one line that names the input. They run two at a time; the wall
 * time of each is measured and the slowest printed, and the bound asserted is loose (a hang, not a
 * slow machine, must fail).
 *
 * Hardhat's own argument parser (a missing required parameter, an unknown flag) is not ours: on a
 * Linux machine without a display Hardhat counts as CI and prints its error with a stack, so those
 * cases are held to "the first line names the input" only.
 */
import { expect } from "chai";
import fs from "node:fs";
import type { LocalNode } from "../../lib/devnode";
import { hardhat, localNodeWithDeployment, type Deployment } from "./cli";

const NET = ["--network", "localhost"];

/** [arguments, text the message must contain]. */
const OURS: [string[], string][] = [
  [["deposit", "--token", "DOGE", "--amount", "1", ...NET], '"DOGE"'],
  [["deposit", "--token", "USDC", "--amount", "-5", ...NET], '"-5"'],
  [["deposit", "--token", "USDC", "--amount", "abc", ...NET], '"abc"'],
  [["deposit", "--token", "USDC", "--amount", "0", ...NET], "amount"],
  [["deposit", "--token", "USDC", "--amount", "1.0000001", ...NET], '"1.0000001"'],
  [["deposit", "--token", "USDC", "--amount", "1", "--account", "99", ...NET], "account index 99"],
  [["deposit", "--token", "USDC", "--amount", "1", "--account", "0x123", ...NET], '"0x123"'],
  [["trade", "--market", "DOGE-USD", "--size", "1", ...NET], '"DOGE-USD"'],
  [["trade", "--market", "ETH-USD", "--size", "0", ...NET], "size"],
  [["trade", "--market", "ETH-USD", "--size", "x", ...NET], '"x"'],
  [["trade", "--market", "ETH-USD", "--size", "1e30", ...NET], '"1e30"'],
  [["trade", "--market", "ETH-USD", "--size", "1", "--slippage-bps", "-1", ...NET], "--slippage-bps"],
  [["trade", "--market", "ETH-USD", "--size", "1", "--slippage-bps", "1.5", ...NET], "--slippage-bps"],
  [["withdraw", "--token", "USDC", "--amount", "5", ...NET], "USDC"],
  [["withdraw", "--token", "WETH", "--amount", "all", ...NET], "WETH"],
  [["withdraw", "--token", "USDC", "--amount", "all", "--pool", ...NET], "pool"],
  [["close", "--market", "ETH-USD", ...NET], "ETH-USD"],
  [["close", "--market", "XRP-USD", ...NET], '"XRP-USD"'],
  [["status", "--account", "nope", ...NET], '"nope"'],
  [["status", "--addresses", "/nonexistent", ...NET], "/nonexistent"],
  [["pool-status", "--deployment-id", "no-such-deployment", ...NET], "no-such-deployment"],
  [["liquidatable", "--chunk", "0", ...NET], "--chunk"],
  [["liquidatable", "--from-block", "-3", ...NET], "--from-block"],
  [["set-price", "--market", "ETH-USD", "--price", "0", ...NET], "price"],
  [["set-price", "--market", "ETH-USD", "--price", "abc", ...NET], '"abc"'],
  [["keeper", "--min-profit-usd", "-1", ...NET], "--min-profit-usd"],
  [["keeper", "--poll-ms", "0", ...NET], "--poll-ms"],
  [["keeper", "--log-level", "loud", ...NET], "logLevel"],
  [["keeper", "--keeper-config", "missing.json", ...NET], "missing.json"],
  [["keeper", "--vault", "0x12", ...NET], "vault"],
  [["keeper", "--max-tx-per-block", "0", ...NET], "--max-tx-per-block"],
  [["keeper", "--node-wait-sec", "-1", ...NET], "--node-wait-sec"],
  [["keeper"], '"hardhat"'],
  [["simulate", "--modes", "nope"], '"nope"'],
  [["simulate", "--modes", ","], "--modes"],
  [["simulate", "--seeds", "0"], "--seeds"],
  [["simulate", "--seed", "-1"], "--seed"],
  [["simulate", "--out", "/etc/passwd"], "/etc/passwd"],
  [["simulate", "--scenario", "missing.json"], "missing.json"],
  [["simulate", "--progress", "weird"], "--progress"],
];

/** Hardhat's own argument errors: the first line names the input. */
const HARDHATS: [string[], string][] = [
  [["deposit", "--token", "USDC", ...NET], "--amount"],
  [["trade", "--bogus", "1", ...NET], "--bogus"],
];

/** Lines that are part of a stack trace, or Hardhat's message for an uncaught error. */
const STACK = /^\s+at |An unexpected error occurred|^(Type|Reference|Range|Syntax)Error\b/m;

describe("CLI: bad inputs fail in one line that names them, without a stack trace", function () {
  this.timeout(0);
  let node: LocalNode;
  let dep: Deployment;
  let env: Record<string, string>;
  const times: number[] = [];

  before(async function () {
    ({ node, dep, env } = await localNodeWithDeployment("bad-inputs"));
  });

  after(async function () {
    if (times.length > 0) {
      console.log(`      slowest of ${times.length} bad inputs: ${(Math.max(...times) / 1000).toFixed(1)} s`);
    }
    if (dep) fs.rmSync(dep.dir, { recursive: true, force: true });
    if (node) await node.stop();
  });

  it(`covers at least 40 bad inputs across the tasks, the keeper and simulate`, () => {
    expect(OURS.length + HARDHATS.length).to.be.at.least(40);
    const commands = new Set(OURS.map(([args]) => args[0]));
    for (const c of ["deposit", "trade", "withdraw", "close", "status", "liquidatable", "keeper", "simulate"]) {
      expect(commands.has(c), c).to.equal(true);
    }
  });

  interface Outcome {
    code: number;
    lines: string[];
    ms: number;
  }
  // Every command runs once, two at a time, before the checks below read their outcomes.
  const outcomes = new Map<string, Outcome>();
  before(async function () {
    const queue = [...OURS, ...HARDHATS].map(([args]) => args);
    const worker = async (): Promise<void> => {
      for (let args = queue.shift(); args !== undefined; args = queue.shift()) {
        const t0 = Date.now();
        const r = await hardhat(args, env);
        const ms = Date.now() - t0;
        times.push(ms);
        const lines = `${r.stderr}\n${r.stdout}`.split("\n").filter((l) => l.trim() !== "");
        outcomes.set(args.join(" "), { code: r.code, lines, ms });
      }
    };
    await Promise.all([worker(), worker()]);
  });
  const run = async (args: string[]): Promise<Outcome> => outcomes.get(args.join(" "))!;

  for (const [args, names] of OURS) {
    it(`hardhat ${args.join(" ")}`, async () => {
      const r = await run(args);
      expect(r.code, r.lines.join("\n")).to.not.equal(0);
      expect(r.lines.join("\n")).to.not.match(STACK);
      // The keeper logs its own JSON records before a refusal; the message is the one non-JSON line.
      const message = r.lines.filter((l) => !l.startsWith("{"));
      expect(message, r.lines.join("\n")).to.have.length(1);
      expect(message[0]).to.match(/^(Error|error): /);
      expect(message[0]).to.include(names);
      expect(r.ms, "a hang, not a slow start").to.be.lessThan(60_000);
    });
  }

  for (const [args, names] of HARDHATS) {
    it(`hardhat ${args.join(" ")} (Hardhat's parser)`, async () => {
      const r = await run(args);
      expect(r.code).to.not.equal(0);
      expect(r.lines[0]).to.match(/^Error HH\d+: /);
      expect(r.lines[0]).to.include(names);
    });
  }
});

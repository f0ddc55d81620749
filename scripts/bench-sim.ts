/**
 * `npm run bench:sim`: the lab runner's overhead (simulation.md §6, issue #6 acceptance 7).
 * On each chain:
 * 1. Runs the default scenario once (its modes, its first seed) and takes its transaction count
 *    and wall time from the engine (deploy and populate excluded: they happen once per sweep).
 * 2. On the same chain, sends the same number of plain ERC20 transfers with the same batching
 *    (the runner's mean transactions per block) through the same transport the runner uses
 *    (`Chain.sendBlock`, one `evm_mine` per batch, every receipt read).
 * 3. Prints both throughputs and their ratio (runner / raw; the target is ≥ 0.5).
 * Chains: the in-process Hardhat network (EDR) and anvil (npm @foundry-rs/anvil, started on a free
 * port for the run and stopped after it). `BENCH_CHAINS=hardhat` or `=anvil` runs one of them;
 * `--network localhost` measures whatever node LOCALHOST_RPC_URL points at. SIM_SCENARIO and
 * SIM_MODES select another scenario or modes.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import hre from "hardhat";
import type { MockERC20 } from "../typechain-types";
import { DEFAULT_SCENARIO, resolveRun } from "../sim/cli";
import { runScenario } from "../sim/engine";
import { Chain, type TxRequest } from "../sim/engine/chain";
import { startNode } from "../lib/devnode";

interface Measured {
  chain: string;
  setupMs: number;
  txs: number;
  runs: number;
  blocks: number;
  runMs: number;
  perBlock: number;
  rawMs: number;
}

const RESULT_TAG = "BENCH_RESULT ";

/** Sends `count` ERC20 transfers, `perBlock` per mined block, the way the runner sends a block. */
async function rawTransfers(count: number, perBlock: number): Promise<number> {
  const { ethers, network } = hre;
  const [sender, receiver] = await ethers.getSigners();
  const token = (await (
    await ethers.getContractFactory("MockERC20")
  ).deploy("Bench", "BNCH", 18)) as unknown as MockERC20;
  await token.waitForDeployment();
  await (await token.mint(sender.address, 10n ** 30n)).wait();
  const tx: TxRequest = {
    from: sender.address,
    to: await token.getAddress(),
    data: token.interface.encodeFunctionData("transfer", [receiver.address, 1n]),
    gas: 60_000,
  };
  const chain = await Chain.connect(network.provider);
  let t = (await ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  await chain.setAutomine(false);
  const t0 = performance.now();
  try {
    for (let sent = 0; sent < count; sent += perBlock) {
      const hashes = await chain.sendBlock(Array.from({ length: Math.min(perBlock, count - sent) }, () => tx));
      await chain.mine((t += 12));
      const receipts = await Promise.all(hashes.map((h) => chain.receipt(h)));
      if (receipts.some((r) => r === null || r.status !== "0x1")) throw new Error("raw transfer batch was not mined");
    }
  } finally {
    await chain.setAutomine(true);
  }
  return performance.now() - t0;
}

/** The scenario, modes and seeds the bench runs (SIM_SCENARIO, SIM_MODES). */
function benchRun(): ReturnType<typeof resolveRun> {
  return resolveRun({ scenario: process.env.SIM_SCENARIO ?? DEFAULT_SCENARIO, modes: process.env.SIM_MODES });
}

/** The runner and the raw transfers on the network this process is connected to. */
async function measure({ scenario, modes, seeds }: ReturnType<typeof resolveRun>): Promise<Measured> {
  const run = await runScenario(hre, scenario, { modes, seeds: [seeds[0]] });
  const txs = run.runs.reduce((a, r) => a + r.metrics.txCount, 0);
  const blocks = run.runs.length * scenario.blocks;
  const perBlock = Math.max(1, Math.round(txs / blocks));
  return {
    chain: hre.network.name === "hardhat" ? "hardhat (in-process EDR)" : `${hre.network.name} (JSON-RPC)`,
    setupMs: run.setupMs,
    txs,
    runs: run.runs.length,
    blocks: scenario.blocks,
    runMs: run.runs.reduce((a, r) => a + r.wallMs, 0),
    perBlock,
    rawMs: await rawTransfers(txs, perBlock),
  };
}

/** Starts anvil, measures there in a child `hardhat run --network localhost`, stops anvil. */
async function measureOnAnvil(): Promise<Measured> {
  const node = await startNode({ chain: "anvil" });
  try {
    const cli = path.join(path.dirname(require.resolve("hardhat/package.json")), "internal", "cli", "cli.js");
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, "run", __filename, "--network", "localhost"], {
        env: { ...process.env, LOCALHOST_RPC_URL: node.url, BENCH_CHILD: "1" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.once("error", reject);
      child.once("exit", (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`bench on anvil exited with ${code}:\n${stdout}`)),
      );
    });
    const line = out.split("\n").find((l) => l.startsWith(RESULT_TAG));
    if (line === undefined) throw new Error(`bench on anvil printed no result:\n${out}`);
    return { ...(JSON.parse(line.slice(RESULT_TAG.length)) as Measured), chain: "anvil (JSON-RPC)" };
  } finally {
    await node.stop();
  }
}

function printTable(ms: Measured[]): void {
  const tps = (n: number, ms_: number): number => n / (ms_ / 1000);
  const rows: [string, ...string[]][] = [
    ["", ...ms.map((m) => m.chain)],
    ["setup (deploy + populate, excluded)", ...ms.map((m) => `${(m.setupMs / 1000).toFixed(1)} s`)],
    ["runner: transactions", ...ms.map((m) => `${m.txs} in ${m.runs} run(s) of ${m.blocks} blocks`)],
    ["runner: wall time", ...ms.map((m) => `${(m.runMs / 1000).toFixed(1)} s`)],
    ["runner: tx/s", ...ms.map((m) => tps(m.txs, m.runMs).toFixed(1))],
    ["raw ERC20 transfers, same count", ...ms.map((m) => `${m.txs}, ${m.perBlock} per block`)],
    ["raw: wall time", ...ms.map((m) => `${(m.rawMs / 1000).toFixed(1)} s`)],
    ["raw: tx/s", ...ms.map((m) => tps(m.txs, m.rawMs).toFixed(1))],
    ["ratio runner/raw (target ≥ 0.5)", ...ms.map((m) => (tps(m.txs, m.runMs) / tps(m.txs, m.rawMs)).toFixed(2))],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    );
}

async function main() {
  if (process.env.BENCH_CHILD === "1") {
    console.log(RESULT_TAG + JSON.stringify(await measure(benchRun())));
    return;
  }
  const chains = (process.env.BENCH_CHAINS ?? "hardhat,anvil").split(",").map((c) => c.trim());
  const unknown = chains.filter((c) => c !== "hardhat" && c !== "anvil");
  if (unknown.length > 0) throw new Error(`BENCH_CHAINS: unknown chain ${unknown.join(", ")} (hardhat, anvil)`);
  const run = benchRun();
  console.log(`bench: ${run.scenario.name}, modes ${run.modes.join(",")}, seed ${run.seeds[0]}`);
  const results: Measured[] = [];
  if (hre.network.name !== "hardhat") results.push(await measure(run));
  else {
    if (chains.includes("hardhat")) results.push(await measure(run));
    if (chains.includes("anvil")) results.push(await measureOnAnvil());
  }
  printTable(results);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

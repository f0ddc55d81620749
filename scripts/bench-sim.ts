/**
 * `npm run bench:sim`: the lab runner's overhead (simulation.md §6, issue #6 acceptance 7).
 * 1. Runs the default scenario once (its modes, its first seed) and takes its transaction count
 *    and wall time from the engine (deploy and populate excluded: they happen once per sweep).
 * 2. On the same chain, sends the same number of plain ERC20 transfers with the same batching
 *    (the runner's mean transactions per block, automine off, one evm_mine per batch).
 * 3. Prints both throughputs and their ratio (runner / raw; the target is ≥ 0.5).
 */
import hre from "hardhat";
import type { MockERC20 } from "../typechain-types";
import { DEFAULT_SCENARIO, resolveRun, RunScenarioFn } from "../sim/cli";

async function rawTransfers(count: number, perBlock: number): Promise<number> {
  const { ethers, network } = hre;
  const [sender, receiver] = await ethers.getSigners();
  const token = (await (
    await ethers.getContractFactory("MockERC20")
  ).deploy("Bench", "BNCH", 18)) as unknown as MockERC20;
  await token.waitForDeployment();
  await (await token.mint(sender.address, 10n ** 30n)).wait();
  const to = await token.getAddress();
  const data = token.interface.encodeFunctionData("transfer", [receiver.address, 1n]);
  let nonce = await sender.getNonce();
  const provider = network.provider;
  await provider.send("evm_setAutomine", [false]);
  const t0 = performance.now();
  try {
    let sent = 0;
    while (sent < count) {
      const n = Math.min(perBlock, count - sent);
      const hashes: string[] = [];
      for (let i = 0; i < n; i++) {
        const tx = await sender.sendTransaction({ to, data, nonce: nonce++, gasLimit: 60_000 });
        hashes.push(tx.hash);
      }
      await provider.send("evm_mine", []);
      const receipt = await ethers.provider.getTransactionReceipt(hashes[hashes.length - 1]);
      if (receipt === null || receipt.status !== 1) throw new Error("raw transfer batch was not mined");
      sent += n;
    }
  } finally {
    await provider.send("evm_setAutomine", [true]);
  }
  return performance.now() - t0;
}

async function main() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runScenario } = require("../sim/engine") as { runScenario: RunScenarioFn };
  const { scenario, modes, seeds } = resolveRun({ scenario: process.env.SIM_SCENARIO ?? DEFAULT_SCENARIO });
  console.log(`bench: ${scenario.name}, modes ${modes.join(",")}, seed ${seeds[0]}, network ${hre.network.name}`);
  const run = await runScenario(hre, scenario, { modes, seeds: [seeds[0]] });
  const txs = run.runs.reduce((a, r) => a + r.metrics.txCount, 0);
  const runMs = run.runs.reduce((a, r) => a + r.wallMs, 0);
  const blocks = run.runs.length * scenario.blocks;
  const perBlock = Math.max(1, Math.round(txs / blocks));
  const rawMs = await rawTransfers(txs, perBlock);
  const simTps = txs / (runMs / 1000);
  const rawTps = txs / (rawMs / 1000);
  const rows: [string, string][] = [
    ["setup (deploy + populate, excluded)", `${(run.setupMs / 1000).toFixed(1)} s`],
    ["runner: transactions", `${txs} in ${run.runs.length} run(s) of ${scenario.blocks} blocks`],
    ["runner: wall time", `${(runMs / 1000).toFixed(1)} s`],
    ["runner: tx/s", simTps.toFixed(1)],
    ["raw ERC20 transfers, same count", `${txs} in batches of ${perBlock} per block`],
    ["raw: wall time", `${(rawMs / 1000).toFixed(1)} s`],
    ["raw: tx/s", rawTps.toFixed(1)],
    ["ratio runner/raw (target ≥ 0.5)", (simTps / rawTps).toFixed(2)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

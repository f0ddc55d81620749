import fs from "node:fs";
import { expect } from "chai";
import { Interface } from "ethers";
import { portInUse, startNode, type LocalNode } from "../shared/node";
import { AuctionHouse__factory, UniswapFlashTaker__factory } from "../../typechain-types";
import { ERRORS } from "../../keeper/errors";
import { KICK_SELECTOR, runKeeper, saveLog, txsFrom, type Run } from "./harness";
import { startFaultyProxy } from "./proxy";
import { buildWorld, CRASH_PRICE, ETH_USD, mine, rpc, sendAndMine, type KeeperWorld } from "./world";
import { freePort } from "../shared/node";

/**
 * The keeper against a real `hardhat node`: 20 traders (12 longs from 2× to 18×, 4 shorts, 4
 * WETH-backed 27× longs), ETH crashes from $3,000 to $2,700 in one block, and an in-process keeper
 * (max 4 transactions per block, 12 s blocks mined by the test) must kick every liquidatable
 * account within BOUND blocks of the crash, never kick a healthy one, and clear the auctions:
 * position lots with its own vault capital, the WETH lots through the Uniswap flash taker.
 */

const MAX_TX_PER_BLOCK = 4;
/** Kicks go first in each block's budget: L accounts need ⌈L / 4⌉ blocks, plus one to notice the crash. */
const bound = (liquidatable: number): number => Math.ceil(liquidatable / MAX_TX_PER_BLOCK) + 1;
/** Through a proxy that fails 30% of requests and a 3 s connection outage: stated slack of 3 blocks. */
const FAULT_SLACK = 3;

const auctionIface = new Interface(AuctionHouse__factory.abi);
const takerIface = new Interface(UniswapFlashTaker__factory.abi);

interface Outcome {
  crashBlock: number;
  liquidatable: string[];
  healthy: string[];
  kicks: { account: string; block: number; keeper: string }[];
  takes: number;
  flashTakes: number;
  ended: number;
}

async function crash(w: KeeperWorld): Promise<Pick<Outcome, "crashBlock" | "liquidatable" | "healthy">> {
  const crashBlock = await sendAndMine(w.provider, () => w.ethFeed.setAnswer(BigInt(CRASH_PRICE) * 10n ** 8n));
  const liquidatable: string[] = [];
  const healthy: string[] = [];
  for (const t of w.traders) {
    const [liq] = await w.vault.isLiquidatable(t.wallet.address, { blockTag: crashBlock });
    (liq ? liquidatable : healthy).push(t.wallet.address);
  }
  return { crashBlock, liquidatable, healthy };
}

async function outcome(w: KeeperWorld, c: Awaited<ReturnType<typeof crash>>, run: Run): Promise<Outcome> {
  const auction = await w.auction.getAddress();
  const logs = await w.provider.getLogs({ address: auction, fromBlock: c.crashBlock, toBlock: run.lastBlock });
  const flashLogs = await w.provider.getLogs({ address: w.flashTaker, fromBlock: c.crashBlock, toBlock: run.lastBlock });
  const o: Outcome = { ...c, kicks: [], takes: 0, flashTakes: 0, ended: 0 };
  for (const log of logs) {
    const p = auctionIface.parseLog(log);
    if (p?.name === "Kick") o.kicks.push({ account: String(p.args[1]), block: log.blockNumber, keeper: String(p.args[6]) });
    if (p?.name === "Take") o.takes++;
    if (p?.name === "AuctionEnded") o.ended++;
  }
  o.flashTakes = flashLogs.filter((l) => takerIface.parseLog(l)?.name === "FlashTaken").length;
  return o;
}

/** No Kick ever hit an account that was healthy at the block before it. */
async function expectNoHealthyKick(w: KeeperWorld, o: Outcome): Promise<void> {
  for (const k of o.kicks) {
    const [liq] = await w.vault.isLiquidatable(k.account, { blockTag: k.block - 1 });
    expect(liq, `kick of ${k.account} at block ${k.block}: healthy at block ${k.block - 1}`).to.equal(true);
  }
}

/** Every account liquidatable at the crash was kicked within `limit` blocks of it. */
function expectKickedWithin(o: Outcome, limit: number): number {
  let worst = 0;
  for (const a of o.liquidatable) {
    const first = o.kicks.find((k) => k.account === a);
    expect(first, `${a} was liquidatable at the crash and never kicked`).to.not.equal(undefined);
    worst = Math.max(worst, first!.block - o.crashBlock);
  }
  expect(worst, `blocks from crash to the last first kick`).to.be.at.most(limit);
  return worst;
}

/** All liquidations done: every account kicked and nothing left running or liquidatable. */
async function settled(w: KeeperWorld, liquidatable: string[]): Promise<boolean> {
  const states = await Promise.all(
    w.traders.map(async (t) => [await w.vault.isInLiquidation(t.wallet.address), await w.vault.isLiquidatable(t.wallet.address)] as const),
  );
  if (states.some(([inLiq, [liq]]) => inLiq || liq)) return false;
  const kicked = await w.provider.getLogs({
    address: await w.auction.getAddress(),
    topics: [auctionIface.getEvent("Kick")!.topicHash],
    fromBlock: 0,
  });
  const accounts = new Set(kicked.map((l) => String(auctionIface.parseLog(l)!.args[1])));
  return liquidatable.every((a) => accounts.has(a));
}

describe("keeper: liquidations on a local node", function () {
  this.timeout(300_000);
  let node: LocalNode;
  let w: KeeperWorld;
  let snapshot: string;
  const figures: Record<string, unknown> = {};

  before(async () => {
    node = await startNode();
    w = await buildWorld(node);
    snapshot = await rpc<string>(w.provider, "evm_snapshot");
  });

  beforeEach(async () => {
    await rpc(w.provider, "evm_revert", [snapshot]);
    snapshot = await rpc<string>(w.provider, "evm_snapshot");
    await rpc(w.provider, "evm_setAutomine", [false]);
  });

  after(async () => {
    if (Object.keys(figures).length > 0) console.log("      keeper figures:", JSON.stringify(figures));
    if (w) {
      w.provider.destroy();
      fs.rmSync(w.deploymentDir, { recursive: true, force: true });
    }
    if (!node) return;
    await node.stop();
    expect(await portInUse(node.port), "node port still open").to.equal(false);
    expect(() => process.kill(node.pid, 0), "node process still alive").to.throw();
  });

  it("kicks every liquidatable account within the bound, never a healthy one, and clears the auctions", async () => {
    const c = await crash(w);
    expect(c.liquidatable.length, "liquidatable after the crash").to.be.within(6, 14);
    expect(c.healthy.length, "healthy after the crash").to.be.at.least(6);
    const run = await runKeeper(w, { url: node.url, maxBlocks: 40, until: () => settled(w, c.liquidatable) });
    saveLog("keeper-liquidations", run.logs);
    const o = await outcome(w, c, run);
    await expectNoHealthyKick(w, o);
    const worst = expectKickedWithin(o, bound(c.liquidatable.length));
    for (const k of o.kicks) expect(k.keeper).to.equal(w.keeper.address);
    expect(await settled(w, c.liquidatable), "liquidations finished").to.equal(true);
    // Both take paths: position lots with capital, the WETH lots through the flash taker.
    expect(o.takes).to.be.at.least(c.liquidatable.length);
    expect(o.flashTakes, "flash takes of the WETH lots").to.equal(4);
    expect(o.ended).to.equal(o.kicks.length);
    const sent = await txsFrom(w.provider, w.keeper.address, run.firstBlock, run.lastBlock);
    expect(sent.filter((t) => t.status !== 1), "reverted keeper transactions").to.deep.equal([]);
    figures.liquidations = {
      liquidatable: c.liquidatable.length,
      bound: bound(c.liquidatable.length),
      worstBlocksToKick: worst,
      blocksToSettle: run.lastBlock - c.crashBlock,
      kicks: o.kicks.length,
      takes: o.takes,
      flashTakes: o.flashTakes,
      keeperTxs: sent.length,
    };
  });
});

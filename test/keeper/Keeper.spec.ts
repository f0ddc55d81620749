import fs from "node:fs";
import { expect } from "chai";
import { Interface } from "ethers";
import { portInUse, startNode, type LocalNode } from "../../lib/devnode";
import { AuctionHouse__factory, UniswapFlashTaker__factory } from "../../typechain-types";
import { KICK_SELECTOR, runKeeper, saveLog, txsFrom, type Run } from "./harness";
import { startFaultyProxy } from "./proxy";
import { buildWorld, CRASH_PRICE, DEPLOYMENT_DIR, ETH_USD, rpc, sendAndMine, WAD, type KeeperWorld } from "./world";
import { freePort } from "../../lib/devnode";

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
  const flashLogs = await w.provider.getLogs({
    address: w.flashTaker,
    fromBlock: c.crashBlock,
    toBlock: run.lastBlock,
  });
  const o: Outcome = { ...c, kicks: [], takes: 0, flashTakes: 0, ended: 0 };
  for (const log of logs) {
    const p = auctionIface.parseLog(log);
    if (p?.name === "Kick")
      o.kicks.push({ account: String(p.args[1]), block: log.blockNumber, keeper: String(p.args[6]) });
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
    w.traders.map(
      async (t) =>
        [await w.vault.isInLiquidation(t.wallet.address), await w.vault.isLiquidatable(t.wallet.address)] as const,
    ),
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
    w?.provider.destroy();
    fs.rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
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
    expect(
      sent.filter((t) => t.status !== 1),
      "reverted keeper transactions",
    ).to.deep.equal([]);
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
  it("survives a proxy that fails 30% of requests and a connection restart, and never repeats a revert", async () => {
    const c = await crash(w);
    const port = await freePort();
    const proxy = await startFaultyProxy(port, { target: node.url, seed: 0xb01d, failRate: 0.3, maxDelayMs: 40 });
    let outageMs = 0;
    let run: Run;
    try {
      run = await runKeeper(w, {
        url: proxy.url,
        maxBlocks: 50,
        blockWaitMs: 6_000,
        until: () => settled(w, c.liquidatable),
        // Mid-run (after the first kicks), the connection goes away for 3 s; no block is mined meanwhile.
        beforeBlock: async (mined) => {
          if (mined !== 2) return;
          const t0 = Date.now();
          await proxy.stop();
          await new Promise((r) => setTimeout(r, 3_000));
          await proxy.start();
          outageMs = Date.now() - t0;
        },
      });
    } finally {
      await proxy.stop();
    }
    saveLog("keeper-faults", run.logs);
    const o = await outcome(w, c, run);
    await expectNoHealthyKick(w, o);
    const worst = expectKickedWithin(o, bound(c.liquidatable.length) + FAULT_SLACK);
    expect(await settled(w, c.liquidatable), "liquidations finished").to.equal(true);
    expect(o.ended).to.equal(o.kicks.length);
    // The faults happened and the keeper went through them.
    expect(proxy.failed() / proxy.stats.requests, "share of failed requests").to.be.within(0.2, 0.4);
    expect(run.keeper.stats.rpcRetries, "RPC retries").to.be.greaterThan(0);
    expect(
      run.logs.some((l) => l.event === "step_failed"),
      "a step failed during the outage",
    ).to.equal(true);
    expect(
      run.logs.some((l) => l.event === "rpc_recovered"),
      "the keeper recovered",
    ).to.equal(true);
    // No transaction of the keeper reverted twice for the same (function, target, reason).
    const sent = await txsFrom(w.provider, w.keeper.address, run.firstBlock, run.lastBlock);
    const reverted = new Map<string, number>();
    for (const t of sent.filter((x) => x.status !== 1)) {
      let reason = "none";
      try {
        await w.provider.call({ to: t.to, data: t.data, from: w.keeper.address, blockTag: t.block });
      } catch (e) {
        reason = String((e as { data?: string }).data ?? (e as Error).message).slice(0, 10);
      }
      const key = `${t.data.slice(0, 74)}|${reason}`;
      reverted.set(key, (reverted.get(key) ?? 0) + 1);
    }
    for (const [key, n] of reverted) expect(n, `reverts of ${key}`).to.equal(1);
    // Nonces: every transaction the keeper signed and sent was mined (no gap left behind).
    const nonce = await w.provider.getTransactionCount(w.keeper.address, "latest");
    const pendingNonce = await w.provider.getTransactionCount(w.keeper.address, "pending");
    expect(pendingNonce).to.equal(nonce);
    figures.faults = {
      liquidatable: c.liquidatable.length,
      bound: bound(c.liquidatable.length) + FAULT_SLACK,
      worstBlocksToKick: worst,
      blocksToSettle: run.lastBlock - c.crashBlock,
      proxyRequests: proxy.stats.requests,
      proxyFailed: proxy.failed(),
      proxy: proxy.stats,
      outageMs,
      rpcRetries: run.keeper.stats.rpcRetries,
      stepErrors: run.keeper.stats.stepErrors,
      keeperTxs: sent.length,
      reverted: sent.filter((x) => x.status !== 1).length,
      sender: run.keeper.sender.stats,
    };
  });

  it("never trades its signer's own position unless closeOwnPositions is on, which it warns about", async () => {
    // The keeper's signer trades for itself: a 10 ETH long out of its $2M vault account.
    const own = 10n * WAD;
    await sendAndMine(w.provider, () => w.vault.connect(w.keeper).trade(ETH_USD, own, 10n ** 30n));
    const size = async () => BigInt((await w.vault.getPosition(w.keeper.address, ETH_USD)).sizeWad);
    expect(await size()).to.equal(own);
    const tradeSelector = w.vault.interface.getFunction("trade")!.selector;

    const off = await runKeeper(w, { url: node.url, maxBlocks: 5 });
    const sentOff = await txsFrom(w.provider, w.keeper.address, off.firstBlock + 1, off.lastBlock);
    expect(
      sentOff.filter((t) => t.selector === tradeSelector),
      "trades sent by default",
    ).to.deep.equal([]);
    expect(off.keeper.stats.closes, "closes by default").to.equal(0);
    expect(await size(), "own position after 5 blocks").to.equal(own);
    expect(off.logs.some((l) => l.event === "close_own_positions")).to.equal(false);

    const on = await runKeeper(w, { url: node.url, maxBlocks: 5, config: { closeOwnPositions: true } });
    expect(
      on.logs.filter((l) => l.event === "close_own_positions").map((l) => l.level),
      "warning at start",
    ).to.deep.equal(["warn"]);
    expect(on.keeper.stats.closes, "closes with closeOwnPositions").to.equal(1);
    expect(await size(), "own position with closeOwnPositions").to.equal(0n);
  });

  it("closes what its takes handed over and no more: its signer's own position is left as it was", async () => {
    const own = 10n * WAD;
    await sendAndMine(w.provider, () => w.vault.connect(w.keeper).trade(ETH_USD, own, 10n ** 30n));
    const size = async () => BigInt((await w.vault.getPosition(w.keeper.address, ETH_USD)).sizeWad);
    const c = await crash(w);
    const run = await runKeeper(w, {
      url: node.url,
      maxBlocks: 40,
      until: async (k) => k.stats.closes > 0 && (await size()) === own && (await settled(w, c.liquidatable)),
    });
    saveLog("keeper-own-position", run.logs);
    expect(await settled(w, c.liquidatable), "liquidations finished").to.equal(true);
    expect(run.keeper.stats.takes, "position-lot takes").to.be.at.least(1);
    expect(run.keeper.stats.closes, "closes of what the takes handed over").to.be.at.least(1);
    expect(await size(), "own position").to.equal(own);
    expect(run.keeper.handedOver.size, "left to close").to.equal(0);
  });

  it("sends no kick while the market's breaker is at level 2, kicks once it reopens, and pokes only when a poke changes a level", async () => {
    // The guardian (the admin) trips ETH-USD to level 2: the auction house would revert kicks.
    await sendAndMine(w.provider, () => w.breaker.trip(ETH_USD, 2));
    const c = await crash(w);
    const paused = await runKeeper(w, { url: node.url, maxBlocks: 6 });
    const during = await txsFrom(w.provider, w.keeper.address, paused.firstBlock, paused.lastBlock);
    expect(
      during.filter((t) => t.selector === KICK_SELECTOR),
      "kick transactions while paused",
    ).to.deep.equal([]);
    const kicksWhilePaused = (await outcome(w, c, paused)).kicks;
    expect(kicksWhilePaused).to.deep.equal([]);
    expect(paused.keeper.stats.pausedKicks, "kicks held back").to.be.at.least(c.liquidatable.length);
    // The WETH-backed accounts' only lots are ETH-USD positions: no takes to make either.
    expect(during.length, "keeper transactions while paused").to.equal(0);

    // The trip steps down one level per cooldown: two cooldowns later the market is open again.
    const cooldown = Number((await w.breaker.params()).cooldownSec);
    await rpc(w.provider, "evm_increaseTime", [2 * cooldown]);
    const reopenBlock = await sendAndMine(w.provider, () => w.ethFeed.setAnswer(BigInt(CRASH_PRICE) * 10n ** 8n));
    expect(await w.breaker.level(ETH_USD)).to.equal(0n);
    const resumed = await runKeeper(w, { url: node.url, maxBlocks: 40, until: () => settled(w, c.liquidatable) });
    const o = await outcome(w, { ...c, crashBlock: reopenBlock }, resumed);
    await expectNoHealthyKick(w, o);
    const worst = expectKickedWithin(o, bound(c.liquidatable.length));
    expect(await settled(w, c.liquidatable)).to.equal(true);

    // Pokes: the keeper sends the ETH-USD poke when the move trips band 1 (it may poke again later
    // when another trigger fires).
    // (The time jump above also left the BTC feed stale, an oracle-guard trigger the keeper pokes
    // too; those pokes are simulated a block before they are mined, so one may find the level
    // already where it would put it. Only the ETH-USD poke is asserted.)
    const pokeSelector = w.breaker.interface.getFunction("poke")!.selector;
    const before = await w.provider.getBlockNumber();
    await sendAndMine(w.provider, () => w.breaker.poke(ETH_USD)); // the window's high: the current price
    await sendAndMine(w.provider, () => w.ethFeed.setAnswer((BigInt(CRASH_PRICE) * 10n ** 8n * 92n) / 100n)); // −8%
    const pokeRun = await runKeeper(w, { url: node.url, maxBlocks: 4 });
    saveLog("keeper-pokes", pokeRun.logs);
    const pokes = (await txsFrom(w.provider, w.keeper.address, before, await w.provider.getBlockNumber())).filter(
      (t) => t.selector === pokeSelector,
    );
    const ethPokes = pokes.filter((p) => p.data.slice(10) === ETH_USD.slice(2));
    expect(ethPokes.length, "ETH-USD pokes sent").to.be.at.least(1);
    const levelChanged = w.breaker.interface.getEvent("LevelChanged")!.topicHash;
    const receipt = (await w.provider.getTransactionReceipt(ethPokes[0].hash))!;
    expect(
      receipt.logs.filter((l) => l.topics[0] === levelChanged).length,
      "the ETH-USD poke changed the level",
    ).to.equal(1);
    expect(await w.breaker.level(ETH_USD)).to.equal(1n);
    figures.breaker = { pausedKicks: paused.keeper.stats.pausedKicks, worstBlocksToKickAfterReopen: worst };
  });
});

import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { Interface } from "ethers";
import { auctionId, decodeAuctionId, LotKind } from "../../lib/codec";
import { startNode, type LocalNode } from "../../lib/devnode";
import { AuctionHouse__factory } from "../../typechain-types";
import { runKeeper, saveLog, txsFrom } from "./harness";
import { buildWorld, CRASH_PRICE, rpc, sendAndMine, type KeeperWorld } from "./world";

/**
 * The keeper in takeover mode (AuctionHouse `poolTakeover`, Ignition parameter `poolTakeover`):
 * a kick hands the slice to the pool at the oracle price and opens a pool lot (LotKind.Pool), which
 * the keeper must recognise as such (kind "pool", its market's breaker level, a position-style take
 * or an unpaid redo) and clear.
 */

const auctionIface = new Interface(AuctionHouse__factory.abi);
const DEPLOYMENT_ID = `keeper-takeover-test-${process.pid}`;
const DEPLOYMENT_DIR = path.join(__dirname, "..", "..", "deploy", "deployments", DEPLOYMENT_ID);

describe("keeper: takeover mode (pool lots) on a local node", function () {
  this.timeout(300_000);
  let node: LocalNode;
  let w: KeeperWorld;

  before(async () => {
    node = await startNode();
    w = await buildWorld(node, { deploymentId: DEPLOYMENT_ID, parameters: { poolTakeover: true } });
    expect((await w.auction.params()).poolTakeover, "deployed in takeover mode").to.equal(true);
    // lib/codec.ts encodes ids as the deployed auction house does.
    const acc = w.traders[0].wallet.address;
    expect(await w.auction.auctionId(acc, LotKind.Pool, 1)).to.equal(auctionId(acc, LotKind.Pool, 1));
    await rpc(w.provider, "evm_setAutomine", [false]);
  });

  after(async () => {
    w?.provider.destroy();
    fs.rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
    await node?.stop();
  });

  it("files pool lots as kind 'pool', takes them like position lots and clears them all", async () => {
    const crashBlock = await sendAndMine(w.provider, () => w.ethFeed.setAnswer(BigInt(CRASH_PRICE) * 10n ** 8n));
    const liquidatable: string[] = [];
    for (const t of w.traders) {
      const [liq] = await w.vault.isLiquidatable(t.wallet.address, { blockTag: crashBlock });
      if (liq) liquidatable.push(t.wallet.address);
    }
    expect(liquidatable.length, "liquidatable after the crash").to.be.at.least(4);

    const auction = await w.auction.getAddress();
    const poolLots = async (): Promise<{ started: Set<bigint>; ended: Set<bigint> }> => {
      const logs = await w.provider.getLogs({ address: auction, fromBlock: crashBlock });
      const started = new Set<bigint>();
      const ended = new Set<bigint>();
      for (const log of logs) {
        const p = auctionIface.parseLog(log);
        if (!p || (p.name !== "Kick" && p.name !== "AuctionEnded")) continue;
        const id = BigInt(p.args[0]);
        if (decodeAuctionId(id).kind !== LotKind.Pool) continue;
        (p.name === "Kick" ? started : ended).add(id);
      }
      return { started, ended };
    };
    // The kind the keeper filed each auction under, seen after every block it handled.
    const filed = new Map<bigint, string>();
    const run = await runKeeper(w, {
      url: node.url,
      maxBlocks: 80,
      until: async (k) => {
        for (const a of k.discovery.auctions.values()) filed.set(a.id, a.kind);
        const { started, ended } = await poolLots();
        if (started.size === 0 || [...started].some((id) => !ended.has(id))) return false;
        const states = await Promise.all(w.traders.map((t) => w.vault.isLiquidatable(t.wallet.address)));
        return states.every(([liq]) => !liq);
      },
    });
    saveLog("keeper-takeover", run.logs);

    const { started, ended } = await poolLots();
    expect(started.size, "pool lots kicked").to.be.at.least(liquidatable.length);
    for (const id of started) {
      expect(filed.get(id), `kind the keeper filed pool lot ${id} under`).to.equal("pool");
      expect(ended.has(id), `pool lot ${id} cleared`).to.equal(true);
      expect((await w.auction.auctionStatus(id))[2].lot, `pool lot ${id} left`).to.equal(0n);
    }
    // Cleared by the keeper's takes (position-style, into its own account) or its redos and the backstop.
    const logs = await w.provider.getLogs({ address: auction, fromBlock: crashBlock });
    let keeperTakes = 0;
    for (const log of logs) {
      const p = auctionIface.parseLog(log);
      if (p?.name === "Take" && started.has(BigInt(p.args[0])) && p.args[1] === w.keeper.address) keeperTakes++;
    }
    expect(keeperTakes, "pool lots taken by the keeper").to.be.at.least(1);
    expect(run.keeper.stats.takes, "keeper takes").to.be.at.least(keeperTakes);
    for (const t of w.traders) {
      const [liq] = await w.vault.isLiquidatable(t.wallet.address);
      expect(liq, `${t.label} ${t.wallet.address} still liquidatable`).to.equal(false);
    }
    const sent = await txsFrom(w.provider, w.keeper.address, run.firstBlock, run.lastBlock);
    expect(
      sent.filter((t) => t.status !== 1),
      "reverted keeper transactions",
    ).to.deep.equal([]);
    expect(
      run.logs.filter((l) => l.event === "step_failed"),
      "failed keeper steps",
    ).to.deep.equal([]);
  });
});

/**
 * [usability] item 4: the keeper starts cleanly while the node is down. It waits, retrying with
 * backoff and logging each attempt, and goes on once the node answers; with `nodeWaitSec` it gives
 * up after that long with one line naming the URL.
 */
import { expect } from "chai";
import { createKeeper, parseConfig, ConfigError, type LogRecord } from "../../keeper";
import { freePort, startNode, type LocalNode } from "../../lib/devnode";
import { startFaultyProxy, type FaultyProxy } from "./proxy";

// Any addresses: the keeper resolves them at start but reads nothing from them until it runs.
const ADDRESSES = { vault: "0x" + "11".repeat(20), auctionHouse: "0x" + "22".repeat(20) };

describe("keeper: a node that is down at start", function () {
  let node: LocalNode;
  let proxy: FaultyProxy;

  before(async function () {
    node = await startNode();
    proxy = await startFaultyProxy(await freePort(), { target: node.url, seed: 1, failRate: 0, maxDelayMs: 0 });
  });

  after(async function () {
    await proxy?.stop();
    await node?.stop();
  });

  it("waits for the node, logging each retry with its cause, and starts once it answers", async function () {
    await proxy.stop();
    const logs: LogRecord[] = [];
    const started = createKeeper({ url: proxy.url, config: parseConfig(ADDRESSES), sink: (r) => logs.push(r) });
    await new Promise((r) => setTimeout(r, 1_500));
    const waits = logs.filter((l) => l.event === "node_unreachable");
    expect(waits.length, "retries logged while the node is down").to.be.at.least(2);
    expect(waits[0]).to.include({ level: "warn", url: proxy.url, attempt: 1 });
    expect(String(waits[0].error)).to.match(/ECONNREFUSED/);
    expect(Number(waits[1].retryInMs)).to.be.greaterThan(Number(waits[0].retryInMs)); // backoff
    await proxy.start();
    const keeper = await started;
    expect(keeper.chainId).to.equal(BigInt(node.chainId));
    expect(
      logs.some((l) => l.event === "signer"),
      "went on to resolve its signer",
    ).to.equal(true);
  });

  it("with nodeWaitSec, gives up after that long with a ConfigError naming the URL", async function () {
    await proxy.stop();
    const t0 = Date.now();
    let error: unknown;
    try {
      await createKeeper({ url: proxy.url, config: parseConfig({ ...ADDRESSES, nodeWaitSec: 1 }), sink: () => {} });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(new RegExp(`cannot reach the node at ${proxy.url} after \\d+ s`));
    expect(Date.now() - t0).to.be.lessThan(5_000);
    await proxy.start();
  });
});

/** Runs a keeper in-process against the test node while the test mines blocks. */
import fs from "node:fs";
import { Interface, type JsonRpcProvider } from "ethers";
import {
  Keeper,
  createLogger,
  parseConfig,
  resolveAddresses,
  type KeeperConfigInput,
  type LogRecord,
} from "../../keeper";
import { keeperProvider } from "../../keeper";
import { AuctionHouse__factory } from "../../typechain-types";
import { mine, rpc, type KeeperWorld } from "./world";

export interface Run {
  keeper: Keeper;
  logs: LogRecord[];
  firstBlock: number;
  lastBlock: number;
}

export interface RunOptions {
  /** JSON-RPC URL the keeper talks to (the node, or a proxy in front of it). */
  url: string;
  config?: KeeperConfigInput;
  /** Most blocks the test mines. */
  maxBlocks: number;
  /** Stops early when true (checked after each block). */
  until?: (k: Keeper) => Promise<boolean>;
  /** Called before mining each block, with the count mined so far; may pause or fault things. */
  beforeBlock?: (mined: number, k: Keeper) => Promise<void>;
  /** Most milliseconds to wait for the keeper to handle a block before mining the next anyway. */
  blockWaitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a keeper (signer: the world's keeper wallet), then mines up to `maxBlocks` blocks, each
 * once the keeper handled the previous one (or `blockWaitMs` passed), and stops it gracefully.
 */
export async function runKeeper(w: KeeperWorld, o: RunOptions): Promise<Run> {
  const provider = keeperProvider(o.url, BigInt(w.node.chainId));
  const cfg = resolveAddresses(
    parseConfig({
      deploymentId: w.deploymentId,
      circuitBreaker: await w.breaker.getAddress(),
      flashTaker: w.flashTaker,
      minProfitUsd: "1",
      maxTxPerBlock: 4,
      pollMs: 50,
      retryBaseMs: 50,
      retryMaxMs: 1_000,
      ...o.config,
    }),
    BigInt(w.node.chainId),
  );
  const logs: LogRecord[] = [];
  const echo = process.env.KEEPER_TEST_LOG === "1";
  const log = createLogger("debug", (r) => {
    logs.push(r);
    if (echo && r.level !== "debug") process.stdout.write(JSON.stringify(r) + "\n");
  });
  const keeper = new Keeper(provider, w.keeper.connect(provider), w.keeper.address, BigInt(w.node.chainId), cfg, log);
  const firstBlock = Number(await rpc<string>(w.provider, "eth_blockNumber"));
  const running = keeper.run({ maxBlocks: 0 });
  let lastBlock = firstBlock;
  try {
    for (let mined = 0; mined < o.maxBlocks; mined++) {
      const deadline = Date.now() + (o.blockWaitMs ?? 4_000);
      while (keeper.lastHandledBlock < lastBlock && Date.now() < deadline) await sleep(20);
      if (o.until && (await o.until(keeper))) break;
      await o.beforeBlock?.(mined, keeper);
      lastBlock = await mine(w.provider);
    }
    const deadline = Date.now() + (o.blockWaitMs ?? 4_000);
    while (keeper.lastHandledBlock < lastBlock && Date.now() < deadline) await sleep(20);
  } finally {
    keeper.stop();
    // Transactions sent in the last step are pending: mine them so the keeper can drain.
    const drained = running.then(() => true);
    for (let i = 0; i < 20 && !(await Promise.race([drained, sleep(250).then(() => false)])); i++) {
      lastBlock = await mine(w.provider);
    }
    await running;
    provider.destroy();
  }
  return { keeper, logs, firstBlock, lastBlock };
}

const auctionIface = new Interface(AuctionHouse__factory.abi);

export interface SentTx {
  hash: string;
  block: number;
  to: string;
  selector: string;
  data: string;
  status: number;
}

/** Every transaction `from` sent in blocks [fromBlock, toBlock], with its receipt status. */
export async function txsFrom(provider: JsonRpcProvider, from: string, fromBlock: number, toBlock: number) {
  const out: SentTx[] = [];
  for (let n = fromBlock; n <= toBlock; n++) {
    const block = await rpc<{ transactions: { hash: string; from: string; to: string; input: string }[] }>(
      provider,
      "eth_getBlockByNumber",
      ["0x" + n.toString(16), true],
    );
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() !== from.toLowerCase()) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      out.push({
        hash: tx.hash,
        block: n,
        to: tx.to,
        selector: tx.input.slice(0, 10),
        data: tx.input,
        status: receipt?.status ?? -1,
      });
    }
  }
  return out;
}

export const KICK_SELECTOR = auctionIface.getFunction("kick")!.selector;

/** Writes the keeper's log of a run to reports/ for inspection (not asserted on). */
export function saveLog(name: string, logs: LogRecord[]): void {
  fs.mkdirSync("reports", { recursive: true });
  fs.writeFileSync(`reports/${name}.jsonl`, logs.map((l) => JSON.stringify(l)).join("\n") + "\n");
}

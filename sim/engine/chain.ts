/**
 * The only place that speaks JSON-RPC to the chain. Standard methods plus the handful of
 * development methods the lab needs (snapshot/revert, mining control, timestamps, balances,
 * impersonation), mapped to Hardhat's or Anvil's names. Everything else in the engine goes through
 * this adapter, so it runs unchanged on the in-process network and on `--network localhost`.
 */
import type { EIP1193Provider } from "hardhat/types";
import { charge } from "./profile";

export interface TxRequest {
  from: string;
  to: string;
  data: string;
  gas: number;
}

export interface Receipt {
  transactionHash: string;
  blockNumber: string;
  status: string;
  gasUsed: string;
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
}

/** Largest gas a single transaction may use (EIP-7825, in force under osaka). */
export const TX_GAS_CAP = 16_000_000;

export class Chain {
  private constructor(
    private readonly provider: EIP1193Provider,
    readonly flavour: "hardhat" | "anvil",
  ) {}

  static async connect(provider: EIP1193Provider): Promise<Chain> {
    const version = String(await provider.request({ method: "web3_clientVersion", params: [] }));
    return new Chain(provider, /anvil/i.test(version) ? "anvil" : "hardhat");
  }

  async request<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const t0 = performance.now();
    try {
      return (await this.provider.request({ method, params })) as T;
    } finally {
      charge(`rpc ${method}`, performance.now() - t0, 1);
    }
  }

  private dev(name: "setBalance" | "impersonateAccount" | "setBlockGasLimit"): string {
    if (name === "setBlockGasLimit") return "evm_setBlockGasLimit";
    return `${this.flavour === "anvil" ? "anvil" : "hardhat"}_${name}`;
  }

  snapshot(): Promise<string> {
    return this.request<string>("evm_snapshot");
  }

  async revert(id: string): Promise<void> {
    const ok = await this.request<boolean>("evm_revert", [id]);
    if (!ok) throw new Error(`chain: evm_revert(${id}) failed`);
  }

  async setAutomine(on: boolean): Promise<void> {
    await this.request("evm_setAutomine", [on]);
  }

  /** Mines one block, stamped `timestamp` when given. */
  async mine(timestamp?: number): Promise<void> {
    if (timestamp !== undefined) await this.request("evm_setNextBlockTimestamp", [timestamp]);
    await this.request("evm_mine");
  }

  async setBalance(address: string, wei: bigint): Promise<void> {
    await this.request(this.dev("setBalance"), [address, "0x" + wei.toString(16)]);
  }

  async impersonate(address: string): Promise<void> {
    await this.request(this.dev("impersonateAccount"), [address]);
  }

  /** Raises the block gas limit so that one simulated block holds all of its transactions. */
  async setBlockGasLimit(gas: number): Promise<void> {
    await this.request(this.dev("setBlockGasLimit"), ["0x" + gas.toString(16)]);
  }

  /** Sends a transaction from an unlocked or impersonated account; returns its hash. `priority`
   * orders the transactions of one block (higher first); ties keep arrival order. */
  send(tx: TxRequest, priority: number, nonce?: number): Promise<string> {
    return this.request<string>("eth_sendTransaction", [
      {
        from: tx.from,
        ...(nonce === undefined ? {} : { nonce: "0x" + nonce.toString(16) }),
        to: tx.to,
        data: tx.data,
        gas: "0x" + tx.gas.toString(16),
        maxFeePerGas: "0x" + (100_000_000_000n + BigInt(priority)).toString(16),
        maxPriorityFeePerGas: "0x" + (1_000_000_000n + BigInt(priority)).toString(16),
      },
    ]);
  }

  /**
   * Sends one block's transactions at once and returns their hashes in order. Each sender's nonces
   * are read once (pending) and assigned in array order, so the node orders a sender's transactions
   * by nonce however the requests arrive; across senders, `send`'s priority fee (first = highest)
   * keeps the array's order. Same block contents as sending them one by one, without waiting for
   * each request in turn.
   */
  async sendBlock(txs: TxRequest[]): Promise<string[]> {
    const senders = [...new Set(txs.map((tx) => tx.from.toLowerCase()))];
    const nonces = new Map<string, number>();
    await Promise.all(
      senders.map(async (s) =>
        nonces.set(s, Number(await this.request<string>("eth_getTransactionCount", [s, "pending"]))),
      ),
    );
    return Promise.all(
      txs.map((tx, i) => {
        const from = tx.from.toLowerCase();
        const nonce = nonces.get(from) as number;
        nonces.set(from, nonce + 1);
        return this.send(tx, txs.length - i, nonce);
      }),
    );
  }

  /** `eth_call` at the latest block, or at block `blockTag` (the state after that block). */
  call(to: string, data: string, gas = TX_GAS_CAP, blockTag?: number): Promise<string> {
    const tag = blockTag === undefined ? "latest" : "0x" + blockTag.toString(16);
    return this.request<string>("eth_call", [{ to, data, gas: "0x" + gas.toString(16) }, tag]);
  }

  async blockNumber(): Promise<number> {
    return Number(await this.request<string>("eth_blockNumber"));
  }

  async block(n: number): Promise<{ timestamp: number; gasUsed: bigint; txCount: number }> {
    const b = await this.request<{ timestamp: string; gasUsed: string; transactions: string[] }>(
      "eth_getBlockByNumber",
      ["0x" + n.toString(16), false],
    );
    return { timestamp: Number(b.timestamp), gasUsed: BigInt(b.gasUsed), txCount: b.transactions.length };
  }

  receipt(hash: string): Promise<Receipt | null> {
    return this.request<Receipt | null>("eth_getTransactionReceipt", [hash]);
  }

  /** Logs of `addresses` in the block range; with `topic0s`, only logs whose first topic is one of them. */
  logs(fromBlock: number, toBlock: number, addresses: string[], topic0s?: string[]): Promise<RpcLog[]> {
    return this.request<RpcLog[]>("eth_getLogs", [
      {
        fromBlock: "0x" + fromBlock.toString(16),
        toBlock: "0x" + toBlock.toString(16),
        address: addresses,
        ...(topic0s === undefined ? {} : { topics: [topic0s] }),
      },
    ]);
  }
}

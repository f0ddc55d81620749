/**
 * Transaction sending with the keeper's own nonce management: the next nonce is tracked locally
 * (several transactions can be pending in one block), every transaction is signed locally so its
 * hash is known before it is sent, a send whose answer is lost is retried with the same bytes (the
 * node either accepts it, already knows it, or mined it), and the nonce is resynchronised from the
 * node after a nonce error or a transaction that never got mined.
 */
import { keccak256, type JsonRpcProvider, type Signer, type TransactionReceipt } from "ethers";
import { isNonceError, isRetryable, message, withRetry, sleep, type RetryOptions } from "./errors";
import type { Logger } from "./log";

export interface TxRequest {
  /** What the transaction does: kick, take, flashTake, redo, poke, close. */
  action: string;
  /** What it acts on: an account, an auction id, a market. */
  target: string;
  to: string;
  data: string;
  gasLimit: bigint;
}

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface PendingTx extends TxRequest {
  hash: string;
  nonce: number;
  sentAtBlock: number;
}

export interface MinedTx extends PendingTx {
  receipt: TransactionReceipt;
}

export interface SenderStats {
  sent: number;
  mined: number;
  reverted: number;
  dropped: number;
  nonceResyncs: number;
  sendRetries: number;
}

const KNOWN = /already known|known transaction|already imported|already in (the )?(mempool|pool)/i;

export class TxSender {
  readonly pending = new Map<string, PendingTx>();
  readonly stats: SenderStats = { sent: 0, mined: 0, reverted: 0, dropped: 0, nonceResyncs: 0, sendRetries: 0 };
  private nonce = -1;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly signer: Signer,
    readonly address: string,
    private readonly chainId: bigint,
    private readonly retry: RetryOptions,
    private readonly log: Logger,
    private readonly stuckAfterBlocks: number,
  ) {}

  /** Reads the pending nonce from the node. */
  async resync(reason: string): Promise<void> {
    const before = this.nonce;
    this.nonce = await withRetry(() => this.provider.getTransactionCount(this.address, "pending"), this.retry);
    if (before >= 0) {
      this.stats.nonceResyncs++;
      this.log.warn("nonce_resync", { reason, from: before, to: this.nonce });
    }
  }

  /** Signs and sends; returns the pending transaction, or undefined if it was not sent. */
  async send(req: TxRequest, fees: Fees, block: number): Promise<PendingTx | undefined> {
    if (this.nonce < 0) await this.resync("start");
    const nonce = this.nonce;
    const signed = await this.signer.signTransaction({
      type: 2,
      chainId: this.chainId,
      nonce,
      to: req.to,
      data: req.data,
      value: 0n,
      gasLimit: req.gasLimit,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    const hash = keccak256(signed);
    let accepted = false;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retry.retries && !accepted; attempt++) {
      try {
        await this.provider.send("eth_sendRawTransaction", [signed]);
        accepted = true;
      } catch (e) {
        lastError = e;
        if (KNOWN.test(message(e))) {
          accepted = true;
          break;
        }
        // The answer may have been lost after the node took it (or even mined it).
        if (await this.known(hash)) {
          accepted = true;
          break;
        }
        if (isNonceError(e) || !isRetryable(e)) break;
        this.stats.sendRetries++;
        await sleep(Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** attempt));
      }
    }
    if (!accepted) {
      this.log.warn("tx_not_sent", { action: req.action, target: req.target, nonce, error: message(lastError) });
      await this.resync(isNonceError(lastError) ? "nonce error" : "send failed").catch(() => undefined);
      return undefined;
    }
    this.nonce = nonce + 1;
    const p: PendingTx = { ...req, hash, nonce, sentAtBlock: block };
    this.pending.set(hash, p);
    this.stats.sent++;
    this.log.info("tx_sent", {
      action: req.action,
      target: req.target,
      hash,
      nonce,
      gasLimit: req.gasLimit,
      maxFeeGwei: Number(fees.maxFeePerGas) / 1e9,
    });
    return p;
  }

  private async known(hash: string): Promise<boolean> {
    try {
      return (await withRetry(() => this.provider.getTransaction(hash), this.retry)) !== null;
    } catch {
      return false;
    }
  }

  /** Marks a mined transaction handled; false if it already was (a concurrent poll saw it too). */
  settle(m: MinedTx): boolean {
    if (!this.pending.delete(m.hash)) return false;
    this.stats.mined++;
    if (m.receipt.status !== 1) this.stats.reverted++;
    return true;
  }

  /**
   * Collects the receipts of pending transactions. Transactions unmined after `stuckAfterBlocks`
   * that the node no longer knows are dropped and the nonce is resynchronised.
   */
  async poll(block: number): Promise<MinedTx[]> {
    const list = [...this.pending.values()];
    const receipts = await Promise.all(
      list.map((p) => withRetry(() => this.provider.getTransactionReceipt(p.hash), this.retry).catch(() => null)),
    );
    const mined: MinedTx[] = [];
    let resync = false;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      const receipt = receipts[i];
      if (receipt) {
        // Not removed here: `settle` does it when the caller handles the receipt, so a step that
        // fails after this poll leaves the transaction pending for the next one.
        mined.push({ ...p, receipt });
      } else if (block - p.sentAtBlock >= this.stuckAfterBlocks && !(await this.known(p.hash))) {
        this.pending.delete(p.hash);
        this.stats.dropped++;
        this.log.warn("tx_dropped", { action: p.action, target: p.target, hash: p.hash, nonce: p.nonce });
        resync = true;
      }
    }
    if (resync) await this.resync("dropped transaction");
    return mined;
  }
}

/**
 * Account and auction discovery from events: vault `Deposited` and `Traded` name every account that
 * can ever hold risk; auction-house `Kick` and `AuctionEnded` give the running auctions. Logs are
 * read in chunks from a cursor, so the same code backfills from the start block and follows new blocks.
 */
import { getAddress, type JsonRpcProvider, type Log } from "ethers";
import { decodeAuctionId, LOT_KIND_NAMES, type LotKindName } from "../lib/codec";
import { AuctionHouse__factory, PerpVault__factory } from "../typechain-types";
import { withRetry, type RetryOptions } from "./errors";

const vaultIface = PerpVault__factory.createInterface();
const auctionIface = AuctionHouse__factory.createInterface();
const DEPOSITED = vaultIface.getEvent("Deposited").topicHash;
const TRADED = vaultIface.getEvent("Traded").topicHash;
const KICK = auctionIface.getEvent("Kick").topicHash;
const ENDED = auctionIface.getEvent("AuctionEnded").topicHash;

export interface TrackedAuction {
  id: bigint;
  account: string;
  /** Market id (position and pool lots) or the collateral token as bytes32 (collateral lots). */
  key: string;
  /** Position: an account's slice; collateral: its collateral; pool: the slice the pool took over (takeover mode). */
  kind: LotKindName;
  /** Market index (position and pool lots) or collateral index (collateral lots), from the id. */
  index: number;
  kickBlock: number;
}

export class Discovery {
  readonly accounts = new Set<string>();
  readonly auctions = new Map<bigint, TrackedAuction>();
  /** Last block whose logs were read. */
  cursor: number;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly vault: string,
    private readonly auctionHouse: string,
    private readonly startBlock: number,
    private readonly chunk: number,
    private readonly retry: RetryOptions,
  ) {
    this.cursor = startBlock - 1;
  }

  /** Forgets everything (the chain went backwards: a node restarted from scratch). */
  reset(): void {
    this.accounts.clear();
    this.auctions.clear();
    this.cursor = this.startBlock - 1;
  }

  /** Reads logs up to `head`; returns how many new accounts it found. */
  async scan(head: number): Promise<{ newAccounts: number; kicks: number; ended: number }> {
    let newAccounts = 0;
    let kicks = 0;
    let ended = 0;
    while (this.cursor < head) {
      const from = this.cursor + 1;
      const to = Math.min(head, from + this.chunk - 1);
      const [vaultLogs, auctionLogs] = await Promise.all([
        this.logs(this.vault, [DEPOSITED, TRADED], from, to),
        this.logs(this.auctionHouse, [KICK, ENDED], from, to),
      ]);
      for (const log of vaultLogs) {
        const account = getAddress("0x" + log.topics[1].slice(26));
        if (!this.accounts.has(account)) {
          this.accounts.add(account);
          newAccounts++;
        }
      }
      const sorted = [...auctionLogs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      for (const log of sorted) {
        const parsed = auctionIface.parseLog(log);
        if (!parsed) continue;
        const id = BigInt(parsed.args[0]);
        if (parsed.name === "Kick") {
          const { kind, index } = decodeAuctionId(id);
          this.auctions.set(id, {
            id,
            account: getAddress(String(parsed.args[1])),
            key: String(parsed.args[2]),
            kind: LOT_KIND_NAMES[kind],
            index,
            kickBlock: log.blockNumber,
          });
          kicks++;
        } else {
          this.auctions.delete(id);
          ended++;
        }
      }
      this.cursor = to;
    }
    return { newAccounts, kicks, ended };
  }

  /**
   * Accounts with a running auction (the auction house kicks an account once at a time). A pool
   * lot does not count: the takeover released its account at the kick, which may be kicked again.
   */
  accountsInAuction(): Set<string> {
    return new Set([...this.auctions.values()].filter((a) => a.kind !== "pool").map((a) => a.account));
  }

  private logs(address: string, topics: string[], fromBlock: number, toBlock: number): Promise<Log[]> {
    return withRetry(() => this.provider.getLogs({ address, topics: [topics], fromBlock, toBlock }), this.retry);
  }
}

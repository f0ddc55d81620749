/**
 * The keeper loop. Each new block: collect receipts, read new vault/auction events, read breaker
 * levels, check every known account's health in batched view calls, then act within a per-block
 * transaction budget: poke breakers whose poke would change a level, kick liquidatable accounts,
 * take auctions that pay, redo stale ones, close positions that takes handed over. Every
 * transaction is simulated (eth_call + eth_estimateGas) right before it is sent.
 */
import { MaxUint256, type Interface, type JsonRpcProvider, type Signer } from "ethers";
import {
  AuctionHouse__factory,
  ICircuitBreaker__factory,
  OracleRouter__factory,
  PerpVault__factory,
  UniswapFlashTaker__factory,
  type AuctionHouse,
  type ICircuitBreaker,
  type OracleRouter,
  type PerpVault,
  type UniswapFlashTaker,
} from "../typechain-types";
import { BREAKER_LEVEL_NAMES, BreakerLevel, breakerLevel, describeBreakerLevel } from "../lib/codec";
import type { ResolvedConfig } from "./config";
import { Discovery, type TrackedAuction } from "./discovery";
import { explainRevert, isRevert, message, revertReason, sleep, withRetry, type RetryOptions } from "./errors";
import type { Logger } from "./log";
import { RevertMemory } from "./reverts";
import { TxSender, type Fees, type MinedTx } from "./sender";

const WAD = 10n ** 18n;
const GLOBAL = "0x" + "00".repeat(32);
const abs = (x: bigint): bigint => (x < 0n ? -x : x);
const usd = (wad: bigint): number => Number(wad / 10n ** 14n) / 1e4;

export interface KeeperStats {
  blocks: number;
  kicks: number;
  takes: number;
  flashTakes: number;
  redos: number;
  pokes: number;
  closes: number;
  pausedKicks: number;
  pausedTakes: number;
  skippedGas: number;
  rpcRetries: number;
  stepErrors: number;
}

interface Action {
  action: "poke" | "kick" | "take" | "flashTake" | "redo" | "close";
  target: string;
  to: string;
  iface: Interface;
  fn: string;
  args: unknown[];
  /** Decides from the simulated gas whether the action still pays; the reason when it does not. */
  worth?: (gasUsdWad: bigint) => string | undefined;
  /** Final arguments once gas is known (a flash take's on-chain minimum profit includes gas). */
  argsWithGas?: (gasUsdWad: bigint) => unknown[];
  /** Called with the transaction once it is mined successfully. */
  onMined?: (m: MinedTx) => void;
  info?: Record<string, unknown>;
}

interface Prepared {
  a: Action;
  data: string;
  gas: bigint;
  gasUsd: bigint;
}

interface BlockSummary {
  block: number;
  accounts: number;
  liquidatable: number;
  auctions: number;
  sent: number;
  pending: number;
  paused: number;
}

export class Keeper {
  readonly stats: KeeperStats = {
    blocks: 0,
    kicks: 0,
    takes: 0,
    flashTakes: 0,
    redos: 0,
    pokes: 0,
    closes: 0,
    pausedKicks: 0,
    pausedTakes: 0,
    skippedGas: 0,
    rpcRetries: 0,
    stepErrors: 0,
  };
  readonly discovery: Discovery;
  readonly sender: TxSender;
  readonly reverts = new RevertMemory();
  readonly vault: PerpVault;
  readonly auction: AuctionHouse;
  readonly breaker?: ICircuitBreaker;
  readonly flash?: UniswapFlashTaker;
  private oracle?: OracleRouter;
  private readonly retry: RetryOptions;
  private lastBlock = -1;
  private stopping = false;
  private markets?: string[];
  private collateralTokens?: string[];
  private readonly takerFee = new Map<string, bigint>();
  /** Targets with a transaction in flight: at most one at a time each. */
  private readonly inFlight = new Map<string, string>();
  /** Reasons already logged per (action, target), so that a skip is logged once, not every block. */
  private readonly skipLogged = new Map<string, string>();
  private levels = new Map<string, BreakerLevel>();
  /**
   * Signed size, per market, of the positions takes handed to the keeper and it has not closed
   * yet: all that `closeActions` trades unless `closeOwnPositions` is on.
   */
  readonly handedOver = new Map<string, bigint>();
  /** Callbacks of sent actions, by transaction hash, run when it is mined successfully. */
  private readonly onMined = new Map<string, (m: MinedTx) => void>();

  constructor(
    readonly provider: JsonRpcProvider,
    signer: Signer,
    readonly address: string,
    readonly chainId: bigint,
    readonly cfg: ResolvedConfig,
    readonly log: Logger,
  ) {
    this.retry = {
      retries: cfg.rpcRetries,
      baseMs: cfg.retryBaseMs,
      maxMs: cfg.retryMaxMs,
      onRetry: (attempt, e) => {
        this.stats.rpcRetries++;
        this.log.debug("rpc_retry", { attempt, error: message(e) });
      },
      aborted: () => false,
    };
    this.vault = PerpVault__factory.connect(cfg.vault, provider);
    this.auction = AuctionHouse__factory.connect(cfg.auctionHouse, provider);
    if (cfg.circuitBreaker) this.breaker = ICircuitBreaker__factory.connect(cfg.circuitBreaker, provider);
    if (cfg.flashTaker) this.flash = UniswapFlashTaker__factory.connect(cfg.flashTaker, provider);
    this.discovery = new Discovery(provider, cfg.vault, cfg.auctionHouse, cfg.startBlock, cfg.logChunk, this.retry);
    this.sender = new TxSender(provider, signer, address, chainId, this.retry, log, cfg.stuckAfterBlocks);
  }

  /** Asks the loop to stop after the current action; `run` then waits for pending transactions. */
  stop(): void {
    this.stopping = true;
  }

  /** The last block `step` handled (−1 before the first). */
  get lastHandledBlock(): number {
    return this.lastBlock;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, this.retry);
  }

  /**
   * Polls for new blocks and runs `step` on each, until `stop()` or `maxBlocks` blocks were handled.
   * RPC failures that outlast the retries fail the step; the loop waits (backoff) and carries on
   * from its cursor, so a restarted node or a dropped connection costs only the blocks it was away.
   */
  async run(opts: { maxBlocks?: number } = {}): Promise<void> {
    const maxBlocks = opts.maxBlocks ?? this.cfg.maxBlocks;
    this.log.info("keeper_start", {
      keeper: this.address,
      chainId: this.chainId,
      vault: this.cfg.vault,
      auctionHouse: this.cfg.auctionHouse,
      circuitBreaker: this.cfg.circuitBreaker ?? null,
      flashTaker: this.cfg.flashTaker ?? null,
      startBlock: this.cfg.startBlock,
      maxTxPerBlock: this.cfg.maxTxPerBlock,
      minProfitUsd: usd(this.cfg.minProfitUsd),
      maxGasPriceGwei: Number(this.cfg.maxGasPriceGwei) / 1e9,
      closeOwnPositions: this.cfg.closeOwnPositions,
    });
    if (this.cfg.closeOwnPositions) {
      this.log.warn("close_own_positions", {
        keeper: this.address,
        note: "closeOwnPositions is on: the keeper closes every position its signer holds, not only those takes handed over",
      });
    }
    let failures = 0;
    while (!this.stopping && (maxBlocks === 0 || this.stats.blocks < maxBlocks)) {
      try {
        const advanced = await this.step();
        if (failures > 0) {
          this.log.info("rpc_recovered", { afterFailures: failures });
          failures = 0;
          await this.sender.resync("reconnected").catch(() => undefined);
        }
        if (!advanced) await sleep(this.cfg.pollMs);
      } catch (e) {
        failures++;
        this.stats.stepErrors++;
        const waitMs = Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** Math.min(failures, 10));
        this.log.warn("step_failed", { failures, retryInMs: waitMs, error: message(e) });
        await sleep(waitMs);
      }
    }
    await this.drain();
    this.log.info("keeper_stop", { ...this.stats, ...this.sender.stats, pending: this.sender.pending.size });
  }

  /** Waits (bounded) for the transactions still pending, so that none is left unaccounted for. */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sender.pending.size > 0 && Date.now() < deadline) {
      try {
        const head = await this.call(() => this.provider.getBlockNumber());
        this.handleMined(await this.sender.poll(head), head);
      } catch (e) {
        this.log.warn("drain_poll_failed", { error: message(e) });
      }
      if (this.sender.pending.size > 0) await sleep(Math.min(this.cfg.pollMs, 500));
    }
  }

  /** Handles the next block if there is one; returns whether it did. */
  async step(): Promise<boolean> {
    const head = await this.call(() => this.provider.send("eth_getBlockByNumber", ["latest", false]));
    const number = Number(head.number);
    if (number === this.lastBlock) return false;
    if (number < this.lastBlock) {
      this.log.warn("chain_rewound", { from: this.lastBlock, to: number });
      this.discovery.reset();
      this.inFlight.clear();
      this.onMined.clear();
      this.handedOver.clear();
      this.sender.pending.clear();
      await this.sender.resync("chain rewound");
    }
    const baseFee = BigInt(head.baseFeePerGas ?? 0);

    // Independent reads run concurrently: the provider packs them into few JSON-RPC batches.
    const [mined] = await Promise.all([this.sender.poll(number), this.discovery.scan(number), this.readLevels()]);
    this.handleMined(mined, number);

    const inAuction = this.discovery.accountsInAuction();
    const candidates = [...this.discovery.accounts].filter((a) => !inAuction.has(a) && a !== this.address);
    const [liquidatable, pokes, auctionActions, closes] = await Promise.all([
      this.findLiquidatable(candidates),
      this.pokeActions(),
      this.auctionActions(),
      this.cfg.closeTakenPositions ? this.closeActions() : Promise.resolve([]),
    ]);
    const kicks = await this.kickActions(liquidatable);

    const fees = this.fees(baseFee);
    const summary: BlockSummary = {
      block: number,
      accounts: this.discovery.accounts.size,
      liquidatable: liquidatable.length,
      auctions: this.discovery.auctions.size,
      sent: 0,
      pending: 0,
      paused: liquidatable.length - kicks.length,
    };
    // Priority: breaker pokes, kicks, takes and redos, then closing what takes handed over.
    const actions = [...pokes, ...kicks, ...auctionActions, ...closes].filter((a) => this.eligible(a, number));

    if (!fees) {
      if (actions.length > 0) {
        this.stats.skippedGas += actions.length;
        this.log.warn("gas_too_high", {
          block: number,
          baseFeeGwei: Number(baseFee) / 1e9,
          maxGasPriceGwei: Number(this.cfg.maxGasPriceGwei) / 1e9,
          skipped: actions.length,
        });
      }
    } else {
      // Simulate a little more than the budget concurrently, then send in priority order.
      const budget = this.cfg.maxTxPerBlock;
      const prepared = await Promise.all(actions.slice(0, budget * 2).map((a) => this.simulate(a, fees)));
      for (const p of prepared) {
        if (this.stopping || summary.sent >= budget) break;
        if (p && (await this.sendPrepared(p, fees, number))) summary.sent++;
      }
    }
    summary.pending = this.sender.pending.size;
    this.lastBlock = number;
    this.stats.blocks++;
    this.log.info("block", {
      ...summary,
      kicks: this.stats.kicks,
      takes: this.stats.takes + this.stats.flashTakes,
      redos: this.stats.redos,
      pokes: this.stats.pokes,
      reverted: this.sender.stats.reverted,
      rpcRetries: this.stats.rpcRetries,
    });
    return true;
  }

  // ------------------------------------------------------------------ reading

  private fees(baseFee: bigint): Fees | undefined {
    const prio = this.cfg.priorityFeeGwei;
    if (baseFee + prio > this.cfg.maxGasPriceGwei) return undefined;
    const maxFee = 2n * baseFee + prio;
    return {
      maxFeePerGas: maxFee < this.cfg.maxGasPriceGwei ? maxFee : this.cfg.maxGasPriceGwei,
      maxPriorityFeePerGas: prio,
    };
  }

  private async readLevels(): Promise<void> {
    if (!this.breaker) return;
    const breaker = this.breaker;
    this.markets ??= [...(await this.call(() => this.vault.marketIds()))];
    const keys = [GLOBAL, ...this.markets];
    const levels = await Promise.all(keys.map((k) => this.call(() => breaker.level(k))));
    const next = new Map(keys.map((k, i) => [k, breakerLevel(levels[i])]));
    for (const [k, l] of next) {
      const before = this.levels.get(k);
      if (before !== undefined && before !== l) {
        this.log.info("breaker_level", {
          market: k,
          from: before,
          to: l,
          fromName: BREAKER_LEVEL_NAMES[before],
          toName: BREAKER_LEVEL_NAMES[l],
        });
      }
    }
    this.levels = next;
  }

  /** Effective level of a market (global level included); 0 without a breaker. */
  private level(market: string): BreakerLevel {
    return Math.max(
      this.levels.get(market) ?? BreakerLevel.Normal,
      this.levels.get(GLOBAL) ?? BreakerLevel.Normal,
    ) as BreakerLevel;
  }

  /** `isLiquidatable` for every candidate: concurrent calls, which the provider sends as JSON-RPC batches. */
  private async findLiquidatable(accounts: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < accounts.length; i += this.cfg.batchSize) {
      const batch = accounts.slice(i, i + this.cfg.batchSize);
      const results = await Promise.all(batch.map((a) => this.call(() => this.vault.isLiquidatable(a))));
      batch.forEach((a, j) => {
        if (results[j][0]) out.push(a);
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ planning

  private async pokeActions(): Promise<Action[]> {
    if (!this.breaker || !this.markets) return [];
    const breaker = this.breaker;
    const markets = this.markets;
    const after = await Promise.all(
      markets.map((m) => this.call(() => breaker.poke.staticCall(m, { from: this.address })).catch(() => undefined)),
    );
    const out: Action[] = [];
    markets.forEach((m, i) => {
      const now = this.level(m);
      if (after[i] === undefined || Number(after[i]) === now) return;
      out.push({
        action: "poke",
        target: m,
        to: this.cfg.circuitBreaker as string,
        iface: breaker.interface,
        fn: "poke",
        args: [m],
        info: { market: m, level: now, levelAfterPoke: Number(after[i]) },
      });
    });
    return out;
  }

  private async kickActions(liquidatable: string[]): Promise<Action[]> {
    if (liquidatable.length === 0) return [];
    // The market a kick would auction: the account's first position (the auction house's order);
    // an account with no position gets a collateral lot, gated by the global level.
    const snaps = this.breaker
      ? await Promise.all(liquidatable.map((a) => this.call(() => this.vault.liquidationSnapshot(a))))
      : [];
    const out: Action[] = [];
    liquidatable.forEach((account, i) => {
      // (ethers' Result throws on an index out of range: check the length first.)
      const positions = this.breaker ? snaps[i].positions : [];
      const market = positions.length > 0 ? positions[0].marketId : GLOBAL;
      const level = this.level(market);
      if (level >= BreakerLevel.LiquidationPause) {
        this.stats.pausedKicks++;
        this.skip("kick", account, `breaker level ${describeBreakerLevel(level)} on ${market}`);
        return;
      }
      out.push({
        action: "kick",
        target: account,
        to: this.cfg.auctionHouse,
        iface: this.auction.interface,
        fn: "kick",
        args: [account],
        info: { account, market },
      });
    });
    return out;
  }

  private async auctionActions(): Promise<Action[]> {
    const auctions = [...this.discovery.auctions.values()];
    if (auctions.length === 0) return [];
    const [statuses, params, own] = await Promise.all([
      Promise.all(auctions.map((a) => this.call(() => this.auction.auctionStatus(a.id)))),
      this.call(() => this.auction.params()),
      this.call(() => this.vault.quoteBalance(this.address)),
    ]);
    const out: Action[] = [];
    for (let i = 0; i < auctions.length; i++) {
      const t = auctions[i];
      const [priceWad, needsRedo, a] = statuses[i];
      const lot = BigInt(a.lot);
      if (lot === 0n) continue; // ended; its AuctionEnded event is on its way
      // A pool lot is a position in its market, like a position lot; a collateral lot is global.
      const level = this.level(t.kind === "collateral" ? GLOBAL : t.key);
      if (level >= BreakerLevel.Halt) {
        this.stats.pausedTakes++;
        this.skip("take", t.id.toString(), `breaker level ${describeBreakerLevel(level)}`);
        continue;
      }
      if (needsRedo) {
        // The auction house pays no redo reward for a pool lot (its account paid its penalty and left).
        const pool = t.kind === "pool";
        const reward =
          !pool && a.tabWad >= params.dustWad
            ? min(params.tipWad + (a.tabWad * params.chipWad) / WAD, params.rewardCapWad)
            : 0n;
        out.push({
          action: "redo",
          target: t.id.toString(),
          to: this.cfg.auctionHouse,
          iface: this.auction.interface,
          fn: "redo",
          args: [t.id],
          worth: (gasUsd) => {
            if (pool) return this.cfg.redoPoolLots ? undefined : "pool lots pay no redo reward (redoPoolLots is off)";
            return reward > 0n && reward - gasUsd >= this.cfg.minRedoRewardUsd
              ? undefined
              : `reward $${usd(reward)} − gas $${usd(gasUsd)} below minimum`;
          },
          info: { id: t.id, account: t.account, kind: t.kind, resets: a.resets, rewardUsd: usd(reward) },
        });
        continue;
      }
      // A pool lot is sold as a position lot (the vault's seller is then the pool).
      const take =
        t.kind !== "collateral"
          ? await this.positionTake(t, lot, priceWad)
          : await this.collateralTake(t, lot, a.tabWad, priceWad, own);
      if (take) out.push(take);
    }
    return out;
  }

  /** A position or pool lot, taken into the keeper's own account (needs vault capital for its margin). */
  private async positionTake(t: TrackedAuction, lot: bigint, priceWad: bigint): Promise<Action | undefined> {
    const amount = abs(lot);
    const market = t.key;
    let fee = this.takerFee.get(market);
    if (fee === undefined) {
      fee = (await this.call(() => this.vault.marketParams(market))).takerFeeWad;
      this.takerFee.set(market, fee);
    }
    // Exit by closing the position taken over: sell a long, buy back a short, at the fill price.
    const exitFill = await this.call(() => this.vault.fillPrice(market, lot > 0n ? -amount : amount));
    const edge = lot > 0n ? exitFill - priceWad : priceWad - exitFill;
    const gross = (amount * edge) / WAD - (((amount * exitFill) / WAD) * fee) / WAD;
    const take = this.takeAction(t, lot, priceWad, gross, t.kind);
    // The bidder receives the lot's side: remember it, so that `closeActions` closes just that.
    take.onMined = (m) => this.recordHandedOver(m, t.id, market, lot > 0n ? 1n : -1n);
    return take;
  }

  /**
   * `take(id, |lot|, priceWad)` into the keeper's own account, sent only if `gross` less gas clears
   * the minimum profit; `lot` is signed for position lots (long > 0).
   */
  private takeAction(t: TrackedAuction, lot: bigint, priceWad: bigint, gross: bigint, kind: string): Action {
    return {
      action: "take",
      target: t.id.toString(),
      to: this.cfg.auctionHouse,
      iface: this.auction.interface,
      fn: "take",
      args: [t.id, abs(lot), priceWad, this.address, "0x"],
      worth: (gasUsd) =>
        gross - gasUsd >= this.cfg.minProfitUsd
          ? undefined
          : `profit $${usd(gross - gasUsd)} below minimum $${usd(this.cfg.minProfitUsd)}`,
      info: { id: t.id, account: t.account, kind, lot, priceUsd: usd(priceWad), profitUsd: usd(gross) },
    };
  }

  /**
   * A collateral lot: through the flash taker (no capital: the lot is sold on Uniswap inside the
   * take, which reverts unless proceeds ≥ owed + minimum profit + gas), or with vault capital.
   */
  private async collateralTake(
    t: TrackedAuction,
    lot: bigint,
    tabWad: bigint,
    priceWad: bigint,
    ownQuote: bigint,
  ): Promise<Action | undefined> {
    const owed = min((lot * priceWad) / WAD, tabWad);
    const hasCapital = ownQuote >= owed;
    if (this.flash && (this.cfg.preferFlash || !hasCapital)) {
      const flash = this.flash;
      const info = {
        id: t.id,
        account: t.account,
        kind: "collateral",
        lot,
        priceUsd: usd(priceWad),
        owedUsd: usd(owed),
      };
      return {
        action: "flashTake",
        target: t.id.toString(),
        to: this.cfg.flashTaker as string,
        iface: flash.interface,
        fn: "flashTake",
        args: [t.id, MaxUint256, priceWad, this.cfg.flashPoolFee, this.cfg.minProfitUsd],
        argsWithGas: (gasUsd) => [t.id, MaxUint256, priceWad, this.cfg.flashPoolFee, this.cfg.minProfitUsd + gasUsd],
        info,
      };
    }
    if (!hasCapital) {
      this.skip("take", t.id.toString(), "no capital and no flash taker");
      return undefined;
    }
    this.oracle ??= OracleRouter__factory.connect(await this.call(() => this.vault.oracle()), this.provider);
    const oracle = this.oracle;
    this.collateralTokens ??= [...(await this.call(() => this.vault.collateralTokens()))];
    const token = this.collateralTokens[t.index];
    const oraclePrice = await this.call(() => oracle.getPrice(token));
    const covered = min(lot, (tabWad * WAD) / priceWad);
    const gross = (covered * (oraclePrice - priceWad)) / WAD;
    return this.takeAction(t, lot, priceWad, gross, "collateral");
  }

  /**
   * Reduce-only trades that close the positions takes handed to the keeper (`handedOver`), never
   * more: a position the signer opened itself is left alone unless `closeOwnPositions` is on, in
   * which case every position of the signer is closed.
   */
  private async closeActions(): Promise<Action[]> {
    const own = this.cfg.closeOwnPositions;
    const markets = own
      ? [...(await this.call(() => this.vault.accountMarkets(this.address)))]
      : [...this.handedOver.keys()];
    const out: Action[] = [];
    for (const market of markets) {
      const pos = await this.call(() => this.vault.getPosition(this.address, market));
      const size = BigInt(pos.sizeWad);
      let close = size;
      if (!own) {
        const taken = this.handedOver.get(market) ?? 0n;
        if (size === 0n || taken === 0n || size > 0n !== taken > 0n) {
          // Closed by someone else, or netted against a position of the signer's own: nothing of
          // what the takes handed over is left to close without trading the signer's own book.
          this.handedOver.delete(market);
          if (taken !== 0n) this.log.info("close_forgotten", { market, handedOver: taken, position: size });
          continue;
        }
        close = abs(taken) < abs(size) ? taken : size;
      }
      if (close === 0n) continue;
      const fill = await this.call(() => this.vault.fillPrice(market, -close));
      const acceptable = close > 0n ? (fill * 99n) / 100n : (fill * 101n) / 100n;
      out.push({
        action: "close",
        target: `${this.address}:${market}`,
        to: this.cfg.vault,
        iface: this.vault.interface,
        fn: "trade",
        args: [market, -close, acceptable],
        onMined: (m) => this.recordClosed(m, market),
        info: { market, size: close, position: size },
      });
    }
    return out;
  }

  /** A mined take of a position or pool lot: adds what it handed over (its `Take` amount) to `handedOver`. */
  private recordHandedOver(m: MinedTx, id: bigint, market: string, sign: bigint): void {
    for (const log of m.receipt.logs) {
      if (log.address.toLowerCase() !== this.cfg.auctionHouse.toLowerCase()) continue;
      const parsed = this.auction.interface.parseLog(log);
      if (parsed?.name !== "Take" || BigInt(parsed.args[0]) !== id) continue;
      this.addHandedOver(market, sign * BigInt(parsed.args[2]));
    }
  }

  /** A mined close: takes its trade (the vault's `Traded` delta) off `handedOver`. */
  private recordClosed(m: MinedTx, market: string): void {
    for (const log of m.receipt.logs) {
      if (log.address.toLowerCase() !== this.cfg.vault.toLowerCase()) continue;
      const parsed = this.vault.interface.parseLog(log);
      if (parsed?.name !== "Traded" || String(parsed.args[1]) !== market) continue;
      if (String(parsed.args[0]).toLowerCase() !== this.address.toLowerCase()) continue;
      const before = this.handedOver.get(market);
      if (before === undefined) return;
      const after = before + BigInt(parsed.args[2]);
      // Done once it reaches zero or crosses it (a close of the signer's whole position under closeOwnPositions).
      if (after === 0n || after > 0n !== before > 0n) this.handedOver.delete(market);
      else this.handedOver.set(market, after);
    }
  }

  private addHandedOver(market: string, delta: bigint): void {
    const next = (this.handedOver.get(market) ?? 0n) + delta;
    if (next === 0n) this.handedOver.delete(market);
    else this.handedOver.set(market, next);
  }

  // ------------------------------------------------------------------ sending

  /** Logs a skip once per (action, target, reason); `explanation` (a revert's sentence) is logged with it. */
  private skip(action: string, target: string, reason: string, explanation?: string): void {
    const key = `${action}:${target}`;
    if (this.skipLogged.get(key) === reason) return;
    this.skipLogged.set(key, reason);
    this.log.info(`${action}_skipped`, explanation ? { target, reason, explanation } : { target, reason });
  }

  private eligible(a: Action, block: number): boolean {
    if (this.inFlight.has(a.target)) return false;
    if (this.reverts.blocked(a.action, a.target, block)) {
      this.skip(a.action, a.target, "reverted before: cooling down");
      return false;
    }
    return true;
  }

  /**
   * Simulates an action right before sending: eth_call (the staticCall: a transaction that would
   * revert is never sent) and eth_estimateGas, then checks it still pays after gas.
   */
  private async simulate(a: Action, fees: Fees): Promise<Prepared | undefined> {
    let data = a.iface.encodeFunctionData(a.fn, a.args);
    const tx = { to: a.to, data, from: this.address };
    let gas: bigint;
    try {
      const [, estimate] = await Promise.all([
        this.call(() => this.provider.call(tx)),
        this.call(() => this.provider.estimateGas(tx)),
      ]);
      gas = (estimate * 125n) / 100n;
    } catch (e) {
      if (!isRevert(e)) {
        this.log.warn(`${a.action}_not_simulated`, { target: a.target, error: message(e) });
        return undefined;
      }
      this.skip(a.action, a.target, `would revert: ${revertReason(e)}`, explainRevert(e));
      return undefined;
    }
    const gasUsd = (gas * fees.maxFeePerGas * this.cfg.nativeUsd) / WAD;
    const notWorth = a.worth?.(gasUsd);
    if (notWorth) {
      this.skip(a.action, a.target, notWorth);
      return undefined;
    }
    if (a.argsWithGas) {
      data = a.iface.encodeFunctionData(a.fn, a.argsWithGas(gasUsd));
      try {
        await this.call(() => this.provider.call({ ...tx, data }));
      } catch (e) {
        if (isRevert(e)) {
          this.skip(a.action, a.target, `would revert once gas is counted: ${revertReason(e)}`, explainRevert(e));
        }
        return undefined;
      }
    }
    return { a, data, gas, gasUsd };
  }

  private async sendPrepared(p: Prepared, fees: Fees, block: number): Promise<boolean> {
    const { a, data, gas, gasUsd } = p;
    const sent = await this.sender.send(
      { action: a.action, target: a.target, to: a.to, data, gasLimit: gas },
      fees,
      block,
    );
    if (!sent) return false;
    this.skipLogged.delete(`${a.action}:${a.target}`);
    this.inFlight.set(a.target, sent.hash);
    if (a.onMined) this.onMined.set(sent.hash, a.onMined);
    this.log.info(a.action, { block, hash: sent.hash, gasUsd: usd(gasUsd), ...a.info });
    return true;
  }

  private handleMined(mined: MinedTx[], block: number): void {
    for (const m of mined) {
      if (!this.sender.settle(m)) continue;
      if (this.inFlight.get(m.target) === m.hash) this.inFlight.delete(m.target);
      const onMined = this.onMined.get(m.hash);
      this.onMined.delete(m.hash);
      if (m.receipt.status === 1) {
        onMined?.(m);
        const key = m.action === "flashTake" ? "flashTakes" : m.action === "take" ? "takes" : `${m.action}s`;
        if (key in this.stats) this.stats[key as keyof KeeperStats]++;
        this.log.info("tx_mined", {
          action: m.action,
          target: m.target,
          hash: m.hash,
          block: m.receipt.blockNumber,
          gasUsed: m.receipt.gasUsed,
        });
      } else {
        // The cooldown starts now; the reason (a replay) follows.
        this.reverts.touch(m.action, m.target, block);
        void this.recordRevert(m, block);
      }
    }
  }

  /** Replays a reverted transaction at its block to learn the reason, and remembers it. */
  private async recordRevert(m: MinedTx, block: number): Promise<void> {
    let reason: string;
    let explanation: string | undefined;
    try {
      await this.call(() =>
        this.provider.call({ to: m.to, data: m.data, from: this.address, blockTag: m.receipt.blockNumber }),
      );
      reason = "did not revert on replay";
    } catch (e) {
      reason = isRevert(e) ? revertReason(e) : `replay failed: ${message(e)}`;
      if (isRevert(e)) explanation = explainRevert(e);
    }
    const count = this.reverts.record(m.action, m.target, reason, block, explanation);
    this.log.warn("tx_reverted", {
      action: m.action,
      target: m.target,
      hash: m.hash,
      block: m.receipt.blockNumber,
      reason,
      ...(explanation ? { explanation } : {}),
      timesForThisReason: count,
    });
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * What every phase of a run shares: `RunContext`, fixed for the run (the world, the scenario, the
 * seed's population, the mode and what follows from them), `RunState`, what the phases carry from
 * block to block, and `BlockMiner`, which sends and mines one block and keeps the run's clock.
 */
import type { Scenario } from "../../scenario";
import type { SeriesRow } from "../../types";
import type { TxRequest } from "../chain";
import { HealthModel } from "../health";
import { modeParams, type ModeParams } from "../modes";
import type { Trader } from "../population";
import { Rng } from "../prng";
import { timed } from "../profile";
import type { ChainState } from "../views";
import type { World } from "../world";
import type { OutsideBook } from "./arbitrage";
import { EventDecoder } from "./events";

/** What the engine needs of a populated seed. */
export interface Populated {
  seed: number;
  traders: Trader[];
  /** Fundamental price per asset and block (index 0..blocks). */
  fundamental: number[][];
  /** The hedger's base balance when the pool is flat (base units per asset). */
  hedgerAnchors: bigint[];
  /** Chain timestamp of the snapshot. */
  startTime: number;
}

/** Fixed for the whole run. */
export interface RunContext {
  w: World;
  scenario: Scenario;
  pop: Populated;
  modeName: string;
  mode: ModeParams;
  /** Seconds per block. */
  step: number;
  /** Instant liquidation (baseline) rather than auctions. */
  instant: boolean;
  /** Blocks between a scan and the keepers acting on it (≥ 1). */
  latency: number;
  /** Accounts whose position was opened. */
  traderAccounts: string[];
  /** Asset index by market id and by the oracle token's address as a bytes32 key (lowercase). */
  assetByKey: Map<string, number>;
  /** Asset index of each trader's market, by lowercase address. */
  marketOf: Map<string, number>;
  health: HealthModel;
  decoder: EventDecoder;
  /** Per asset and block (scenario and drain blocks), the external feed's relative error. */
  oracleNoise: number[][];
}

/**
 * The external feed's relative errors per block: a stationary AR(1) with standard deviation
 * `noiseBps` and half-life `noiseHalfLifeBlocks` (docs/lab-world.md, "Oracle"), drawn from the
 * seed alone, so every mode of a seed sees the same feed.
 */
export function oracleNoisePath(
  spec: Scenario["assets"][number]["oracle"],
  n: number,
  seed: number,
  asset: number,
): number[] {
  const sigma = (spec.noiseBps ?? 0) / 10_000;
  const out = new Array<number>(n).fill(0);
  if (sigma === 0 || spec.source !== "fundamental") return out;
  const h = spec.noiseHalfLifeBlocks ?? 0;
  const rho = h > 0 ? 0.5 ** (1 / h) : 0;
  const rng = new Rng(seed, 2000 + asset);
  let x = sigma * rng.normal();
  for (let b = 0; b < n; b++) {
    out[b] = x;
    x = rho * x + Math.sqrt(1 - rho * rho) * sigma * rng.normal();
  }
  return out;
}

/** Drain blocks when the scenario does not set `drainBlocks`. */
export const DEFAULT_DRAIN_BLOCKS = 120;

/** The fundamental of asset `a` at block `b`; after the scenario's path, its last value (drain). */
export function fundamentalAt(ctx: RunContext, a: number, b: number): number {
  const f = ctx.pop.fundamental[a];
  return f[Math.min(b, f.length - 1)];
}

export function runContext(w: World, scenario: Scenario, pop: Populated, modeName: string): RunContext {
  const mode = modeParams(modeName);
  const assetByKey = new Map<string, number>();
  for (const a of w.assets) {
    assetByKey.set(a.marketId.toLowerCase(), a.index);
    assetByKey.set(("0x" + BigInt(a.tokenAddr).toString(16).padStart(64, "0")).toLowerCase(), a.index);
  }
  return {
    w,
    scenario,
    pop,
    modeName,
    mode,
    step: scenario.blockTimeSec,
    instant: mode.liquidation === "instant",
    latency: Math.max(1, scenario.keepers.latencyBlocks),
    traderAccounts: pop.traders.filter((t) => t.opened).map((t) => t.address),
    assetByKey,
    marketOf: new Map(pop.traders.map((tr) => [tr.address.toLowerCase(), tr.asset])),
    health: new HealthModel(w),
    decoder: new EventDecoder(w),
    oracleNoise: w.assets.map((a) =>
      oracleNoisePath(
        a.spec.oracle,
        scenario.blocks + (scenario.drainBlocks ?? DEFAULT_DRAIN_BLOCKS) + 1,
        pop.seed,
        a.index,
      ),
    ),
  };
}

/** An auction the engine follows from its Kick to its AuctionEnded. */
export interface AuctionInfo {
  account: string;
  asset: number;
  kind: number;
  /** A short position lot (its price rises over time). */
  short: boolean;
  /** Start (or last reset) of the price curve: the timestamp of its first Kick or of a Redo (a
   * pool lot's later kicks join it and keep its clock, as AuctionHouse._takeover does). */
  startTime: number;
  /** Σ of its kicks' slices (signed): a lot whose kicks net to the other side changes side. */
  lot: bigint;
  /** Kicks into it (more than one: a pool lot the same account's later kicks joined). */
  kicks: number;
}

/** What the fundamental watch (phases/watch.ts) carries: accounts below MM at the fundamental. */
export interface Watch {
  /** Per account (lowercase) below MM at the fundamental: first block of its spell, whether a kick
   * served the spell, whether the spell was counted as missed. */
  spells: Map<string, { first: number; served: boolean; missed: boolean }>;
  /** Blocks from a spell's first block to the kick (or takeover) that served it. */
  delays: number[];
  missedUsd: number;
  kickPausedBlocks: number;
  /** LP NAV at the fundamental at the start and its lowest point after any block. */
  nav0: number;
  navMin: number;
  /** The hedger's book at the start (the NAV counts what it gained or lost since). */
  hedgerStart: number;
  /** Accounts below MM at the fundamental after the last block (lowercase). */
  below: Set<string>;
}

/** Running totals the metrics are made of. */
export interface Totals {
  liquidations: number;
  notional: number;
  excess: number;
  shortfall: number;
  traderCost: number;
  gas: bigint;
  txs: number;
}

/** What the phases carry from one block to the next. */
export class RunState {
  /** Venue price per asset after each block (USD). */
  readonly venue: number[][];
  /** Venue prices of the starting state. */
  readonly venueInit: number[];
  /** The oracle price per asset, as last written by the relayer. */
  readonly oracle: number[];
  /** The relayer's last round per asset. */
  readonly lastWrite: { price: number; time: number }[];
  readonly auctions = new Map<bigint, AuctionInfo>();
  /** Takeover mode: per asset, the base size (WAD, signed) the pool holds in its backlog, not yet on sale. */
  readonly backlog = new Map<number, bigint>();
  /** Liquidatable accounts per block of scan (−1: the starting state). */
  readonly scans = new Map<number, string[]>();
  /** Blocks whose scan was read from the chain (not reused nor skipped). */
  readonly realScans = new Set<number>([-1]);
  readonly totals: Totals = { liquidations: 0, notional: 0, excess: 0, shortfall: 0, traderCost: 0, gas: 0n, txs: 0 };
  readonly series: SeriesRow[] = [];
  readonly failedActions = { count: 0, reasons: new Map<string, number>() };
  breakerTrips = 0;
  blocksPaused = 0;
  /** Effective breaker level per asset at the end of the last mined block (0 before any). */
  lastLevels: number[];
  /** The state after the last mined block (capacity and levels included). */
  lastState: ChainState;
  /** USD the momentum sellers have sold so far. */
  momentumSpent = 0;
  readonly watch: Watch = {
    spells: new Map(),
    delays: [],
    missedUsd: 0,
    kickPausedBlocks: 0,
    nav0: 0,
    navMin: 0,
    hedgerStart: 0,
    below: new Set(),
  };
  /** Blocks run after the scenario's last one. */
  drained = 0;
  /** The outside market's book with the arbitrageur (phases/arbitrage.ts); set at the start. */
  outside: OutsideBook | undefined;
  /** Each venue's token balances at the start (quote, base): the venue LPs' book. */
  venueStart: [bigint, bigint][] = [];
  /** Gas the keepers' transactions used (they pay it at `keepers.gas`). */
  keeperGas = 0n;
  /** Base units per asset instantly liquidated since the hedger last ran (`instant.liquidatorSells`). */
  readonly liquidatedBase: bigint[];
  /** Auctions bidders already acted on in the block being built (in its sub-blocks). */
  readonly actedWithin = new Set<bigint>();

  constructor(ctx: RunContext, s0: ChainState) {
    const assets = ctx.w.assets;
    this.venue = assets.map(() => []);
    this.venueInit = s0.venueUsd;
    this.oracle = assets.map((a) => a.spec.initialPriceUsd);
    this.lastWrite = assets.map((a) => ({ price: a.spec.initialPriceUsd, time: ctx.pop.startTime }));
    this.lastLevels = assets.map(() => 0);
    this.lastState = s0;
    this.liquidatedBase = assets.map(() => 0n);
  }

  /** Venue price of asset `a` after block `b` (the starting price for b < 0). */
  venueAt(a: number, b: number): number {
    return b < 0 ? this.venueInit[a] : this.venue[a][b];
  }
}

/** What one block's phases build on: its index, its timestamp and the venue before it. */
export interface BlockInput {
  b: number;
  /** The timestamp the block will be mined at. */
  now: number;
  /** Venue price per asset after the previous block. */
  prevVenue: number[];
}

export interface MinedBlock {
  ok: boolean[];
  gas: bigint;
  /** Gas used by each transaction, in order. */
  gasEach: bigint[];
  count: number;
  block: number | undefined;
}

/** Sends and mines one block at a time, `step` seconds apart, and counts failed transactions. */
export class BlockMiner {
  /** Timestamp of the last mined block. */
  t: number;
  failedTxs = 0;

  constructor(
    private readonly w: World,
    private readonly step: number,
    startTime: number,
  ) {
    this.t = startTime;
  }

  /** Sends `txs` and mines them as the run's next block, `step` seconds after the last. */
  send(txs: TxRequest[]): Promise<MinedBlock> {
    this.t += this.step;
    return this.mineAt(txs, this.t);
  }

  /** Sends `txs` and mines them at second `t` inside the coming block (sub-block bidding); the
   * run's clock stays where it is. */
  sendWithin(txs: TxRequest[], t: number): Promise<MinedBlock> {
    if (t <= this.t || t >= this.t + this.step) throw new Error(`lab: sub-block second ${t} is outside the block`);
    return this.mineAt(txs, t);
  }

  private async mineAt(txs: TxRequest[], t: number): Promise<MinedBlock> {
    const chain = this.w.chain;
    const hashes = await timed("send", () => chain.sendBlock(txs));
    await timed("mine", () => chain.mine(t));
    const receipts = await timed("receipts", () => Promise.all(hashes.map((h) => chain.receipt(h))));
    if (receipts.some((r) => r === null)) throw new Error("lab: a block's transactions did not fit in it");
    const ok = receipts.map((r) => r !== null && r.status === "0x1");
    this.failedTxs += ok.filter((x) => !x).length;
    const gasEach = receipts.map((r) => BigInt(r?.gasUsed ?? 0));
    const gas = gasEach.reduce((s, g) => s + g, 0n);
    return {
      ok,
      gas,
      gasEach,
      count: txs.length,
      block: receipts.length > 0 ? Number(receipts[0]?.blockNumber) : undefined,
    };
  }
}

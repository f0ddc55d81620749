import { expect } from "chai";
import fc from "fast-check";
import hre, { ethers } from "hardhat";
import { takeSnapshot, type SnapshotRestorer } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  Interface,
  type ContractRunner,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";
import { BTC_USD, ETH_USD, WAD, usdc, type World } from "../shared/local-world";
import { currentParams, DEFAULTS, deployAuctionWorld } from "../shared/auction-math";
import {
  curveFactor,
  curvePrice,
  decodePermissions,
  levelAt,
  type CurveParams,
  type Matrix,
  type Operation,
} from "../shared/system-model";
import type {
  AuctionHouse,
  CircuitBreaker,
  LiquidityPool,
  MockSkewAttacker,
  PerpVault,
  SystemLens,
} from "../../typechain-types";

/**
 * System invariants under random sequences over the whole stack (model-based, `fc.commands`
 * style: `fc.asyncModelRun` over generated commands, fixed seed). Actions: trader deposits and
 * withdrawals in USDC/WETH/WBTC, trades (opening, adding, reducing, flipping), price moves and
 * crashes, time warps, kicks (of any account, healthy or not), takes (partial and whole, with
 * price limits), redo, breaker pokes, guardian trips, LP deposits and withdrawals.
 *
 * After every step (docs/invariants.md):
 * S1 token solvency, exact: for every token, vault balance × scale = Σ account claims (+ pool +
 *    insurance for the quote token), totalDeposited = Σ claims, and the balance equals the
 *    reference model's, which follows every Deposited / Withdrawn / CollateralSeized / Pool* /
 *    InsuranceFunded event;
 * S2 open interest: each market's stored long and short totals equal the sums of positions;
 * S3 fair kick: a kick of an account the vault called healthy reverts NotLiquidatable (with
 *    equity ≥ MM), and a kick that succeeds was of a liquidatable account;
 * S4 curve: a take clears at exactly the curve price at its second (oracle × m, rounded for the
 *    account), and a take of a stale auction reverts AuctionNeedsRedo;
 * S5 breaker matrix: an operation the matrix blocks at the effective level (computed by the
 *    model from the breaker's state words at the transaction's timestamp) never succeeds, and an
 *    operation it allows never reverts BreakerActive.
 * S6 pool takeover: `poolOnSale(market)` equals the sum of the running pool lots of that market.
 *    A step switches takeover mode on or off at random, so plain and pool lots run side by side
 *    and lots taken over keep running after the mode is switched off.
 * S7 no hidden debt (the 37bdf39 review): every negative quote balance is reachable by the
 *    waterfall (its account is in liquidation, or holds a position or volatile collateral that a
 *    kick can sell); a take, a withdrawal or a risk-increasing trade by an account not in
 *    liquidation never leaves it with negative equity; a bidder in liquidation never takes a lot;
 *    and an atomic LP deposit → open → redeem → close round trip never profits.
 *
 * Besides random trades and kicks, the actions include the review's attack shapes: bidders that
 * are themselves in liquidation (bidders lever and get kicked), reduce-only closes of a whole
 * position (to zero or negative equity), 1-wei dust positions in the lowest-index market, redo
 * loops (warp past the tail, redo, repeat), and the skew round trip in one transaction.
 *
 * Budget from the environment (scripts/fuzz.ts sets it): FUZZ_RUNS (default 300), FUZZ_STEPS
 * (40), FUZZ_SEED (20251109). FUZZ_PATH replays a failure fast-check reports.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const STEPS = Number(process.env.FUZZ_STEPS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_109);
const GAS = { gasLimit: 6_000_000 };
const GLOBAL = ethers.ZeroHash;

const MARKETS = [ETH_USD, BTC_USD] as const;
/** Per vault collateral index (0 = USDC): 10^(18 − decimals), filled in by the fixture. */
const TOKEN_SCALE: bigint[] = [];
const TRADERS = [0, 1, 2, 3] as const;
const BIDDERS = [4, 5] as const;
const ACTORS = [0, 1, 2, 3, 4, 5] as const;
const BASE_E8 = [3_000n * 10n ** 8n, 60_000n * 10n ** 8n] as const;
const BAND_E8 = [
  [600n * 10n ** 8n, 9_000n * 10n ** 8n],
  [12_000n * 10n ** 8n, 180_000n * 10n ** 8n],
] as const;

const CURVE: CurveParams = {
  stepSec: DEFAULTS.curveStepSec,
  cutWad: DEFAULTS.curveCutWad,
  bufWad: DEFAULTS.bufWad,
  cuspWad: DEFAULTS.cuspWad,
  floorWad: DEFAULTS.floorWad,
  tailSec: DEFAULTS.tailSec,
};

// ------------------------------------------------------------------------------ model and real

interface Model {
  now: number;
  e8: [bigint, bigint];
  /** The vault's token balances (token units) as the events say. */
  vaultTokens: [bigint, bigint, bigint];
  /** Running auctions (from Kick / AuctionEnded). */
  auctions: Set<bigint>;
}

interface Real {
  w: World;
  /** Read-only handles of the same contracts, on `direct` (view calls only). */
  read: { vault: PerpVault; auction: AuctionHouse; breaker: CircuitBreaker; pool: LiquidityPool; lens: SystemLens };
  vaultAddr: string;
  actors: string[];
  tokens: [string, string, string];
  /**
   * Oracle asset (0 = ETH, 1 = BTC) of each vault collateral index. Read from the deployment, not
   * assumed: Ignition lists WBTC before WETH (the two listings share a batch, ordered by id).
   */
  assetOfToken: [number, number, number];
  /** The atomic skew round trip's contract (an LP and a trader at once). */
  attacker: MockSkewAttacker;
}

/**
 * View calls straight to the in-process network (eth_call at the latest block), without the ethers
 * provider's own work per call: a step makes a few of them, 12,000 steps in all.
 */
const direct: ContractRunner = {
  provider: null,
  call: async (tx) =>
    (await hre.network.provider.request({
      method: "eth_call",
      params: [{ to: tx.to, data: tx.data }, "latest"],
    })) as string,
};

/** Breaker state words read since the last transaction (a step reads the global word up to 3 times). */
const stateWords = new Map<string, Promise<bigint>>();

const stats = { steps: 0, sequences: 0, outcomes: new Map<string, number>() };
const bump = (k: string): void => void stats.outcomes.set(k, (stats.outcomes.get(k) ?? 0) + 1);

let errorIfaces: Interface[] = [];
function errorName(e: unknown): string | undefined {
  const data = (e as { data?: unknown }).data;
  if (typeof data !== "string" || data.length < 10) return undefined;
  for (const iface of errorIfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return parsed.name;
    } catch {
      // another interface's error
    }
  }
  return undefined;
}

type Outcome = { ok: true; receipt: ContractTransactionReceipt } | { ok: false; error: string };

/** Mines `tx` at the model's clock + 1 s; returns the receipt or the custom error's name. */
async function send(
  m: Model,
  r: Real,
  label: string,
  tx: () => Promise<ContractTransactionResponse>,
): Promise<Outcome> {
  m.now += 1;
  stateWords.clear();
  await hre.network.provider.request({ method: "evm_setNextBlockTimestamp", params: [m.now] });
  try {
    const receipt = (await (await tx()).wait()) as ContractTransactionReceipt;
    applyEvents(m, r, receipt);
    bump(`${label}: ok`);
    return { ok: true, receipt };
  } catch (e) {
    const name = errorName(e);
    if (name === undefined)
      throw new Error(`${label}: failed without a custom error: ${(e as Error).message}`, { cause: e });
    bump(`${label}: ${name}`);
    return { ok: false, error: name };
  }
}

function expectError(o: Outcome, label: string, allowedErrors: string[]): void {
  if (!o.ok) expect(allowedErrors, `${label} reverted ${o.error}`).to.include(o.error);
}

function applyEvents(m: Model, r: Real, receipt: ContractTransactionReceipt): void {
  const vault = r.vaultAddr.toLowerCase();
  const auction = r.w.auction.target.toString().toLowerCase();
  for (const log of receipt.logs) {
    const at = log.address.toLowerCase();
    if (at === vault) {
      const ev = r.w.vault.interface.parseLog(log);
      if (ev === null) continue;
      const ix = r.tokens.indexOf(ev.args.token ?? "");
      switch (ev.name) {
        case "Deposited":
          m.vaultTokens[ix] += BigInt(ev.args.amount);
          break;
        case "Withdrawn":
        case "CollateralSeized":
          m.vaultTokens[ix] -= BigInt(ev.args.amount);
          break;
        case "PoolDeposited":
        case "InsuranceFunded":
          m.vaultTokens[0] += BigInt(ev.args.amountWad) / TOKEN_SCALE[0];
          break;
        case "PoolWithdrawn":
        case "InsuranceWithdrawn":
          m.vaultTokens[0] -= BigInt(ev.args.amountWad) / TOKEN_SCALE[0];
          break;
        default:
          break;
      }
    } else if (at === auction) {
      const ev = r.w.auction.interface.parseLog(log);
      if (ev?.name === "Kick") m.auctions.add(BigInt(ev.args.id));
      if (ev?.name === "AuctionEnded") m.auctions.delete(BigInt(ev.args.id));
    }
  }
}

/** Effective breaker level of a market (or the global level) at the next transaction's second. */
async function levelNext(m: Model, r: Real, market: string): Promise<number> {
  const at = BigInt(m.now + 1);
  const g = levelAt(await stateWord(r, GLOBAL), at);
  if (market === GLOBAL) return g;
  return Math.max(g, levelAt(await stateWord(r, market), at));
}

/** The breaker's state word of `key`, read once between transactions. */
function stateWord(r: Real, key: string): Promise<bigint> {
  let word = stateWords.get(key);
  if (word === undefined) {
    word = r.read.breaker.stateOf(key);
    stateWords.set(key, word);
  }
  return word;
}

async function maxLevelNext(m: Model, r: Real): Promise<number> {
  return Math.max(await levelNext(m, r, ETH_USD), await levelNext(m, r, BTC_USD));
}

/** The contracts' permission matrix (`CircuitBreaker.permissions()`), read once at deployment. */
let MATRIX: Matrix | undefined;

/** S5: a blocked operation never succeeds; an allowed one never reverts BreakerActive. */
function checkMatrix(op: Operation, level: number, o: Outcome): void {
  if (MATRIX === undefined) throw new Error("the permission matrix is read at deployment");
  if (!MATRIX[op][level]) expect(o.ok, `${op} succeeded at level ${level}`).to.equal(false);
  else if (!o.ok) expect(o.error, `${op} blocked by the breaker at level ${level}`).to.not.equal("BreakerActive");
}

/** IAuctionHouse.LotKind of an auction id (bits 8–15): 0 position, 1 collateral, 2 pool. */
const lotKind = (id: bigint): number => Number((id >> 8n) & 0xffn);
const LOT_COLLATERAL = 1;
const LOT_POOL = 2;

/** S7: every negative quote balance belongs to an account a kick (or its running auction) reaches. */
async function checkNoStrandedDebt(r: Real): Promise<void> {
  for (const a of r.actors) {
    if ((await r.read.vault.quoteBalance(a)) >= 0n || (await r.read.vault.isInLiquidation(a))) continue;
    const h = await r.read.vault.accountHealth(a);
    const holds = (await r.read.vault.accountMarkets(a)).length > 0 || BigInt(h.collateralValueWad) > 0n;
    expect(holds, `S7: ${a} holds a debt that no kick can reach`).to.equal(true);
  }
}

/** S7: an action by an account that was and stays out of liquidation leaves its equity ≥ 0. */
async function checkActorSolvent(r: Real, who: string, wasFrozen: boolean, o: Outcome, label: string): Promise<void> {
  if (!o.ok || wasFrozen || (await r.read.vault.isInLiquidation(who))) return;
  const h = await r.read.vault.accountHealth(who);
  expect(h.equityWad >= 0n, `S7: ${label} left ${who} with equity ${h.equityWad}`).to.equal(true);
}

/** S1, S2, S6, S7 after every step. */
async function checkInvariants(m: Model, r: Real): Promise<void> {
  await checkNoStrandedDebt(r);
  const t = await r.read.lens.totals(r.vaultAddr, r.actors);
  for (let i = 0; i < 3; i++) {
    expect(t.heldWad[i], `S1 token ${i}: held vs owed`).to.equal(t.owedWad[i]);
    expect(t.heldWad[i], `S1 token ${i}: held vs model`).to.equal(m.vaultTokens[i] * TOKEN_SCALE[i]);
    if (i > 0) expect(t.depositedWad[i], `S1 token ${i}: totalDeposited`).to.equal(t.owedWad[i]);
  }
  for (let j = 0; j < MARKETS.length; j++) {
    expect(t.oiLongWad[j], `S2 market ${j} long`).to.equal(t.sumLongWad[j]);
    expect(t.oiShortWad[j], `S2 market ${j} short`).to.equal(t.sumShortWad[j]);
  }
  const onSale = [0n, 0n];
  for (const id of m.auctions) {
    if (lotKind(id) !== LOT_POOL) continue;
    const [, , a] = await r.read.auction.auctionStatus(id);
    onSale[Number(id & 0xffn)] += BigInt(a.lot);
  }
  for (let j = 0; j < MARKETS.length; j++) {
    expect(await r.read.auction.poolOnSale(j), `S6 market ${j}: poolOnSale`).to.equal(onSale[j]);
  }
  stats.steps += 1;
}

// ------------------------------------------------------------------------------------ commands

type Step = fc.AsyncCommand<Model, Real>;

abstract class Base implements Step {
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    await this.act(m, r);
    await checkInvariants(m, r);
  }
  abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

class Deposit extends Base {
  constructor(
    readonly who: number,
    readonly token: 0 | 1 | 2,
    readonly amount: bigint,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const s = r.w.traders[this.who];
    // A negative amount is a count of hundredths of a whole token (its decimals from the scale).
    const amount = this.amount > 0n ? this.amount : (-this.amount * (WAD / TOKEN_SCALE[this.token])) / 100n;
    const o = await send(m, r, "deposit", () => r.w.vault.connect(s).deposit(r.tokens[this.token], amount, GAS));
    checkMatrix("deposit", 0, o);
    expect(o.ok, "deposits always go through").to.equal(true);
  }
  toString(): string {
    return `Deposit(${this.who}, ${this.token}, ${this.amount})`;
  }
}

class Withdraw extends Base {
  constructor(
    readonly who: number,
    readonly token: 0 | 1 | 2,
    readonly permille: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const s = r.w.traders[this.who];
    const balance =
      this.token === 0
        ? await r.read.vault.quoteBalance(s.address)
        : await r.read.vault.collateralBalance(s.address, r.tokens[this.token]);
    const units = balance > 0n ? (balance * BigInt(this.permille)) / 1000n / TOKEN_SCALE[this.token] : 0n;
    const amount = units === 0n ? 1n : units;
    const frozen = await r.read.vault.isInLiquidation(s.address);
    const o = await send(m, r, "withdraw", () => r.w.vault.connect(s).withdraw(r.tokens[this.token], amount, GAS));
    expectError(o, "withdraw", ["Undercollateralized", "AccountInLiquidation", "InsufficientBalance"]);
    await checkActorSolvent(r, s.address, frozen, o, "a withdrawal");
  }
  toString(): string {
    return `Withdraw(${this.who}, ${this.token}, ${this.permille}‰)`;
  }
}

class Trade extends Base {
  constructor(
    readonly who: number,
    readonly market: 0 | 1,
    readonly deltaMilli: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const s = r.w.traders[this.who];
    const id = MARKETS[this.market];
    const unit = this.market === 0 ? WAD / 10n : WAD / 500n; // 0.1 ETH, 0.002 BTC per step of the draw
    const delta = BigInt(this.deltaMilli === 0 ? 1 : this.deltaMilli) * unit;
    const size = (await r.read.vault.getPosition(s.address, id)).sizeWad;
    const next = size + delta;
    const abs = (x: bigint) => (x < 0n ? -x : x);
    const increases = abs(next) > abs(size) || (size !== 0n && next !== 0n && size > 0n !== next > 0n);
    const level = await levelNext(m, r, id);
    const frozen = await r.read.vault.isInLiquidation(s.address);
    const o = await send(m, r, "trade", () =>
      r.w.vault.connect(s).trade(id, delta, delta > 0n ? ethers.MaxUint256 : 0n, GAS),
    );
    checkMatrix(increases ? "risk-increasing trade" : "reduce-only trade", level, o);
    if (increases) await checkActorSolvent(r, s.address, frozen, o, "a risk-increasing trade");
    expectError(o, "trade", [
      "Undercollateralized",
      "OpenInterestCapExceeded",
      "InvalidFillPrice",
      "AccountInLiquidation",
      "BreakerActive",
    ]);
  }
  toString(): string {
    return `Trade(${this.who}, ${this.market}, ${this.deltaMilli})`;
  }
}

/** Opens as much as the margin allows (90% of it), long or short: the accounts kicks need. */
class Lever extends Base {
  constructor(
    readonly who: number,
    readonly market: 0 | 1,
    readonly long: boolean,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const s = r.w.traders[this.who];
    const id = MARKETS[this.market];
    const h = await r.read.vault.accountHealth(s.address);
    const free = h.equityWad - BigInt(h.initialMarginWad);
    const priceWad = m.e8[this.market] * 10n ** 10n;
    let size = free > 0n ? (free * WAD * 18n) / priceWad : WAD / 1000n; // 90% of free / 5% IMR
    if (size === 0n) size = 1n;
    const delta = this.long ? size : -size;
    const pos = (await r.read.vault.getPosition(s.address, id)).sizeWad;
    const increases = pos === 0n || pos > 0n === this.long;
    const level = await levelNext(m, r, id);
    const o = await send(m, r, "lever", () =>
      r.w.vault.connect(s).trade(id, delta, delta > 0n ? ethers.MaxUint256 : 0n, GAS),
    );
    if (increases) checkMatrix("risk-increasing trade", level, o);
    expectError(o, "lever", [
      "Undercollateralized",
      "OpenInterestCapExceeded",
      "InvalidFillPrice",
      "AccountInLiquidation",
      "BreakerActive",
    ]);
  }
  toString(): string {
    return `Lever(${this.who}, ${this.market}, ${this.long ? "long" : "short"})`;
  }
}

class MovePrice extends Base {
  constructor(
    readonly asset: 0 | 1,
    readonly bps: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const [lo, hi] = BAND_E8[this.asset];
    let p = (m.e8[this.asset] * BigInt(10_000 + this.bps)) / 10_000n;
    p = p < lo ? lo : p > hi ? hi : p;
    m.e8[this.asset] = p;
    const feed = this.asset === 0 ? r.w.ethFeed : r.w.btcFeed;
    const o = await send(m, r, "price", () => feed.setAnswer(p, GAS));
    expect(o.ok).to.equal(true);
  }
  toString(): string {
    return `MovePrice(${this.asset}, ${this.bps}bps)`;
  }
}

class Warp extends Base {
  constructor(readonly seconds: number) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    m.now += this.seconds;
    // Chainlink rounds keep coming: the feeds are refreshed at the new time.
    await send(m, r, "warp", () => r.w.ethFeed.setAnswer(m.e8[0], GAS));
    await send(m, r, "warp", () => r.w.btcFeed.setAnswer(m.e8[1], GAS));
  }
  toString(): string {
    return `Warp(${this.seconds}s)`;
  }
}

class Kick extends Base {
  /** `target` −1: the first liquidatable actor not yet in liquidation (a keeper's scan). */
  constructor(
    readonly keeper: number,
    readonly target: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const keeper = r.w.traders[this.keeper];
    let target = r.actors[Math.max(this.target, 0)];
    if (this.target < 0) {
      for (const a of r.actors) {
        if ((await r.read.vault.isLiquidatable(a))[0] && !(await r.read.vault.isInLiquidation(a))) {
          target = a;
          break;
        }
      }
    }
    const [liquidatable] = await r.read.vault.isLiquidatable(target);
    const health = await r.read.vault.accountHealth(target);
    const levels = [await levelNext(m, r, ETH_USD), await levelNext(m, r, BTC_USD), await levelNext(m, r, GLOBAL)];
    const o = await send(m, r, "kick", () => r.w.auction.connect(keeper).kick(target, GAS));
    if (!liquidatable) {
      // S3: the vault called it healthy (prices and funding are fixed until the next step).
      expect(health.equityWad >= BigInt(health.maintenanceMarginWad), "S3: healthy means equity ≥ MM").to.equal(true);
      expect(o.ok, "S3: a healthy account was kicked").to.equal(false);
      if (!o.ok) expect(o.error).to.equal("NotLiquidatable");
      return;
    }
    if (o.ok) {
      const [ev] = await r.w.auction.queryFilter(r.w.auction.filters.Kick(), o.receipt.blockNumber);
      const key = ev.args.key;
      const pool = lotKind(BigInt(ev.args.id)) === LOT_POOL;
      if (pool) bump("kick: ok (pool lot)");
      const level = key === ETH_USD ? levels[0] : key === BTC_USD ? levels[1] : levels[2];
      // Transfer never waits: a takeover has its own row (refused only at a halt).
      checkMatrix(pool ? "takeover" : "kick", level, o);
    } else {
      expectError(o, "kick", ["NothingToLiquidate", "NoCapacity", "BreakerActive"]);
      if (o.error === "BreakerActive") expect(Math.max(...levels)).to.be.at.least(2);
    }
  }
  toString(): string {
    return `Kick(${this.keeper} → ${this.target < 0 ? "scan" : this.target})`;
  }
}

/** Picks a running auction (or, with none, an id nobody runs). */
function pick(m: Model, r: Real, i: number): bigint {
  const ids = [...m.auctions].sort((a, b) => (a < b ? -1 : 1));
  if (ids.length === 0) return (BigInt(r.actors[0]) << 16n) | 1n;
  return ids[i % ids.length];
}

class Take extends Base {
  constructor(
    readonly bidder: number,
    readonly i: number,
    readonly permille: number,
    readonly limit: "none" | "curve" | "better",
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    let b = r.w.traders[Math.max(this.bidder, 0)];
    let id = pick(m, r, this.i);
    if (this.bidder < 0) {
      // The review's shape: an account in liquidation bids, for a collateral lot where one runs.
      b = r.w.traders[BIDDERS[0]];
      for (const k of ACTORS) {
        if (await r.read.vault.isInLiquidation(r.w.traders[k].address)) {
          b = r.w.traders[k];
          break;
        }
      }
      const lots = [...m.auctions].filter((x) => lotKind(x) === LOT_COLLATERAL).sort((x, y) => (x < y ? -1 : 1));
      if (lots.length > 0) id = lots[this.i % lots.length];
    }
    const [, , a] = await r.read.auction.auctionStatus(id);
    const lot = BigInt(a.lot);
    // A pool lot is priced and checked like a position lot of its market.
    const isPosition = lotKind(id) !== LOT_COLLATERAL;
    const index = Number(id & 0xffn);
    const market = isPosition ? MARKETS[index] : GLOBAL;
    const level = await levelNext(m, r, market);
    const abs = lot < 0n ? -lot : lot;
    const amount = abs === 0n ? 1n : (abs * BigInt(this.permille)) / 1000n + 1n;
    // The curve price at the take's second (S4).
    const elapsed = BigInt(m.now + 1) - BigInt(a.startTime);
    const { factorWad, stale } = curveFactor(CURVE, elapsed);
    const asset = isPosition ? (index === 0 ? 0 : 1) : r.assetOfToken[index];
    const oracleWad = m.e8[asset] * 10n ** 10n;
    const shortLot = isPosition && lot < 0n;
    const expected = curvePrice(oracleWad, factorWad, shortLot);
    const limitWad =
      this.limit === "none"
        ? shortLot
          ? 0n
          : ethers.MaxUint256
        : this.limit === "curve"
          ? expected
          : shortLot
            ? expected + 1n
            : expected - 1n;
    const frozen = await r.read.vault.isInLiquidation(b.address);
    const o = await send(m, r, "take", () => r.w.auction.connect(b).take(id, amount, limitWad, b.address, "0x", GAS));
    if (frozen && lot !== 0n) {
      expect(o.ok, "S7: a bidder in liquidation took a lot").to.equal(false);
      bump("take: refused (bidder in liquidation)");
    }
    await checkActorSolvent(r, b.address, frozen, o, "a take");
    if (lot === 0n) {
      expect(o.ok).to.equal(false);
      return expectError(o, "take", ["AuctionNotRunning"]);
    }
    checkMatrix("take", level, o);
    if (o.ok) {
      expect(stale, "S4: a stale auction was taken").to.equal(false);
      expect(this.limit, "S4: a limit better than the curve filled").to.not.equal("better");
      const [ev] = await r.w.auction.queryFilter(r.w.auction.filters.Take(id), o.receipt.blockNumber);
      expect(ev.args.priceWad, "S4: take price = curve price").to.equal(expected);
      if (lotKind(id) === LOT_POOL) bump("take: ok (pool lot)");
    } else {
      if (stale && level < 3) expect(o.error).to.equal("AuctionNeedsRedo");
      expectError(o, "take", [
        "AuctionNeedsRedo",
        "DustRemainder",
        "PriceLimitExceeded",
        "Undercollateralized",
        "AccountInLiquidation",
        "InsufficientBalance",
        "ZeroTake",
        "BreakerActive",
        "SelfTransfer",
      ]);
    }
  }
  toString(): string {
    return `Take(${this.bidder < 0 ? "frozen" : this.bidder}, #${this.i}, ${this.permille}‰, ${this.limit})`;
  }
}

class Redo extends Base {
  constructor(
    readonly keeper: number,
    readonly i: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const id = pick(m, r, this.i);
    const [, , a] = await r.read.auction.auctionStatus(id);
    const isPosition = lotKind(id) !== LOT_COLLATERAL;
    const market = isPosition ? MARKETS[Number(id & 0xffn)] : GLOBAL;
    const level = await levelNext(m, r, market);
    const { stale } = curveFactor(CURVE, BigInt(m.now + 1) - BigInt(a.startTime));
    const o = await send(m, r, "redo", () => r.w.auction.connect(r.w.traders[this.keeper]).redo(id, GAS));
    if (BigInt(a.lot) === 0n) return expectError(o, "redo", ["AuctionNotRunning"]);
    checkMatrix("redo", level, o);
    if (o.ok) expect(stale, "a live auction was redone").to.equal(true);
    else expectError(o, "redo", ["AuctionNotStale", "BreakerActive", "SelfTransfer"]);
  }
  toString(): string {
    return `Redo(${this.keeper}, #${this.i})`;
  }
}

class Poke extends Base {
  constructor(readonly key: 0 | 1 | 2) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const key = [ETH_USD, BTC_USD, GLOBAL][this.key];
    const o = await send(m, r, "poke", () => r.w.breaker.poke(key, GAS));
    expect(o.ok, "poke never reverts").to.equal(true);
  }
  toString(): string {
    return `Poke(${this.key})`;
  }
}

class GuardianTrip extends Base {
  constructor(
    readonly key: 0 | 1 | 2,
    readonly level: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const key = [ETH_USD, BTC_USD, GLOBAL][this.key];
    const o = await send(m, r, "trip", () => r.w.breaker.connect(r.w.admin).trip(key, this.level, GAS));
    expectError(o, "trip", ["GuardianRearming", "LevelNotRaised"]);
  }
  toString(): string {
    return `GuardianTrip(${this.key}, ${this.level})`;
  }
}

class SetTakeover extends Base {
  constructor(readonly on: boolean) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const p = await currentParams(r.w);
    if (p.poolTakeover === this.on) return bump(`takeover ${this.on ? "on" : "off"}: already`);
    const o = await send(m, r, `takeover ${this.on ? "on" : "off"}`, () =>
      r.w.auction.connect(r.w.admin).setParams({ ...p, poolTakeover: this.on }, GAS),
    );
    expect(o.ok, "the risk admin can switch takeover mode at any time").to.equal(true);
    expect((await currentParams(r.w)).poolTakeover).to.equal(this.on);
  }
  toString(): string {
    return `SetTakeover(${this.on})`;
  }
}

class LpDeposit extends Base {
  constructor(readonly amount: bigint) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const o = await send(m, r, "lpDeposit", () => r.w.pool.connect(r.w.lp).deposit(this.amount, r.w.lp.address, GAS));
    checkMatrix("LP deposit", 0, o);
    expect(o.ok, "LP deposits always go through").to.equal(true);
  }
  toString(): string {
    return `LpDeposit(${this.amount})`;
  }
}

class LpWithdraw extends Base {
  constructor(readonly permille: number) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const level = await maxLevelNext(m, r);
    const max = await r.read.pool.maxWithdraw(r.w.lp.address);
    const amount = max === 0n ? usdc(1_000) : (max * BigInt(this.permille)) / 1000n + 1n;
    const o = await send(m, r, "lpWithdraw", () =>
      r.w.pool.connect(r.w.lp).withdraw(amount, r.w.lp.address, r.w.lp.address, GAS),
    );
    checkMatrix("LP withdraw", level, o);
    expectError(o, "lpWithdraw", [
      "ERC4626ExceededMaxWithdraw",
      "InsufficientPoolLiquidity",
      "BreakerActive",
      "ExitQueued",
    ]);
  }
  toString(): string {
    return `LpWithdraw(${this.permille}‰)`;
  }
}

/** Closes the whole position of `who` in `market` (reduce-only, whatever its equity). */
class CloseAll extends Base {
  constructor(
    readonly who: number,
    readonly market: 0 | 1,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const s = r.w.traders[this.who];
    const id = MARKETS[this.market];
    const size = (await r.read.vault.getPosition(s.address, id)).sizeWad;
    if (size === 0n) return bump("closeAll: flat");
    const level = await levelNext(m, r, id);
    const o = await send(m, r, "closeAll", () =>
      r.w.vault.connect(s).trade(id, -size, size > 0n ? 0n : ethers.MaxUint256, GAS),
    );
    checkMatrix("reduce-only trade", level, o);
    expectError(o, "closeAll", ["AccountInLiquidation", "InvalidFillPrice"]);
  }
  toString(): string {
    return `CloseAll(${this.who}, ${this.market})`;
  }
}

/** A 1-wei position in the lowest-index market: it must never shield the account's real ones. */
class DustPosition extends Base {
  constructor(
    readonly who: number,
    readonly long: boolean,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const s = r.w.traders[this.who];
    const delta = this.long ? 1n : -1n;
    const o = await send(m, r, "dust", () =>
      r.w.vault.connect(s).trade(MARKETS[0], delta, delta > 0n ? ethers.MaxUint256 : 0n, GAS),
    );
    expectError(o, "dust", ["Undercollateralized", "OpenInterestCapExceeded", "AccountInLiquidation", "BreakerActive"]);
  }
  toString(): string {
    return `DustPosition(${this.who}, ${this.long ? "long" : "short"})`;
  }
}

/** Warp past the curve's tail and redo the same lot, `times` times over. */
class RedoLoop extends Base {
  constructor(
    readonly keeper: number,
    readonly i: number,
    readonly times: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    for (let k = 0; k < this.times; k++) {
      const id = pick(m, r, this.i);
      const [, , a] = await r.read.auction.auctionStatus(id);
      if (BigInt(a.lot) === 0n) return bump("redoLoop: no lot");
      m.now = Math.max(m.now, Number(a.startTime) + Number(CURVE.tailSec) + 1);
      await send(m, r, "warp", () => r.w.ethFeed.setAnswer(m.e8[0], GAS));
      await send(m, r, "warp", () => r.w.btcFeed.setAnswer(m.e8[1], GAS));
      const o = await send(m, r, "redoLoop", () => r.w.auction.connect(r.w.traders[this.keeper]).redo(id, GAS));
      expectError(o, "redoLoop", ["AuctionNotStale", "BreakerActive", "SelfTransfer"]);
      await checkInvariants(m, r);
    }
  }
  toString(): string {
    return `RedoLoop(${this.keeper}, #${this.i}, ×${this.times})`;
  }
}

/** The skew round trip in one transaction (LP deposit, open, redeem, close, withdraw): never a profit. */
class SkewRoundTrip extends Base {
  constructor(
    readonly lpUsd: number,
    readonly market: 0 | 1,
    readonly sizeMilli: number,
  ) {
    super();
  }
  async act(m: Model, r: Real): Promise<void> {
    const atk = r.attacker;
    const addr = await atk.getAddress();
    const lp = usdc(this.lpUsd);
    const margin = usdc(400_000);
    await send(m, r, "fund", () => r.w.usdc.connect(r.w.admin).mint(addr, lp + margin, GAS));
    const held = async () =>
      (await r.w.usdc.balanceOf(addr)) + (await r.read.pool.previewRedeem(await r.read.pool.balanceOf(addr)));
    const before = await held();
    const unit = this.market === 0 ? WAD / 10n : WAD / 500n;
    const size = BigInt(this.sizeMilli) * unit;
    const o = await send(m, r, "skewRoundTrip", () => atk.attack(MARKETS[this.market], lp, margin, size, GAS));
    expectError(o, "skewRoundTrip", [
      "OpenInterestCapExceeded",
      "Undercollateralized",
      "BreakerActive",
      "InsufficientPoolLiquidity",
      "ZeroAmount",
      "ERC4626ExceededMaxRedeem",
      "InvalidFillPrice",
      "ExitQueued", // [solvency]: the redeem queues for an hour after a takeover, and from caution
    ]);
    if (o.ok) expect(await held(), "S7: the skew round trip paid").to.be.at.most(before + 1n);
  }
  toString(): string {
    return `SkewRoundTrip($${this.lpUsd}, ${this.market}, ${this.sizeMilli})`;
  }
}

const actor = fc.constantFrom(...ACTORS);
const trader = fc.constantFrom(...TRADERS);
const bidder = fc.constantFrom(...BIDDERS);
const permille = fc.integer({ min: 1, max: 1000 });

const steps: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        trader,
        fc.oneof(
          fc.tuple(fc.constant<0>(0), fc.bigInt({ min: usdc(100), max: usdc(20_000) })),
          fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.integer({ min: 1, max: 500 })),
        ),
      )
      // Volatile collateral in hundredths of a whole token (WETH or WBTC, whatever their index).
      .map(([t, [k, a]]) => new Deposit(t, k, k === 0 ? BigInt(a) : -BigInt(a))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(trader, fc.constantFrom<0 | 1 | 2>(0, 1, 2), permille)
      .map(([t, k, p]) => new Withdraw(t, k, p)),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(actor, fc.constantFrom<0 | 1>(0, 1), fc.integer({ min: -600, max: 600 }))
      .map(([t, k, d]) => new Trade(t, k, d)),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(actor, fc.constantFrom<0 | 1>(0, 1), fc.boolean()).map(([t, k, l]) => new Lever(t, k, l)),
  },
  { weight: 2, arbitrary: fc.tuple(actor, fc.constantFrom<0 | 1>(0, 1)).map(([t, k]) => new CloseAll(t, k)) },
  { weight: 1, arbitrary: fc.tuple(actor, fc.boolean()).map(([t, l]) => new DustPosition(t, l)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(bidder, fc.nat({ max: 7 }), fc.integer({ min: 2, max: 4 }))
      .map(([k, i, n]) => new RedoLoop(k, i, n)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 100_000, max: 3_000_000 }),
        fc.constantFrom<0 | 1>(0, 1),
        fc.integer({ min: 1, max: 3_000 }),
      )
      .map(([a, k, n]) => new SkewRoundTrip(a, k, n)),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom<0 | 1>(0, 1),
        fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: -600, max: 600 }) },
          { weight: 2, arbitrary: fc.integer({ min: -2_500, max: -500 }) },
          { weight: 1, arbitrary: fc.integer({ min: 800, max: 2_000 }) },
        ),
      )
      .map(([k, b]) => new MovePrice(k, b)),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 120 }) },
        { weight: 1, arbitrary: fc.integer({ min: 120, max: 2_400 }) },
      )
      .map((s) => new Warp(s)),
  },
  { weight: 2, arbitrary: fc.tuple(bidder, actor).map(([k, t]) => new Kick(k, t)) },
  { weight: 4, arbitrary: bidder.map((k) => new Kick(k, -1)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        bidder,
        fc.nat({ max: 7 }),
        permille,
        fc.constantFrom<"none" | "curve" | "better">("none", "curve", "curve", "better"),
      )
      .map(([b, i, p, l]) => new Take(b, i, p, l)),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.nat({ max: 7 }), permille).map(([i, p]) => new Take(-1, i, p, "none")),
  },
  { weight: 2, arbitrary: fc.tuple(bidder, fc.nat({ max: 7 })).map(([k, i]) => new Redo(k, i)) },
  { weight: 1, arbitrary: fc.constantFrom<0 | 1 | 2>(0, 1, 2).map((k) => new Poke(k)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.integer({ min: 1, max: 3 }), fc.nat({ max: 2 }))
      .map(([k, l, skip]) => (skip === 0 ? new GuardianTrip(k, l) : new Poke(k))),
  },
  { weight: 1, arbitrary: fc.boolean().map((on) => new SetTakeover(on)) },
  { weight: 1, arbitrary: fc.bigInt({ min: usdc(1_000), max: usdc(500_000) }).map((a) => new LpDeposit(a)) },
  { weight: 1, arbitrary: permille.map((p) => new LpWithdraw(p)) },
);

const sequences = fc.array(steps, { minLength: STEPS, maxLength: STEPS });

// ------------------------------------------------------------------------------------ fixture

interface Fixture {
  real: Real;
  snapshot: SnapshotRestorer;
  startNow: number;
  startTokens: [bigint, bigint, bigint];
}

async function fixture(): Promise<Fixture> {
  const w = await deployAuctionWorld();
  const lens = await ethers.deployContract("SystemLens");
  const vaultAddr = await w.vault.getAddress();
  // Vault collateral order (index 0 is the quote token); tokens below are named by this index.
  const listed = await w.vault.collateralTokens();
  const tokens: [string, string, string] = [listed[0], listed[1], listed[2]];
  TOKEN_SCALE.length = 0;
  for (const t of tokens) TOKEN_SCALE.push(10n ** (18n - BigInt((await w.vault.collateralConfig(t)).decimals)));
  // The pool's own cap is $10M × 1; the bidders hold USDC in the vault to pay for lots.
  for (const b of BIDDERS) await w.vault.connect(w.traders[b]).deposit(tokens[0], usdc(300_000));
  for (const t of TRADERS) await w.vault.connect(w.traders[t]).deposit(tokens[0], usdc(10_000));
  // Short guardian rearm and pauses so trips and recoveries happen within a sequence.
  const p = await w.breaker.params();
  await w.breaker.connect(w.admin).setParams({
    windowSec: p.windowSec,
    band1Wad: p.band1Wad,
    band2Wad: p.band2Wad,
    band3Wad: p.band3Wad,
    hysteresisWad: p.hysteresisWad,
    cooldownSec: 300n,
    maxPauseSec: 900n,
    oracleMaxAgeSec: p.oracleMaxAgeSec,
    oracleDeviationWad: p.oracleDeviationWad,
    insuranceWindowSec: p.insuranceWindowSec,
    insuranceDrawdownWad: p.insuranceDrawdownWad,
    insuranceMinPeakWad: p.insuranceMinPeakWad,
    cautionImWad: p.cautionImWad,
    haltImWad: p.haltImWad,
    guardianRearmSec: 1_800n,
  });
  const attacker = await ethers.deployContract("MockSkewAttacker", [vaultAddr, await w.pool.getAddress()]);
  // The attacker holds vault balances between its transactions only as dust: S1 sums it too.
  const actors = [...ACTORS.map((i) => w.traders[i].address), await attacker.getAddress()];
  const read = {
    vault: w.vault.connect(direct),
    auction: w.auction.connect(direct),
    breaker: w.breaker.connect(direct),
    pool: w.pool.connect(direct),
    lens: lens.connect(direct),
  };
  const weth = await w.weth.getAddress();
  const wbtc = await w.wbtc.getAddress();
  const assetOfToken = tokens.map((t) => (t === weth ? 0 : t === wbtc ? 1 : -1)) as [number, number, number];
  expect(assetOfToken.slice(1).sort(), "collateral indices 1 and 2 are WETH and WBTC").to.deep.equal([0, 1]);
  const real: Real = { w, read, vaultAddr, actors, tokens, assetOfToken, attacker };
  MATRIX = decodePermissions(await read.breaker.permissions());
  const balances = (await Promise.all(
    tokens.map(async (t) => (await ethers.getContractAt("MockERC20", t)).balanceOf(vaultAddr)),
  )) as [bigint, bigint, bigint];
  const startNow = Number((await ethers.provider.getBlock("latest"))!.timestamp);
  return { real, snapshot: await takeSnapshot(), startNow, startTokens: balances };
}

describe("invariant: whole system (model-based, fc.commands): solvency, OI, fair kicks, curve, breaker matrix, pool lots", function () {
  this.timeout(0);

  it(`S1–S6 hold after every step of ${RUNS} sequences of ${STEPS} steps (seed ${SEED})`, async () => {
    const f = await fixture();
    errorIfaces = [
      f.real.w.vault.interface,
      f.real.w.auction.interface,
      f.real.w.breaker.interface,
      f.real.w.pool.interface,
      f.real.w.oracle.interface,
      new Interface(["error ReentrancyGuardReentrantCall()"]),
    ];
    const started = Date.now();
    let violations = 0;
    try {
      await fc.assert(
        fc.asyncProperty(sequences, async (cmds) => {
          await f.snapshot.restore();
          stateWords.clear();
          // Each sequence starts later than the last ended: the feeds are refreshed at that time.
          const m: Model = {
            now: Math.max(f.startNow, Number((await ethers.provider.getBlock("latest"))!.timestamp)),
            e8: [BASE_E8[0], BASE_E8[1]],
            vaultTokens: [...f.startTokens],
            auctions: new Set(),
          };
          await fc.asyncModelRun(() => ({ model: m, real: f.real }), cmds);
          stats.sequences += 1;
          // scripts/fuzz.ts reads this line to show progress (every 30 s, any budget); CI does not set it.
          if (process.env.FUZZ_PROGRESS === "1") console.log(`fuzz-progress: ${stats.sequences}`);
          // Long budgets (npm run fuzz) report progress every 500 sequences; the CI budget stays quiet.
          if (RUNS > 1000 && stats.sequences % 500 === 0) {
            const secs = (Date.now() - started) / 1000;
            console.log(
              `      fuzz: ${stats.sequences}/${RUNS} sequences, ${secs.toFixed(0)}s, ~${((secs / stats.sequences) * (RUNS - stats.sequences)).toFixed(0)}s left`,
            );
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true, path: process.env.FUZZ_PATH },
      );
    } catch (e) {
      violations = 1;
      throw e;
    } finally {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `      fuzz: runs=${stats.sequences} seed=${SEED} steps=${stats.steps} (${STEPS} per sequence) violations=${violations} time=${secs}s`,
      );
      const outcomes = [...stats.outcomes.entries()].sort(([a], [b]) => a.localeCompare(b));
      console.log(`      outcomes: ${outcomes.map(([k, v]) => `${k}=${v}`).join(", ")}`);
    }
    expect(stats.sequences).to.equal(RUNS);
    expect(stats.steps).to.be.at.least(RUNS * STEPS);
  });
});

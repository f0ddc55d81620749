import { expect } from "chai";
import fc from "fast-check";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { budget } from "../shared/budget";
import { Interface, type ContractTransactionResponse } from "ethers";
import { BTC_USD, deployWorld, ETH_USD, WAD, type World } from "../shared/local-world";

/**
 * Model-based stateful test of the vault's ledger. Random sequences of deposits and withdrawals
 * (USDC, WETH, WBTC), trades (opens, leverage-targeted opens, reductions, closes, flips, tight
 * slippage bounds), ±10% oracle moves, time warps of up to a day, LP deposits and withdrawals and
 * liquidations (slices against the pool, collateral seizure and shortfall settlement) run against
 * the deployed stack. After every step:
 *
 * - token solvency, exactly: USDC held × 1e12 = Σ quote balances (signed) + pool + insurance;
 *   WETH / WBTC held × scale = Σ collateral balances = the collateral's `totalDepositedWad`;
 * - the vault's token balances and every volatile collateral balance equal the model's, which
 *   follows the tokens moved by each action;
 * - open interest: oiLong = Σ positive sizes and oiShort = Σ |negative sizes| per market;
 * - `accountMarkets(a)` lists exactly the markets where `a` has a non-zero position.
 *
 * A trade, withdrawal or LP withdrawal may revert for margin / cap / slippage / liquidity
 * reasons: those custom errors are no-ops; any other error fails the run. A reduce-only trade
 * may fail only on its price bound (the NatSpec allows it whatever the margin or the OI cap).
 */

const SEED = 42;
const NUM_SEQUENCES = budget(200);
const MIN_STEPS = 20;
const MAX_STEPS = 24;

/** Traders that act; the invariants sum over every account that could hold a ledger entry. */
const ACTIVE = 4;
const INITIAL_DEPOSIT_USDC = 25_000n * 10n ** 6n;
const GAS = { gasLimit: 3_000_000 };

const MARKETS = [ETH_USD, BTC_USD] as const;
const MARKET_NAMES = ["ETH", "BTC"] as const;
type MarketIx = 0 | 1;
/** Tokens: 0 USDC, 1 WETH, 2 WBTC. */
type TokenIx = 0 | 1 | 2;
const TOKEN_NAMES = ["USDC", "WETH", "WBTC"] as const;
const TOKEN_SCALE = [10n ** 12n, 1n, 10n ** 10n] as const;
/** Oracle bands (8 decimals) that random moves are clamped into. */
const BAND_E8 = [
  [1_000n * 10n ** 8n, 9_000n * 10n ** 8n],
  [20_000n * 10n ** 8n, 180_000n * 10n ** 8n],
] as const;
const IMR = 5n * 10n ** 16n;

/** Custom errors that are legitimate outcomes of each action (treated as no-ops). */
const EXPECTED = {
  trade: new Set(["Undercollateralized", "OpenInterestCapExceeded", "SlippageExceeded", "InvalidFillPrice"]),
  /** Reduce-only trades are always allowed (no IM or OI-cap check); only the price bound applies. */
  reduceOnly: new Set(["SlippageExceeded", "InvalidFillPrice"]),
  withdraw: new Set(["Undercollateralized"]),
  lpWithdraw: new Set(["ERC4626ExceededMaxWithdraw", "InsufficientPoolLiquidity"]),
  none: new Set<string>(),
};

// ------------------------------------------------------------------------------ model and real

interface Model {
  /** Feed answers (8 decimals). */
  e8: [bigint, bigint];
  /** Expected token balances of the vault, in token units. */
  vaultTokens: [bigint, bigint, bigint];
  /** Expected volatile collateral (WAD) per trader: [weth, wbtc]. */
  collateral: [bigint, bigint][];
  step: number;
}

interface Real {
  w: World;
  vaultAddr: string;
  tokens: [string, string, string];
  last: string;
}

const stats = {
  sequences: 0,
  steps: 0,
  outcomes: new Map<string, number>(),
  liquidatedSlices: 0,
  shortfallsSettled: 0,
  badDebt: 0,
};
const bump = (key: string): void => void stats.outcomes.set(key, (stats.outcomes.get(key) ?? 0) + 1);

const fmt = (x: bigint, decimals = 18): string => ethers.formatUnits(x, decimals);
const priceWad = (e8: bigint): bigint => e8 * 10n ** 10n;

async function rawCall(to: string, data: string): Promise<string> {
  return (await hre.network.provider.request({ method: "eth_call", params: [{ to, data }, "latest"] })) as string;
}

function revertName(r: Real, e: unknown): string | undefined {
  const data = (e as { data?: unknown }).data;
  if (typeof data !== "string" || data.length < 10) return undefined;
  const { w } = r;
  for (const iface of [w.vault.interface, w.pool.interface, w.oracle.interface, w.risk.interface, w.usdc.interface]) {
    const parsed = iface.parseError(data);
    if (parsed) return parsed.name;
  }
  return undefined;
}

/**
 * Sends a transaction; returns "ok", or the custom error's name when it is in `expected`.
 * Any other failure is rethrown.
 */
async function send(r: Real, label: string, expected: Set<string>, tx: () => Promise<ContractTransactionResponse>) {
  try {
    await (await tx()).wait();
    bump(`${label}: ok`);
    return "ok";
  } catch (e) {
    const name = revertName(r, e);
    if (name !== undefined && expected.has(name)) {
      bump(`${label}: ${name}`);
      return name;
    }
    throw new Error(`${label}: unexpected failure ${name ?? ""}: ${(e as Error).message}`, { cause: e });
  }
}

// --------------------------------------------------------------------------------- invariants
//
// The check runs ~60 view calls after each of ~4,400 steps, so it is kept lean: calldata is
// encoded once (addresses are identical in every sequence, the snapshot being reverted), results
// are decoded by ABI word (cross-checked against ethers' decoder by the first test below), the
// calls go one after the other (Hardhat's in-process provider serves one request at a time; here
// ~60 concurrent `eth_call`s through Promise.all took 2-3× as long as sequential ones), and
// failure messages are built only on failure.

/** View functions of the vault that the check reads, with how their results are laid out. */
const VIEW = {
  poolBalance: "poolBalance",
  insuranceBalance: "insuranceBalance",
  marketState: "marketState", // static tuple: word 0 oiLongWad, word 1 oiShortWad
  collateralConfig: "collateralConfig", // static tuple: word 5 totalDepositedWad
  quoteBalance: "quoteBalance",
  collateralBalance: "collateralBalance",
  getPosition: "getPosition", // static tuple: word 0 sizeWad
  accountMarkets: "accountMarkets", // bytes32[]: offset, length, items
} as const;
type View = keyof typeof VIEW;

const calldataCache = new Map<string, string>();
let plainVaultIface: Interface | undefined;
function calldata(r: Real, fn: View, args: readonly string[]): string {
  const key = `${fn}(${args.join(",")})`;
  let data = calldataCache.get(key);
  if (data === undefined) {
    plainVaultIface ??= new Interface(r.w.vault.interface.fragments);
    data = plainVaultIface.encodeFunctionData(VIEW[fn], args);
    calldataCache.set(key, data);
  }
  return data;
}

/** ABI word `i` of a hex result, as a signed 256-bit integer (every value read here fits). */
const word = (hex: string, i: number): bigint => BigInt.asIntN(256, BigInt(`0x${hex.slice(2 + 64 * i, 66 + 64 * i)}`));
/** A bytes32[] result. */
function bytes32Array(hex: string): string[] {
  const offset = Number(word(hex, 0)) / 32;
  const n = Number(word(hex, offset));
  return Array.from({ length: n }, (_, k) => `0x${hex.slice(2 + 64 * (offset + 1 + k), 66 + 64 * (offset + 1 + k))}`);
}

const viewRaw = (r: Real, fn: View, ...args: string[]): Promise<string> => rawCall(r.vaultAddr, calldata(r, fn, args));
const viewWord = async (r: Real, fn: View, i: number, ...args: string[]): Promise<bigint> =>
  word(await viewRaw(r, fn, ...args), i);

/** Equality assertion whose message is built only when it fails. */
function same<T>(actual: T, expected: T, what: () => string): void {
  if (actual !== expected) expect(actual, what()).to.equal(expected);
}

/** Everything the invariants need, read from the chain. */
interface Snapshot {
  held: bigint[];
  poolBalance: bigint;
  insuranceBalance: bigint;
  oi: { long: bigint; short: bigint }[];
  totalDeposited: bigint[];
  accounts: { label: string; quote: bigint; coll: bigint[]; sizes: bigint[]; markets: string[] }[];
}

async function snapshot(r: Real): Promise<Snapshot> {
  const { w, vaultAddr, tokens } = r;
  const [weth, wbtc] = [tokens[1], tokens[2]];
  const held: bigint[] = [];
  for (const t of tokens)
    held.push(word(await rawCall(t, w.usdc.interface.encodeFunctionData("balanceOf", [vaultAddr])), 0));
  const oi: Snapshot["oi"] = [];
  for (const id of MARKETS) {
    const st = await viewRaw(r, "marketState", id);
    oi.push({ long: word(st, 0), short: word(st, 1) });
  }
  const totalDeposited = [
    await viewWord(r, "collateralConfig", 5, weth),
    await viewWord(r, "collateralConfig", 5, wbtc),
  ];
  const accounts: Snapshot["accounts"] = [];
  // Every trader, active or not; then the liquidator and the LP, which never hold a ledger
  // entry here (had a bug given them one, it would show in the sums).
  const holders = [
    ...w.traders.map((t, i) => ({ label: `trader ${i}`, a: t.address })),
    { label: "liquidator", a: w.liquidator.address },
    { label: "lp", a: w.lp.address },
  ];
  for (const { label, a } of holders) {
    const sizes: bigint[] = [];
    for (const id of MARKETS) sizes.push(await viewWord(r, "getPosition", 0, a, id));
    accounts.push({
      label,
      quote: await viewWord(r, "quoteBalance", 0, a),
      coll: [await viewWord(r, "collateralBalance", 0, a, weth), await viewWord(r, "collateralBalance", 0, a, wbtc)],
      sizes,
      markets: bytes32Array(await viewRaw(r, "accountMarkets", a)),
    });
  }
  return {
    held,
    poolBalance: await viewWord(r, "poolBalance", 0),
    insuranceBalance: await viewWord(r, "insuranceBalance", 0),
    oi,
    totalDeposited,
    accounts,
  };
}

async function checkInvariants(m: Model, r: Real): Promise<void> {
  const s = await snapshot(r);
  const ctx = `after step ${m.step} (${r.last})`;
  let sumQuote = 0n;
  const sumColl = [0n, 0n];
  const oiLong = [0n, 0n];
  const oiShort = [0n, 0n];
  for (const [i, acc] of s.accounts.entries()) {
    sumQuote += acc.quote;
    sumColl[0] += acc.coll[0];
    sumColl[1] += acc.coll[1];
    for (const k of [0, 1] as const) {
      const size = acc.sizes[k];
      if (size > 0n) oiLong[k] += size;
      if (size < 0n) oiShort[k] -= size;
      // No position without its market in accountMarkets (and no market listed without one).
      same(acc.markets.includes(MARKETS[k]), size !== 0n, () =>
        size !== 0n
          ? `${ctx}: ${acc.label} has ${fmt(size)} ${MARKET_NAMES[k]} but accountMarkets omits it`
          : `${ctx}: ${acc.label} has no ${MARKET_NAMES[k]} position but accountMarkets lists it`,
      );
    }
    same(
      acc.markets.length,
      new Set(acc.markets.filter((x) => MARKETS.some((id) => id === x))).size,
      () => `${ctx}: accountMarkets of ${acc.label} has duplicates or unknown markets: ${acc.markets.join(", ")}`,
    );
    // The model follows every token moved in and out of volatile collateral.
    const expectedColl = i < ACTIVE ? m.collateral[i] : [0n, 0n];
    for (const k of [0, 1] as const) {
      same(acc.coll[k], expectedColl[k], () => `${ctx}: ${TOKEN_NAMES[k + 1]} collateral of ${acc.label} (model)`);
    }
  }

  // Token solvency, exact.
  same(
    s.held[0] * TOKEN_SCALE[0],
    sumQuote + s.poolBalance + s.insuranceBalance,
    () =>
      `${ctx}: USDC held × 1e12 = Σ quote (${fmt(sumQuote)}) + pool (${fmt(s.poolBalance)}) + insurance (${fmt(s.insuranceBalance)})`,
  );
  same(s.held[1] * TOKEN_SCALE[1], sumColl[0], () => `${ctx}: WETH held = Σ collateral`);
  same(s.held[2] * TOKEN_SCALE[2], sumColl[1], () => `${ctx}: WBTC held × 1e10 = Σ collateral`);
  same(s.totalDeposited[0], sumColl[0], () => `${ctx}: WETH totalDepositedWad = Σ collateral`);
  same(s.totalDeposited[1], sumColl[1], () => `${ctx}: WBTC totalDepositedWad = Σ collateral`);
  for (const k of [0, 1, 2] as const) {
    same(s.held[k], m.vaultTokens[k], () => `${ctx}: vault ${TOKEN_NAMES[k]} balance (model)`);
  }

  // Open interest.
  for (const k of [0, 1] as const) {
    same(s.oi[k].long, oiLong[k], () => `${ctx}: ${MARKET_NAMES[k]} oiLong = Σ long sizes`);
    same(s.oi[k].short, oiShort[k], () => `${ctx}: ${MARKET_NAMES[k]} oiShort = Σ |short sizes|`);
  }
}

// ----------------------------------------------------------------------------------- commands

abstract class Step implements fc.AsyncCommand<Model, Real, false> {
  check(): boolean {
    return true; // every action adapts to the state at run time (or is a no-op)
  }
  async run(m: Model, r: Real): Promise<void> {
    m.step++;
    r.last = this.toString();
    await this.act(m, r);
    stats.steps++;
    await checkInvariants(m, r);
  }
  abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

class Deposit extends Step {
  constructor(
    readonly trader: number,
    readonly token: TokenIx,
    readonly amount: bigint,
  ) {
    super();
  }
  async act(m: Model, r: Real) {
    const t = r.w.traders[this.trader];
    await send(r, `deposit ${TOKEN_NAMES[this.token]}`, EXPECTED.none, () =>
      r.w.vault.connect(t).deposit(r.tokens[this.token], this.amount, GAS),
    );
    m.vaultTokens[this.token] += this.amount;
    if (this.token !== 0) m.collateral[this.trader][this.token - 1] += this.amount * TOKEN_SCALE[this.token];
  }
  toString() {
    return `Deposit(t${this.trader}, ${fmt(this.amount, [6, 18, 8][this.token])} ${TOKEN_NAMES[this.token]})`;
  }
}

class Withdraw extends Step {
  constructor(
    readonly trader: number,
    readonly token: TokenIx,
    readonly permille: number,
  ) {
    super();
  }
  async act(m: Model, r: Real) {
    const t = r.w.traders[this.trader];
    const balanceWad =
      this.token === 0
        ? await r.w.vault.quoteBalance(t.address)
        : await r.w.vault.collateralBalance(t.address, r.tokens[this.token]);
    const units = balanceWad > 0n ? balanceWad / TOKEN_SCALE[this.token] : 0n;
    const amount = (units * BigInt(this.permille)) / 1000n;
    if (amount === 0n) {
      bump(`withdraw ${TOKEN_NAMES[this.token]}: nothing`);
      return;
    }
    const out = await send(r, `withdraw ${TOKEN_NAMES[this.token]}`, EXPECTED.withdraw, () =>
      r.w.vault.connect(t).withdraw(r.tokens[this.token], amount, GAS),
    );
    if (out !== "ok") return;
    m.vaultTokens[this.token] -= amount;
    if (this.token !== 0) m.collateral[this.trader][this.token - 1] -= amount * TOKEN_SCALE[this.token];
  }
  toString() {
    return `Withdraw(t${this.trader}, ${this.permille}‰ ${TOKEN_NAMES[this.token]})`;
  }
}

type TradeMode = "size" | "leverage" | "reduce" | "close" | "flip";

class Trade extends Step {
  constructor(
    readonly trader: number,
    readonly market: MarketIx,
    readonly mode: TradeMode,
    readonly long: boolean,
    /** "size": the magnitude; others ignore it. */
    readonly magnitude: bigint,
    /** "leverage": share (‰) of the free margin to use; "reduce"/"flip": share of the position. */
    readonly permille: number,
    /** Slippage bound in bps from the oracle price, or null for none. */
    readonly slippageBps: number | null,
  ) {
    super();
  }
  async act(m: Model, r: Real) {
    const { w } = r;
    const t = w.traders[this.trader];
    // "reduce" / "close" / "flip" act on the other market when the drawn one has no position;
    // with no position at all they open one at a share of the free margin ("leverage").
    let market = this.market;
    let size = (await w.vault.getPosition(t.address, MARKETS[market])).sizeWad;
    const onPosition = this.mode === "reduce" || this.mode === "close" || this.mode === "flip";
    if (size === 0n && onPosition) {
      const other: MarketIx = market === 0 ? 1 : 0;
      const otherSize = (await w.vault.getPosition(t.address, MARKETS[other])).sizeWad;
      if (otherSize !== 0n) [market, size] = [other, otherSize];
    }
    const marketId = MARKETS[market];
    const price = priceWad(m.e8[market]);
    const dir = this.long ? 1n : -1n;
    const mode: TradeMode = size === 0n && onPosition ? "leverage" : this.mode;
    let delta: bigint;
    if (mode === "leverage") {
      const h = await w.vault.accountHealth(t.address);
      const free = h.equityWad - BigInt(h.initialMarginWad);
      const notional = free > 0n ? (((free * WAD) / IMR) * BigInt(this.permille)) / 1000n : 0n;
      delta = dir * ((notional * WAD) / price);
      if (delta === 0n) delta = dir * WAD;
    } else if (mode === "size") {
      delta = dir * this.magnitude;
    } else if (mode === "close") {
      delta = -size;
    } else if (mode === "reduce") {
      delta = (-size * BigInt(Math.min(this.permille, 1000))) / 1000n;
      if (delta === 0n) delta = size > 0n ? -1n : 1n;
    } else {
      delta = -size - (size * BigInt(this.permille)) / 1000n - (size > 0n ? 1n : -1n);
    }
    const acceptable =
      this.slippageBps === null
        ? delta > 0n
          ? ethers.MaxUint256
          : 0n
        : delta > 0n
          ? (price * BigInt(10_000 + this.slippageBps)) / 10_000n
          : (price * BigInt(10_000 - this.slippageBps)) / 10_000n;
    const reduceOnly =
      size !== 0n && delta > 0n !== size > 0n && (delta < 0n ? -delta : delta) <= (size < 0n ? -size : size);
    await send(r, `trade ${mode}`, reduceOnly ? EXPECTED.reduceOnly : EXPECTED.trade, () =>
      w.vault.connect(t).trade(marketId, delta, acceptable, GAS),
    );
  }
  toString() {
    const what =
      this.mode === "size"
        ? `${this.long ? "+" : "-"}${fmt(this.magnitude)}`
        : `${this.long ? "long" : "short"} ${this.permille}‰`;
    return `Trade(t${this.trader}, ${MARKET_NAMES[this.market]}, ${this.mode} ${what}, slippage ${this.slippageBps ?? "none"})`;
  }
}

class MovePrice extends Step {
  constructor(
    readonly market: MarketIx,
    readonly bps: number,
  ) {
    super();
  }
  async act(m: Model, r: Real) {
    const [lo, hi] = BAND_E8[this.market];
    let next = (m.e8[this.market] * BigInt(10_000 + this.bps)) / 10_000n;
    next = next < lo ? lo : next > hi ? hi : next;
    await send(r, "price", EXPECTED.none, () => [r.w.ethFeed, r.w.btcFeed][this.market].setAnswer(next, GAS));
    m.e8[this.market] = next;
  }
  toString() {
    return `MovePrice(${MARKET_NAMES[this.market]}, ${this.bps} bps)`;
  }
}

class Warp extends Step {
  constructor(readonly seconds: number) {
    super();
  }
  async act(m: Model, r: Real) {
    await time.increase(this.seconds);
    // The feeds' heartbeat is an hour: re-post the same answers so that prices stay fresh.
    await send(r, "warp refresh", EXPECTED.none, () => r.w.ethFeed.setAnswer(m.e8[0], GAS));
    await send(r, "warp refresh", EXPECTED.none, () => r.w.btcFeed.setAnswer(m.e8[1], GAS));
  }
  toString() {
    return `Warp(${this.seconds}s)`;
  }
}

class LpDeposit extends Step {
  constructor(readonly amount: bigint) {
    super();
  }
  async act(m: Model, r: Real) {
    await send(r, "lp deposit", EXPECTED.none, () =>
      r.w.pool.connect(r.w.lp).deposit(this.amount, r.w.lp.address, GAS),
    );
    m.vaultTokens[0] += this.amount;
  }
  toString() {
    return `LpDeposit(${fmt(this.amount, 6)} USDC)`;
  }
}

class LpWithdraw extends Step {
  constructor(readonly permille: number) {
    super();
  }
  async act(m: Model, r: Real) {
    const { lp, pool } = r.w;
    const amount = ((await pool.maxWithdraw(lp.address)) * BigInt(this.permille)) / 1000n;
    if (amount === 0n) {
      bump("lp withdraw: nothing");
      return;
    }
    const out = await send(r, "lp withdraw", EXPECTED.lpWithdraw, () =>
      pool.connect(lp).withdraw(amount, lp.address, lp.address, GAS),
    );
    if (out === "ok") m.vaultTokens[0] -= amount;
  }
  toString() {
    return `LpWithdraw(${this.permille}‰ of maxWithdraw)`;
  }
}

class Liquidate extends Step {
  constructor(
    readonly first: number,
    /** Share (‰) of each position closed per slice; 1000 closes it. */
    readonly permille: number,
  ) {
    super();
  }
  async act(m: Model, r: Real) {
    const { w } = r;
    const liq = w.vault.connect(w.liquidator);
    let any = false;
    for (let j = 0; j < ACTIVE; j++) {
      const ti = (this.first + j) % ACTIVE;
      const account = w.traders[ti].address;
      const [liquidatable] = await w.vault.isLiquidatable(account);
      if (!liquidatable) continue;
      any = true;
      for (const marketId of await w.vault.accountMarkets(account)) {
        const k = MARKETS.indexOf(marketId as (typeof MARKETS)[number]) as MarketIx;
        const size = (await w.vault.getPosition(account, marketId)).sizeWad;
        let slice = (-size * BigInt(this.permille)) / 1000n;
        if (slice === 0n) slice = -size;
        await send(r, "liquidate slice", EXPECTED.none, () =>
          liq.liquidatePosition(account, marketId, slice, priceWad(m.e8[k]), ethers.ZeroAddress, GAS),
        );
        stats.liquidatedSlices++;
      }
      if ((await w.vault.accountMarkets(account)).length !== 0) continue;
      if ((await w.vault.quoteBalance(account)) >= 0n) continue;
      // Emptied with a negative balance: seize what volatile collateral is left, then settle.
      for (const k of [1, 2] as const) {
        const bal = await w.vault.collateralBalance(account, r.tokens[k]);
        if (bal === 0n) continue;
        await send(r, "seize", EXPECTED.none, () =>
          liq.seizeCollateral(account, r.tokens[k], bal, w.liquidator.address, GAS),
        );
        m.vaultTokens[k] -= bal / TOKEN_SCALE[k];
        m.collateral[ti][k - 1] -= bal;
      }
      const poolBefore = await w.vault.poolBalance();
      await send(r, "settle shortfall", EXPECTED.none, () => liq.settleShortfall(account, GAS));
      stats.shortfallsSettled++;
      if ((await w.vault.poolBalance()) < poolBefore) stats.badDebt++;
    }
    if (!any) bump("liquidate: none liquidatable");
  }
  toString() {
    return `Liquidate(from t${this.first}, ${this.permille}‰ slices)`;
  }
}

// -------------------------------------------------------------------------------- arbitraries

const trader = fc.integer({ min: 0, max: ACTIVE - 1 });
const market = fc.constantFrom<MarketIx>(0, 1);
const permille = fc.integer({ min: 1, max: 1000 });

const commandArbs: fc.Arbitrary<Step>[] = [
  fc
    .tuple(
      trader,
      fc.oneof(
        fc.tuple(fc.constant<TokenIx>(0), fc.bigInt({ min: 1_000n * 10n ** 6n, max: 50_000n * 10n ** 6n })),
        fc.tuple(fc.constant<TokenIx>(1), fc.bigInt({ min: 10n ** 15n, max: 10n * WAD })),
        fc.tuple(fc.constant<TokenIx>(2), fc.bigInt({ min: 10n ** 5n, max: 5n * 10n ** 7n })),
      ),
    )
    .map(([t, [k, amount]]) => new Deposit(t, k, amount)),
  fc.tuple(trader, fc.constantFrom<TokenIx>(0, 0, 1, 2), permille).map(([t, k, p]) => new Withdraw(t, k, p)),
  // Trades are the most frequent action.
  ...[0, 1, 2].map(() =>
    fc
      .record({
        t: trader,
        market,
        mode: fc.constantFrom<TradeMode>("size", "leverage", "leverage", "reduce", "close", "flip"),
        long: fc.boolean(),
        permille: fc.integer({ min: 200, max: 1050 }),
        slippage: fc.oneof(
          { weight: 4, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }) },
        ),
        ethSize: fc.bigInt({ min: 1n, max: 150n * WAD }),
        btcSize: fc.bigInt({ min: 1n, max: 8n * WAD }),
      })
      .map(
        (x) => new Trade(x.t, x.market, x.mode, x.long, x.market === 0 ? x.ethSize : x.btcSize, x.permille, x.slippage),
      ),
  ),
  ...[0, 1].map(() => fc.tuple(market, fc.integer({ min: -1000, max: 1000 })).map(([k, bps]) => new MovePrice(k, bps))),
  fc.integer({ min: 1, max: 86_400 }).map((s) => new Warp(s)),
  fc.bigInt({ min: 10_000n * 10n ** 6n, max: 2_000_000n * 10n ** 6n }).map((a) => new LpDeposit(a)),
  permille.map((p) => new LpWithdraw(p)),
  // Liquidations twice as often as the other actions: an account must be caught while underwater.
  ...[0, 1].map(() => fc.tuple(trader, fc.constantFrom(250, 500, 1000, 1000)).map(([t, p]) => new Liquidate(t, p))),
];

const sequences = fc
  .commands(commandArbs, { maxCommands: MAX_STEPS, size: "+1" })
  .filter((cmds) => [...cmds].length >= MIN_STEPS);

// -------------------------------------------------------------------------------------- test

describe("invariant: vault ledger (model-based, fc.commands)", function () {
  this.timeout(1_800_000);

  it("the check's word-by-word decoding agrees with the typed (ethers) getters", async () => {
    const w = await loadFixture(deployWorld);
    const tokens: [string, string, string] = [
      await w.usdc.getAddress(),
      await w.weth.getAddress(),
      await w.wbtc.getAddress(),
    ];
    const r: Real = { w, vaultAddr: await w.vault.getAddress(), tokens, last: "" };
    const [a, b] = w.traders;
    await w.vault.connect(a).deposit(tokens[0], 100_000n * 10n ** 6n);
    await w.vault.connect(a).deposit(tokens[1], 3n * WAD + 7n);
    await w.vault.connect(b).deposit(tokens[2], 12_345_678n);
    await w.vault.connect(b).deposit(tokens[0], 50_000n * 10n ** 6n);
    await w.vault.connect(a).trade(BTC_USD, -WAD / 3n, 0n);
    await w.vault.connect(a).trade(ETH_USD, 7n * WAD + 1n, ethers.MaxUint256);
    await w.vault.connect(b).trade(ETH_USD, -2n * WAD, 0n);

    const s = await snapshot(r);
    expect(s.poolBalance).to.equal(await w.vault.poolBalance());
    expect(s.insuranceBalance).to.equal(await w.vault.insuranceBalance());
    for (const [k, id] of MARKETS.entries()) {
      const st = await w.vault.marketState(id);
      expect(s.oi[k]).to.deep.equal({ long: st.oiLongWad, short: st.oiShortWad });
    }
    expect(s.totalDeposited).to.deep.equal([
      (await w.vault.collateralConfig(tokens[1])).totalDepositedWad,
      (await w.vault.collateralConfig(tokens[2])).totalDepositedWad,
    ]);
    for (const [i, t] of w.traders.entries()) {
      const acc = s.accounts[i];
      expect(acc.quote).to.equal(await w.vault.quoteBalance(t.address));
      expect(acc.coll).to.deep.equal([
        await w.vault.collateralBalance(t.address, tokens[1]),
        await w.vault.collateralBalance(t.address, tokens[2]),
      ]);
      for (const [k, id] of MARKETS.entries()) {
        expect(acc.sizes[k]).to.equal((await w.vault.getPosition(t.address, id)).sizeWad);
      }
      expect(acc.markets).to.deep.equal([...(await w.vault.accountMarkets(t.address))]);
    }
    expect(s.accounts[0].markets).to.have.length(2);
    expect(s.accounts[0].sizes).to.deep.equal([7n * WAD + 1n, -WAD / 3n]);
    expect(s.accounts[1].sizes[0]).to.equal(-2n * WAD);
    expect(s.held[2]).to.equal(12_345_678n);
  });

  it(`solvency, open interest and market lists hold after every step (${NUM_SEQUENCES} sequences, seed ${SEED})`, async () => {
    const started = Date.now();
    const setup = async (): Promise<{ model: Model; real: Real }> => {
      const w = await loadFixture(deployWorld);
      const tokens: [string, string, string] = [
        await w.usdc.getAddress(),
        await w.weth.getAddress(),
        await w.wbtc.getAddress(),
      ];
      const e8: [bigint, bigint] = [(await w.ethFeed.latestRoundData())[1], (await w.btcFeed.latestRoundData())[1]];
      // Earlier sequences' warps moved the clock past the snapshot: refresh the feeds.
      await w.ethFeed.setAnswer(e8[0]);
      await w.btcFeed.setAnswer(e8[1]);
      for (const t of w.traders.slice(0, ACTIVE)) await w.vault.connect(t).deposit(tokens[0], INITIAL_DEPOSIT_USDC);
      const vaultAddr = await w.vault.getAddress();
      const vaultTokens = (await Promise.all([w.usdc, w.weth, w.wbtc].map((c) => c.balanceOf(vaultAddr)))) as [
        bigint,
        bigint,
        bigint,
      ];
      const real: Real = {
        w,
        vaultAddr,
        tokens,
        last: "setup",
      };
      const model: Model = {
        e8,
        vaultTokens,
        collateral: Array.from({ length: ACTIVE }, (): [bigint, bigint] => [0n, 0n]),
        step: 0,
      };
      await checkInvariants(model, real);
      return { model, real };
    };

    let runs = 0;
    let runSteps = 0;
    await fc.assert(
      fc.asyncProperty(sequences, async (cmds) => {
        const before = stats.steps;
        await fc.asyncModelRun(setup, cmds);
        runs++;
        runSteps += stats.steps - before;
      }),
      { seed: SEED, numRuns: NUM_SEQUENCES },
    );
    stats.sequences = runs;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`      VaultInvariants: ${stats.sequences} sequences, ${runSteps} steps in ${secs}s`);
    console.log(
      `      liquidated slices ${stats.liquidatedSlices}, shortfalls settled ${stats.shortfallsSettled} ` +
        `(${stats.badDebt} socialised to the pool)`,
    );
    const outcomes = [...stats.outcomes.entries()].sort(([a], [b]) => a.localeCompare(b));
    console.log(`      outcomes: ${outcomes.map(([k, v]) => `${k}=${v}`).join(", ")}`);
    expect(stats.sequences).to.be.gte(NUM_SEQUENCES);
    expect(runSteps).to.be.gte(NUM_SEQUENCES * MIN_STEPS);
  });
});

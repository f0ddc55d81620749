import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionReceipt } from "ethers";
import type { IAuctionHouse } from "../../typechain-types";
import {
  AUCTION_DEFAULTS,
  CURVE_DEFAULTS,
  MARKET_CAPACITY_DEFAULT_WAD,
  THROTTLE_DEFAULTS,
  auctionParams,
  defaultAuctionParams,
  type AuctionParams,
} from "../../lib/params";
import { BTC_USD, deployWorld, ETH_USD, WAD, type World } from "./local-world";

/**
 * Reference maths of the AuctionHouse, written in bigint from the NatSpec of `IAuctionHouse` and
 * `IPriceCurve` (not from the implementation), plus the scenario helpers its specs share.
 *
 *  - curves: linear max(0, 1 − t/tau) floored to WAD; stairstep cut^⌊t/step⌋ in WAD fixed point,
 *    each product rounded half up (the fixed-point `rpow` convention); exponential 2^(−t/halfLife);
 *  - price multiple m(t) = max(floor, buf × curve(t)) (product rounded down); stale when
 *    elapsed > tail or buf × curve(t) < cusp;
 *  - lot price = oracle × m (long and collateral lots) or oracle × (2 − m) (short lots), rounded down;
 *  - slice: the smallest notional x with E − c·x ≥ h·(IM − imr·x), i.e. x = (h·IM − E) / (h·imr − c);
 *  - penalty = c × tab rounded up; keeper reward = min(tip + chip × tab, cap, penalty).
 */

// ------------------------------------------------------------------ fixed point

export { WAD };
/** ⌈a / d⌉ for a ≥ 0, d > 0. */
export const ceilDiv = (a: bigint, d: bigint): bigint => (a + d - 1n) / d;
export const mulWad = (a: bigint, b: bigint): bigint => (a * b) / WAD;
export const mulWadUp = (a: bigint, b: bigint): bigint => ceilDiv(a * b, WAD);
export const divWad = (a: bigint, b: bigint): bigint => (a * WAD) / b;
export const divWadUp = (a: bigint, b: bigint): bigint => ceilDiv(a * WAD, b);
export const mulDivUp = (a: bigint, b: bigint, d: bigint): bigint => ceilDiv(a * b, d);
export const minOf = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x < m ? x : m));
export const maxOf = (...xs: bigint[]): bigint => xs.reduce((m, x) => (x > m ? x : m));
export const absOf = (x: bigint): bigint => (x < 0n ? -x : x);
/** ⌊a·b / WAD⌋ for signed a (mathematical floor). */
export const mulWadFloorSigned = (a: bigint, b: bigint): bigint => {
  const p = a * b;
  const q = p / WAD;
  return p % WAD !== 0n && p < 0n ? q - 1n : q;
};

/**
 * x^n in `base` fixed point by binary exponentiation, every product rounded half up: the
 * convention of fixed-point `rpow` (Maker's `abaci`, solady).
 */
export function rpow(x: bigint, n: bigint, base: bigint = WAD): bigint {
  if (x === 0n) return n === 0n ? base : 0n;
  const half = base / 2n;
  let z = n % 2n === 1n ? x : base;
  for (let y = n / 2n; y > 0n; y /= 2n) {
    x = (x * x + half) / base;
    if (y % 2n === 1n) z = (z * x + half) / base;
  }
  return z;
}

// ------------------------------------------------------------------ curves

export const linearFactor = (tau: bigint, t: bigint): bigint => (t >= tau ? 0n : ((tau - t) * WAD) / tau);
export const stairstepFactor = (step: bigint, cut: bigint, t: bigint): bigint => rpow(cut, t / step);
/** 2^(−t/halfLife) as a real number (double precision, ~1e-16 relative). */
export const exponentialFactor = (halfLife: number, t: number): number => Math.pow(2, -t / halfLife);

// ------------------------------------------------------------------ parameters

export type { AuctionParams };

/** The defaults of lib/params (which deploy/modules/core.ts deploys), flat, for the specs. */
export const DEFAULTS = {
  curveStepSec: CURVE_DEFAULTS.stepSec,
  curveCutWad: CURVE_DEFAULTS.cutWad,
  ...AUCTION_DEFAULTS,
  ...THROTTLE_DEFAULTS,
  marketCapacityWad: MARKET_CAPACITY_DEFAULT_WAD,
} as const;

/** The default `AuctionParams` (the curve's address is not known here). */
export const DEFAULT_PARAMS: AuctionParams = defaultAuctionParams(ethers.ZeroAddress);

export const paramsOf = (p: IAuctionHouse.ParamsStructOutput): AuctionParams => auctionParams(p);

export async function currentParams(w: World): Promise<AuctionParams> {
  return paramsOf(await w.auction.params());
}

/** Replaces some auction parameters (as the risk admin). */
export async function setAuctionParams(w: World, changes: Partial<AuctionParams>): Promise<AuctionParams> {
  const p = { ...(await currentParams(w)), ...changes };
  await w.auction.connect(w.admin).setParams(p);
  return p;
}

// ------------------------------------------------------------------ pricing

/** m = max(floor, buf × curve) and whether the auction is stale at `elapsed`. */
export function priceMultiple(
  p: AuctionParams,
  curveFactorWad: bigint,
  elapsed: bigint,
): { raw: bigint; factor: bigint; stale: boolean } {
  const raw = mulWad(p.bufWad, curveFactorWad);
  return { raw, factor: maxOf(raw, p.floorWad), stale: elapsed > p.tailSec || raw < p.cuspWad };
}

/**
 * Clearing price of a lot: oracle × m for a long (or collateral) lot, rounded up (the account
 * sells); oracle × (2 − m) for a short lot, rounded down (the account buys back).
 */
export const lotPrice = (oracleWad: bigint, factorWad: bigint, shortLot: boolean): bigint =>
  shortLot ? mulWad(oracleWad, 2n * WAD - factorWad) : mulWadUp(oracleWad, factorWad);

/** The default stairstep curve's factor at `elapsed` seconds. */
export const defaultCurve = (elapsed: bigint): bigint =>
  stairstepFactor(DEFAULTS.curveStepSec, DEFAULTS.curveCutWad, elapsed);

/** First elapsed second at which buf × curve < cusp under the default curve (staleness by cusp). */
export function cuspSecond(p: AuctionParams): bigint {
  for (let n = 0n; ; n++) {
    if (mulWad(p.bufWad, rpow(DEFAULTS.curveCutWad, n)) < p.cuspWad) return n * DEFAULTS.curveStepSec;
  }
}

// ------------------------------------------------------------------ sizing and fees

/**
 * The smallest notional x (USD WAD, rounded up) that restores equity ≥ h × IM once sold at the
 * oracle price and charged the penalty c·x: x = (h·IM − E) / (h·imr − c), exactly.
 */
export function minimumSliceNotional(
  equityWad: bigint,
  initialMarginWad: bigint,
  imrWad: bigint,
  targetHealthWad: bigint,
  penaltyWad: bigint,
): bigint {
  // (h·IM/W − E) / ((h·imr/W − c)/W) = (h·IM − E·W)·W / (h·imr − c·W)
  const num = (targetHealthWad * initialMarginWad - equityWad * WAD) * WAD;
  const den = targetHealthWad * imrWad - penaltyWad * WAD;
  return ceilDiv(num, den);
}

/** Equity after selling notional x at the oracle and paying penalty c·x, minus h × the IM left. */
export function healthSurplusAfter(
  x: bigint,
  equityWad: bigint,
  initialMarginWad: bigint,
  imrWad: bigint,
  targetHealthWad: bigint,
  penaltyWad: bigint,
): bigint {
  // Scaled by W²: E·W² − c·x·W − h·(IM·W − imr·x)
  return equityWad * WAD * WAD - penaltyWad * x * WAD - targetHealthWad * (initialMarginWad * WAD - imrWad * x);
}

/** Penalty (rounded up) and the keeper's share of it. */
export function penaltyAndReward(tabWad: bigint, p: AuctionParams): { penalty: bigint; reward: bigint } {
  const penalty = mulWadUp(tabWad, p.penaltyWad);
  return { penalty, reward: minOf(keeperReward(tabWad, p), penalty) };
}

/** min(tip + chip × tab, cap): the kick reward before the penalty cap, and the redo reward. */
export const keeperReward = (tabWad: bigint, p: AuctionParams): bigint =>
  minOf(p.tipWad + mulWad(tabWad, p.chipWad), p.rewardCapWad);

/** Signed base size worth `notional` of a position (rounded up, away from zero). */
export function sliceSize(sizeWad: bigint, positionNotionalWad: bigint, notionalWad: bigint): bigint {
  if (notionalWad >= positionNotionalWad) return sizeWad;
  const s = mulDivUp(absOf(sizeWad), notionalWad, positionNotionalWad);
  return sizeWad > 0n ? s : -s;
}

/** Window usage after linear decay at capacity / window per second. */
export function decayedUsage(used: bigint, updatedAt: bigint, capacity: bigint, window: bigint, now: bigint): bigint {
  const refill = (capacity * (now - updatedAt)) / window;
  return used > refill ? used - refill : 0n;
}

// ------------------------------------------------------------------ scenario helpers

/**
 * The local stack with funding velocity zero on both markets: no funding ever accrues, so equity
 * is an exact function of prices and every expected value can be computed to the wei.
 */
export async function deployAuctionWorld(): Promise<World> {
  const w = await deployWorld();
  for (const market of [ETH_USD, BTC_USD]) {
    const p = await w.vault.marketParams(market);
    await w.vault.connect(w.admin).setMarketParams(market, {
      oracleAsset: p.oracleAsset,
      makerFeeWad: p.makerFeeWad,
      takerFeeWad: p.takerFeeWad,
      maxFundingVelocityWad: 0n,
      maxOiPoolRatioWad: p.maxOiPoolRatioWad,
      skewScaleWad: p.skewScaleWad,
    });
  }
  return w;
}

/** The 8-decimal feeds carry prices in steps of 1e10 wei. */
export const FEED_STEP = 10n ** 10n;

export async function setEthPriceWad(w: World, priceWad: bigint): Promise<void> {
  await w.ethFeed.setAnswer(priceWad / FEED_STEP);
}

export async function setBtcPriceWad(w: World, priceWad: bigint): Promise<void> {
  await w.btcFeed.setAnswer(priceWad / FEED_STEP);
}

/**
 * The feed price (a multiple of `FEED_STEP`) at which a one-position account with no volatile
 * collateral and no funding has equity just at or below `targetEquityWad` (long: rounded down,
 * short: rounded up).
 */
export async function priceForEquity(
  w: World,
  account: string,
  market: string,
  targetEquityWad: bigint,
): Promise<bigint> {
  const pos = await w.vault.getPosition(account, market);
  const quote = await w.vault.quoteBalance(account);
  // E(P) = quote + size × (P − entry)  ⇒  P = entry + (E − quote) / size
  const size = pos.sizeWad;
  const exact = pos.entryPriceWad + ((targetEquityWad - quote) * WAD) / size;
  const down = (exact / FEED_STEP) * FEED_STEP;
  return size > 0n ? down : down + FEED_STEP;
}

export interface KickResult {
  id: bigint;
  receipt: ContractTransactionReceipt;
  timestamp: bigint;
  lot: bigint;
  tabWad: bigint;
  penaltyWad: bigint;
  rewardWad: bigint;
  key: string;
}

/** Kicks `account` as `keeper` and returns the Kick event's fields. */
export async function kick(w: World, keeper: HardhatEthersSigner, account: string): Promise<KickResult> {
  const tx = await w.auction.connect(keeper).kick(account);
  const receipt = (await tx.wait())!;
  const [event] = await w.auction.queryFilter(w.auction.filters.Kick(), receipt.blockNumber, receipt.blockNumber);
  const block = (await ethers.provider.getBlock(receipt.blockNumber))!;
  return {
    id: event.args.id,
    receipt,
    timestamp: BigInt(block.timestamp),
    lot: event.args.lot,
    tabWad: event.args.tabWad,
    penaltyWad: event.args.penaltyWad,
    rewardWad: event.args.rewardWad,
    key: event.args.key,
  };
}

/** Timestamp of the block that mined `receipt`. */
export async function blockTime(receipt: ContractTransactionReceipt): Promise<bigint> {
  return BigInt((await ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
}

/** Deposits USDC (whole dollars) into `account`'s vault balance. */
export async function depositUsd(w: World, trader: HardhatEthersSigner, dollars: bigint): Promise<void> {
  await w.vault.connect(trader).deposit(await w.usdc.getAddress(), dollars * 10n ** 6n);
}

/**
 * Makes `trader` a collateral debtor: it deposits `wethWad` WETH, opens a 0.5 BTC long backed by
 * it, and the vault's liquidator closes that position at the price that leaves a quote balance of
 * −`debtWad` (to within a wei). The account ends with no position, WETH and a negative quote balance.
 */
export async function makeCollateralDebtor(
  w: World,
  trader: HardhatEthersSigner,
  wethWad: bigint,
  debtWad: bigint,
): Promise<void> {
  await w.vault.connect(trader).deposit(await w.weth.getAddress(), wethWad);
  await w.vault.connect(trader).trade(BTC_USD, WAD / 2n, ethers.MaxUint256);
  const pos = await w.vault.getPosition(trader.address, BTC_USD);
  const quote = await w.vault.quoteBalance(trader.address);
  // quote + size × (close − entry) = −debt
  const close = pos.entryPriceWad + ((-debtWad - quote) * WAD) / pos.sizeWad;
  await w.vault
    .connect(w.liquidator)
    .liquidatePosition(trader.address, BTC_USD, -pos.sizeWad, close, ethers.ZeroAddress);
}

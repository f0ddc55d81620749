/**
 * The local world and the reference model side by side, for the PerpVault unit tests: every
 * helper acts on the chain and replays the same action on `ReferenceVault`, so a test only
 * compares the two.
 */

import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { type ContractTransactionResponse, ethers } from "ethers";
import { loadFixture } from "./load-fixture";
import { anyPrice, BTC_USD, deployWorld, e8, ETH_USD, usdc, wad, WAD, type World } from "./local-world";
import { defaultMarkets, type Health, ReferenceVault, type TradeOutcome } from "./reference";

export interface Ctx {
  w: World;
  m: ReferenceVault;
}

/** The fixture's pool deposit, in quote WAD. */
export const POOL0 = 10_000_000n * WAD;
/** The fixture's collateral weight of WETH and WBTC. */
export const WEIGHT = wad(0.85);

/** Fresh local world and a model with its markets, pool, oracle prices and collaterals. */
export async function setupModel(): Promise<Ctx> {
  const w = await loadFixture(deployWorld);
  const m = new ReferenceVault(defaultMarkets(ETH_USD, BTC_USD), POOL0);
  m.setPrice("ETH", wad(3000));
  m.setPrice("BTC", wad(60000));
  m.addCollateral(await w.weth.getAddress(), { asset: "ETH", weight: WEIGHT });
  m.addCollateral(await w.wbtc.getAddress(), { asset: "BTC", weight: WEIGHT });
  return { w, m };
}

/** `setupModel()` with the first trader holding `dollars` of USDC (on chain and in the model). */
export async function withTrader(dollars: number): Promise<Ctx & { ctx: Ctx; t: HardhatEthersSigner }> {
  const ctx = await setupModel();
  const [t] = ctx.w.traders;
  await depositUsd(ctx, t, dollars);
  return { ...ctx, ctx, t };
}

export async function blockTime(tx: ContractTransactionResponse): Promise<bigint> {
  const rc = await tx.wait();
  return BigInt((await rc!.getBlock()).timestamp);
}

export async function depositUsd(ctx: Ctx, t: HardhatEthersSigner, dollars: number): Promise<void> {
  await ctx.w.vault.connect(t).deposit(await ctx.w.usdc.getAddress(), usdc(dollars));
  ctx.m.creditQuote(t.address, usdc(dollars) * 10n ** 12n);
}

/** Sets an oracle answer on chain and the same price in the model. */
export async function setPrice(ctx: Ctx, asset: "ETH" | "BTC", usd: number): Promise<void> {
  await (asset === "ETH" ? ctx.w.ethFeed : ctx.w.btcFeed).setAnswer(e8(usd));
  ctx.m.setPrice(asset, e8(usd) * 10n ** 10n);
}

/** Trades on chain and in the model, checking every field of the `Traded` event against the model. */
export async function tradeBoth(
  ctx: Ctx,
  t: HardhatEthersSigner,
  market: string,
  delta: bigint,
  acceptable: bigint = anyPrice(delta),
): Promise<{ out: TradeOutcome; ts: bigint }> {
  const tx = await ctx.w.vault.connect(t).trade(market, delta, acceptable);
  const ts = await blockTime(tx);
  const out = ctx.m.trade(t.address, market, delta, ts);
  await expect(tx)
    .to.emit(ctx.w.vault, "Traded")
    .withArgs(t.address, market, delta, out.fill, out.newSize, out.realizedPnl, out.fee, out.fundingPaid);
  return { out, ts };
}

/** Lists "TINY-USD" on WETH's oracle at skewScale 1 (the minimum), default fees, velocity and ratios; returns its id. */
export async function listTinyMarket(w: World): Promise<string> {
  const id = ethers.encodeBytes32String("TINY-USD");
  await w.risk.connect(w.admin).setRatios(id, wad(0.05), wad(0.025));
  await w.vault.connect(w.admin).listMarket(id, {
    oracleAsset: await w.weth.getAddress(),
    makerFeeWad: wad(0.0002),
    takerFeeWad: wad(0.0006),
    maxFundingVelocityWad: 3n * WAD,
    maxOiPoolRatioWad: WAD,
    skewScaleWad: WAD,
  });
  return id;
}

/** Every field of `accountHealth` against the model's health. */
export function expectHealth(
  actual: {
    equityWad: bigint;
    initialMarginWad: bigint;
    maintenanceMarginWad: bigint;
    collateralValueWad: bigint;
    unrealizedPnlWad: bigint;
    accruedFundingWad: bigint;
  },
  e: Health,
): void {
  expect(actual.equityWad, "equity").to.equal(e.equity);
  expect(actual.initialMarginWad, "IM").to.equal(e.initialMargin);
  expect(actual.maintenanceMarginWad, "MM").to.equal(e.maintenanceMargin);
  expect(actual.collateralValueWad, "collateral").to.equal(e.collateralValue);
  expect(actual.unrealizedPnlWad, "uPnL").to.equal(e.unrealizedPnl);
  expect(actual.accruedFundingWad, "funding").to.equal(e.accruedFunding);
}

import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { ContractTransactionReceipt } from "ethers";
import { deployWorld, ETH_USD, setEthPrice, usdc, WAD, wad, type World } from "../shared/local-world";
import {
  deployPairWithLiquidity,
  FeeAmount,
  poolState,
  priceWadAt,
  sqrtPriceX96At,
  swapDeltas,
  swapExactIn,
  tickAt,
  type PairSpec,
  type PoolHandle,
} from "../shared/uniswap";
import type { UniswapFlashTaker } from "../../typechain-types";

/**
 * A collateral auction taken through `UniswapFlashTaker` with no capital of its own: the auction
 * house hands it WETH, it sells the WETH on a Uniswap v3 WETH/USDC pool priced at the oracle,
 * deposits the USDC into its own vault account, the auction house charges what the lot costs and
 * the difference stays with the taker as profit.
 *
 * Set-up: a trader deposits 10 WETH and $1,000, goes long 60 ETH at $3,000; ETH falls to $2,600;
 * the liquidator closes the position at $2,600. The realised loss (~$24,000) leaves a negative
 * quote balance (~−$23,100) against WETH worth $26,000 (weighted $22,100): equity < 0, no
 * position: the keeper's kick starts a collateral auction of the WETH for debt + penalty.
 *
 * Prices: a collateral lot sells at ⌈oracle × m⌉, m = max(floor, buf × cut^⌊elapsed / 12 s⌋),
 * cut = 0.998, buf = 1, floor 0.85. For at most 6 steps cut^n = 998^n × 10^(18 − 3n) exactly in
 * WAD (no rounding in the power), so the tests take within that window and predict every figure
 * (price, owed = ⌈amount × price⌉, amounts, balances) to the wei.
 */

const CRASH_PRICE = 2_600;
const ORACLE = BigInt(CRASH_PRICE) * WAD;
const STEP = 12;
const CUT_PER_MILLE = 998n;
const FLOOR = wad(0.85);
const POOL_FEE = FeeAmount.LOW; // 0.05%
const WETH_DEPOSIT = 10n * WAD;
const LONG = 60n * WAD;
const PENALTY = wad(0.01);
const DUST = 100n * WAD;

/** Curve factor after `elapsed` seconds, exactly, for at most 6 steps. */
function factorAt(elapsed: number): bigint {
  const n = BigInt(Math.floor(elapsed / STEP));
  if (n > 6n) throw new Error("factorAt: exact only for n ≤ 6 steps");
  const f = CUT_PER_MILLE ** n * 10n ** (18n - 3n * n);
  return f > FLOOR ? f : FLOOR;
}
const mulDown = (a: bigint, b: bigint): bigint => (a * b) / WAD;
const mulUp = (a: bigint, b: bigint): bigint => (a * b + WAD - 1n) / WAD;

interface Scene {
  w: World;
  taker: UniswapFlashTaker;
  takerAddr: string;
  handle: PoolHandle;
  id: bigint;
  kickTime: number;
  lot: bigint;
  tab: bigint;
  /** Quote balance (WAD) of the liquidated account right after the kick. */
  quoteAfterKick: bigint;
  /** Quote balance before the kick (the realised loss), negative. */
  debt: bigint;
}

async function scene(): Promise<Scene> {
  const w = await loadFixture(deployWorld);
  const [trader, , keeper, , owner] = w.traders;
  const usdcAddr = await w.usdc.getAddress();
  const wethAddr = await w.weth.getAddress();

  await w.vault.connect(trader).deposit(wethAddr, WETH_DEPOSIT);
  await w.vault.connect(trader).deposit(usdcAddr, usdc(1_000));
  await w.vault.connect(trader).trade(ETH_USD, LONG, ethers.MaxUint256);
  await setEthPrice(w, CRASH_PRICE);
  await w.vault.connect(w.liquidator).liquidatePosition(trader.address, ETH_USD, -LONG, ORACLE, ethers.ZeroAddress);
  const debt = await w.vault.quoteBalance(trader.address);

  // Uniswap v3 WETH/USDC at the oracle price, ±20%, 1,000 WETH + $2.6M of liquidity.
  await w.weth.mint(w.lp.address, 1_000n * WAD);
  const { uni, handle } = await deployPairWithLiquidity(
    w.admin,
    w.lp,
    { base: wethAddr, baseDecimals: 18, quote: usdcAddr, quoteDecimals: 6, fee: POOL_FEE },
    ORACLE,
    2_000,
    1_000n * WAD,
    usdc(2_600_000),
  );

  const factory = await ethers.getContractFactory("UniswapFlashTaker");
  const taker = await factory.deploy(
    owner.address,
    await w.auction.getAddress(),
    await w.vault.getAddress(),
    await uni.router.getAddress(),
  );
  const takerAddr = await taker.getAddress();

  const id = await w.auction.kick.staticCall(trader.address);
  const receipt = (await (await w.auction.connect(keeper).kick(trader.address)).wait()) as ContractTransactionReceipt;
  const kickTime = (await receipt.getBlock()).timestamp;
  const [, , a] = await w.auction.auctionStatus(id);
  return {
    w,
    taker,
    takerAddr,
    handle,
    id,
    kickTime,
    lot: BigInt(a.lot),
    tab: a.tabWad,
    quoteAfterKick: await w.vault.quoteBalance(trader.address),
    debt,
  };
}

describe("test/shared/uniswap.ts: pools at a given price, either token order, any decimals", () => {
  const LOW = "0x0000000000000000000000000000000000000001";
  const HIGH = "0xffffffffffffffffffffffffffffffffffffffff";

  it("sqrtPriceX96 and ticks round-trip the quote-per-base price for both token orders", () => {
    for (const [baseDecimals, quoteDecimals, price] of [
      [18, 6, 2_600n * WAD],
      [8, 6, 60_000n * WAD],
      [18, 18, WAD / 3n],
    ] as const) {
      const first: PairSpec = { base: LOW, baseDecimals, quote: HIGH, quoteDecimals, fee: POOL_FEE };
      const second: PairSpec = { ...first, base: HIGH, quote: LOW };
      for (const pair of [first, second]) {
        const back = priceWadAt(pair, sqrtPriceX96At(pair, price));
        expect(back, `${baseDecimals}/${quoteDecimals}`).to.be.closeTo(price, price / 10n ** 12n);
      }
      // The same price is token1/token0 one way and its inverse the other: opposite ticks.
      expect(tickAt(first, price) + tickAt(second, price)).to.be.within(-1, 0);
    }
    // WETH (18) priced in USDC (6) with WETH as token0: raw price 2,600e6 / 1e18 → tick ≈ −197,688.
    const wethUsdc: PairSpec = { base: LOW, baseDecimals: 18, quote: HIGH, quoteDecimals: 6, fee: POOL_FEE };
    expect(tickAt(wethUsdc, 2_600n * WAD)).to.be.within(-197_689, -197_687);
  });

  it("a WBTC/USDC pool (8 and 6 decimals) sits at the price and a sale moves it down", async () => {
    const w = await loadFixture(deployWorld);
    const wbtcAddr = await w.wbtc.getAddress();
    const usdcAddr = await w.usdc.getAddress();
    await w.wbtc.mint(w.lp.address, 100n * 10n ** 8n);
    const { uni, handle, position } = await deployPairWithLiquidity(
      w.admin,
      w.lp,
      { base: wbtcAddr, baseDecimals: 8, quote: usdcAddr, quoteDecimals: 6, fee: FeeAmount.MEDIUM },
      60_000n * WAD,
      1_000,
      50n * 10n ** 8n,
      usdc(3_000_000),
    );
    const before = await poolState(handle);
    expect(before.priceWad).to.be.closeTo(60_000n * WAD, (60_000n * WAD) / 1_000_000n);
    expect(before.liquidity).to.equal(position.liquidity);
    expect(position.baseUsed).to.be.greaterThan(0n);
    expect(position.quoteUsed).to.be.greaterThan(0n);
    const [, , , seller] = w.traders;
    const out = await swapExactIn(uni, handle, seller, wbtcAddr, 10n ** 8n);
    // One WBTC sells for a little under $60,000 (0.3% fee and impact).
    expect(out).to.be.within(usdc(59_000), usdc(60_000));
    expect((await poolState(handle)).priceWad).to.be.lessThan(before.priceWad);
  });
});

describe("UniswapFlashTaker: flash take of a collateral lot on a Uniswap v3 pool", () => {
  it("set-up: the kick starts a collateral auction of all the WETH for debt + 1% penalty", async () => {
    const s = await scene();
    const [trader] = s.w.traders;
    expect(s.debt).to.be.lessThan(0n);
    // Equity = quote + 10 WETH × $2,600 × 0.85 < 0: liquidatable with no position.
    expect(s.debt + mulDown(mulDown(WETH_DEPOSIT, ORACLE), wad(0.85))).to.be.lessThan(0n);
    expect(await s.w.vault.accountMarkets(trader.address)).to.deep.equal([]);
    const wethIndex = BigInt((await s.w.vault.collateralTokens()).indexOf(await s.w.weth.getAddress()));
    expect(wethIndex).to.be.greaterThan(0n);
    const expectedId = (BigInt(trader.address) << 16n) | (1n << 8n) | wethIndex; // (account, Collateral, index)
    expect(s.id).to.equal(expectedId);
    const penalty = mulUp(-s.debt, PENALTY);
    expect(s.tab).to.equal(-s.debt + penalty);
    // lot = min(balance, tab / (oracle × floor)): the whole balance here.
    expect(s.lot).to.equal(WETH_DEPOSIT);
    expect(s.quoteAfterKick).to.equal(s.debt - penalty);
    // The pool sits at the oracle price.
    const { priceWad } = await poolState(s.handle);
    expect(priceWad).to.be.closeTo(ORACLE, ORACLE / 1_000_000n);
    // No capital: no tokens, no vault balance.
    expect(await s.w.weth.balanceOf(s.takerAddr)).to.equal(0n);
    expect(await s.w.usdc.balanceOf(s.takerAddr)).to.equal(0n);
    expect(await s.w.vault.quoteBalance(s.takerAddr)).to.equal(0n);
  });

  it("a partial flash take pays exactly the owed amount to the account and keeps the profit", async () => {
    const s = await scene();
    const { w, taker, takerAddr, id } = s;
    const [trader, , , , owner] = w.traders;
    const elapsed = 6 * STEP; // 6 steps: factor 0.998^6 ≈ 0.98807
    const price = mulUp(ORACLE, factorAt(elapsed));
    const amount = 3n * WAD;
    const owed = mulUp(amount, price);
    expect(s.tab - owed).to.be.gte(DUST);

    await time.setNextBlockTimestamp(s.kickTime + elapsed);
    const tx = await taker.connect(owner).flashTake(id, amount, price, POOL_FEE, 0n);
    const receipt = (await tx.wait()) as ContractTransactionReceipt;
    const [swap] = swapDeltas(s.handle, receipt.logs);
    expect(swap.base).to.equal(amount); // the pool received exactly the lot
    const proceedsWad = -swap.quote * 10n ** 12n;
    const profit = proceedsWad - owed;
    expect(profit).to.be.greaterThan(0n);

    await expect(tx)
      .to.emit(w.auction, "Take")
      .withArgs(id, takerAddr, amount, price, owed, s.lot - amount);
    await expect(tx)
      .to.emit(taker, "FlashTaken")
      .withArgs(id, await w.weth.getAddress(), amount, proceedsWad, owed, profit);
    // The account's debt fell by exactly what was owed; its WETH by the lot taken.
    expect(await w.vault.quoteBalance(trader.address)).to.equal(s.quoteAfterKick + owed);
    expect(await w.vault.collateralBalance(trader.address, await w.weth.getAddress())).to.equal(WETH_DEPOSIT - amount);
    // The taker: the profit in its vault account, nothing left in tokens.
    expect(await w.vault.quoteBalance(takerAddr)).to.equal(profit);
    expect(await w.weth.balanceOf(takerAddr)).to.equal(0n);
    expect(await w.usdc.balanceOf(takerAddr)).to.equal(0n);
    // The auction runs on with the rest of the tab.
    const [, , a] = await w.auction.auctionStatus(id);
    expect(a.tabWad).to.equal(s.tab - owed);
    expect(BigInt(a.lot)).to.equal(s.lot - amount);
    expect(await w.vault.isInLiquidation(trader.address)).to.equal(true);
  });

  it("a second flash take covers the rest of the tab, ends the auction, and the owner withdraws the profit", async () => {
    const s = await scene();
    const { w, taker, takerAddr, id } = s;
    const [trader, , , , owner] = w.traders;
    const wethAddr = await w.weth.getAddress();
    const usdcAddr = await w.usdc.getAddress();

    const t1 = 6 * STEP;
    const price1 = mulUp(ORACLE, factorAt(t1));
    const amount1 = 3n * WAD;
    const owed1 = mulUp(amount1, price1);
    await time.setNextBlockTimestamp(s.kickTime + t1);
    const r1 = (await (
      await taker.connect(owner).flashTake(id, amount1, price1, POOL_FEE, 0n)
    ).wait()) as ContractTransactionReceipt;
    const profit1 = -swapDeltas(s.handle, r1.logs)[0].quote * 10n ** 12n - owed1;

    // Ask for everything: the auction house sells only what covers the tab.
    const t2 = t1 + 5;
    const price2 = mulUp(ORACLE, factorAt(t2));
    const owed2 = s.tab - owed1;
    const amount2 = (owed2 * WAD) / price2;
    expect(amount2).to.be.lessThan(s.lot - amount1);
    await time.setNextBlockTimestamp(s.kickTime + t2);
    const tx2 = await taker.connect(owner).flashTake(id, ethers.MaxUint256, price2, POOL_FEE, wad(1));
    const r2 = (await tx2.wait()) as ContractTransactionReceipt;
    const [swap2] = swapDeltas(s.handle, r2.logs);
    expect(swap2.base).to.equal(amount2);
    const profit2 = -swap2.quote * 10n ** 12n - owed2;
    expect(profit2).to.be.gte(wad(1));
    await expect(tx2).to.emit(w.auction, "Take").withArgs(id, takerAddr, amount2, price2, owed2, 0n);
    await expect(tx2).to.emit(w.auction, "AuctionEnded").withArgs(id, trader.address);

    // Debt + penalty fully repaid: the account is back at zero, keeps the unsold WETH, is released.
    expect(await w.vault.quoteBalance(trader.address)).to.equal(s.quoteAfterKick + owed1 + owed2);
    expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
    expect(await w.vault.collateralBalance(trader.address, wethAddr)).to.equal(WETH_DEPOSIT - amount1 - amount2);
    expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
    expect((await w.vault.isLiquidatable(trader.address))[0]).to.equal(false);
    const [, , a] = await w.auction.auctionStatus(id);
    expect(a.lot).to.equal(0n);

    const profit = profit1 + profit2;
    expect(await w.vault.quoteBalance(takerAddr)).to.equal(profit);
    expect(await w.weth.balanceOf(takerAddr)).to.equal(0n);
    expect(await w.usdc.balanceOf(takerAddr)).to.equal(0n);

    // The owner takes the profit out (whole USDC units; the sub-unit WAD remainder stays).
    const units = profit / 10n ** 12n;
    const before = await w.usdc.balanceOf(owner.address);
    await expect(taker.connect(owner).withdrawProfit(usdcAddr, units, owner.address))
      .to.emit(taker, "ProfitWithdrawn")
      .withArgs(usdcAddr, units, owner.address);
    expect((await w.usdc.balanceOf(owner.address)) - before).to.equal(units);
    expect(await w.vault.quoteBalance(takerAddr)).to.equal(profit - units * 10n ** 12n);
  });

  it("reverts InsufficientProceeds when the swap cannot cover owed + minProfit", async () => {
    const s = await scene();
    const { w, taker, id } = s;
    const [trader, , , , owner] = w.traders;
    const amount = 3n * WAD;

    // At the start the lot costs the oracle price: fees and price impact leave the swap short.
    const t0 = 5;
    const owed0 = mulUp(amount, mulUp(ORACLE, factorAt(t0)));
    await time.setNextBlockTimestamp(s.kickTime + t0);
    await expect(taker.connect(owner).flashTake(id, amount, ethers.MaxUint256, POOL_FEE, 0n))
      .to.be.revertedWithCustomError(taker, "InsufficientProceeds")
      .withArgs(id, (p: bigint) => p > 0n && p < owed0, owed0);

    // Later the discount pays, but not a minimum profit of $1,000.
    const t1 = 6 * STEP;
    const owed1 = mulUp(amount, mulUp(ORACLE, factorAt(t1)));
    const minProfit = 1_000n * WAD;
    await time.setNextBlockTimestamp(s.kickTime + t1);
    await expect(taker.connect(owner).flashTake(id, amount, ethers.MaxUint256, POOL_FEE, minProfit))
      .to.be.revertedWithCustomError(taker, "InsufficientProceeds")
      .withArgs(id, (p: bigint) => p > owed1 && p < owed1 + minProfit, owed1 + minProfit);

    // Nothing moved.
    expect(await w.vault.quoteBalance(trader.address)).to.equal(s.quoteAfterKick);
    expect(await w.vault.collateralBalance(trader.address, await w.weth.getAddress())).to.equal(WETH_DEPOSIT);
    expect(await w.vault.quoteBalance(s.takerAddr)).to.equal(0n);
  });

  it("reverts PriceLimitExceeded (auction house) when the price is above the limit", async () => {
    const s = await scene();
    const { w, taker, id } = s;
    const [, , , , owner] = w.traders;
    const elapsed = 6 * STEP;
    const price = mulUp(ORACLE, factorAt(elapsed));
    await time.setNextBlockTimestamp(s.kickTime + elapsed);
    await expect(taker.connect(owner).flashTake(id, WAD, price - 1n, POOL_FEE, 0n))
      .to.be.revertedWithCustomError(w.auction, "PriceLimitExceeded")
      .withArgs(id, price, price - 1n);
  });

  it("the callback rejects a direct call and a take it did not start", async () => {
    const s = await scene();
    const { w, taker, takerAddr, id } = s;
    const [, other, , bidder] = w.traders;
    await expect(taker.connect(other).onAuctionTake(takerAddr, id, WAD, WAD, "0x01"))
      .to.be.revertedWithCustomError(taker, "NotAuctionHouse")
      .withArgs(other.address);
    // A bidder that names the taker as its receiver: the auction house calls back, the taker refuses.
    await w.vault.connect(bidder).deposit(await w.usdc.getAddress(), usdc(50_000));
    await expect(w.auction.connect(bidder).take(id, WAD, ethers.MaxUint256, takerAddr, "0x01"))
      .to.be.revertedWithCustomError(taker, "UnexpectedCallback")
      .withArgs(bidder.address, id);
  });

  it("rejects position lots and unknown collateral indices (NotCollateralLot)", async () => {
    const s = await scene();
    const { w, taker } = s;
    const [trader, , , , owner] = w.traders;
    const positionId = await w.auction.auctionId(trader.address, 0, 0);
    await expect(taker.connect(owner).flashTake(positionId, WAD, ethers.MaxUint256, POOL_FEE, 0n))
      .to.be.revertedWithCustomError(taker, "NotCollateralLot")
      .withArgs(positionId);
    const quoteIndexId = await w.auction.auctionId(trader.address, 1, 0);
    await expect(taker.connect(owner).flashTake(quoteIndexId, WAD, ethers.MaxUint256, POOL_FEE, 0n))
      .to.be.revertedWithCustomError(taker, "NotCollateralLot")
      .withArgs(quoteIndexId);
    const unlistedId = await w.auction.auctionId(trader.address, 1, 9);
    await expect(taker.connect(owner).flashTake(unlistedId, WAD, ethers.MaxUint256, POOL_FEE, 0n))
      .to.be.revertedWithCustomError(taker, "NotCollateralLot")
      .withArgs(unlistedId);
  });

  it("owner-only entry points, and constructor / withdrawal address checks", async () => {
    const s = await scene();
    const { w, taker, id } = s;
    const [, other, , , owner] = w.traders;
    await expect(taker.connect(other).flashTake(id, WAD, ethers.MaxUint256, POOL_FEE, 0n))
      .to.be.revertedWithCustomError(taker, "OwnableUnauthorizedAccount")
      .withArgs(other.address);
    const usdcAddr = await w.usdc.getAddress();
    await expect(taker.connect(other).withdrawProfit(usdcAddr, 1n, other.address))
      .to.be.revertedWithCustomError(taker, "OwnableUnauthorizedAccount")
      .withArgs(other.address);
    await expect(taker.connect(owner).withdrawProfit(usdcAddr, 1n, ethers.ZeroAddress))
      .to.be.revertedWithCustomError(taker, "ZeroAddress")
      .withArgs();

    const factory = await ethers.getContractFactory("UniswapFlashTaker");
    const auction = await w.auction.getAddress();
    const vault = await w.vault.getAddress();
    const router = await taker.swapRouter();
    await expect(factory.deploy(ethers.ZeroAddress, auction, vault, router))
      .to.be.revertedWithCustomError(factory, "OwnableInvalidOwner")
      .withArgs(ethers.ZeroAddress);
    for (const args of [
      [ethers.ZeroAddress, vault, router],
      [auction, ethers.ZeroAddress, router],
      [auction, vault, ethers.ZeroAddress],
    ] as const) {
      await expect(factory.deploy(owner.address, ...args)).to.be.revertedWithCustomError(factory, "ZeroAddress");
    }
    expect(await taker.auctionHouse()).to.equal(auction);
    expect(await taker.vault()).to.equal(vault);
    expect(await taker.quoteToken()).to.equal(usdcAddr);
    expect(await taker.owner()).to.equal(owner.address);
  });
});

import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { ContractTransactionReceipt } from "ethers";
import { ETH_USD, WAD, e8, openLeveraged, setEthPrice, usdc, wad, type World } from "../shared/local-world";
import { deployAuctionWorld, rpow } from "../shared/auction-math";
import {
  deployPairWithLiquidity,
  FeeAmount,
  poolState,
  swapExactIn,
  type PoolHandle,
  type UniswapV3,
} from "../shared/uniswap";
import { expectSolvent, protocolValue } from "./helpers";
import type { UniswapFlashTaker } from "../../typechain-types";

/**
 * Attacks on prices: the venue (a Uniswap v3 pool) pushed by a large swap, and feeds that are
 * stale, zero, negative, disagreeing, or in unusual decimals. Bulwark prices only from its
 * Chainlink-style feeds, so a venue swap cannot reach it; a bad feed stops every operation that
 * reads a price, while deposits stay open.
 */

const ORACLE_2600 = 2_600n * WAD;
const GUARD = 2n; // ICircuitBreaker.Trigger.OracleGuard

interface VenueScene {
  w: World;
  uni: UniswapV3;
  handle: PoolHandle;
}

/** The auction world with a WETH/USDC pool at $3,000 (1,000 WETH and $3M over ±20%). */
async function venueScene(): Promise<VenueScene> {
  const w = await deployAuctionWorld();
  await w.weth.mint(w.lp.address, 1_000n * WAD);
  const { uni, handle } = await deployPairWithLiquidity(
    w.admin,
    w.lp,
    {
      base: await w.weth.getAddress(),
      baseDecimals: 18,
      quote: await w.usdc.getAddress(),
      quoteDecimals: 6,
      fee: FeeAmount.LOW,
    },
    3_000n * WAD,
    2_000,
    1_000n * WAD,
    usdc(3_000_000),
  );
  return { w, uni, handle };
}

interface FlashScene extends VenueScene {
  taker: UniswapFlashTaker;
  id: bigint;
  kickTime: number;
}

/**
 * A collateral auction (10 WETH for a ~$23k debt + 1% penalty, see FlashTake.spec.ts) next to
 * a WETH/USDC pool at the oracle price of $2,600, and a flash taker owned by the attacker.
 */
async function flashScene(): Promise<FlashScene> {
  const w = await deployAuctionWorld();
  const [trader, , keeper, , attacker] = w.traders;
  await w.vault.connect(trader).deposit(await w.weth.getAddress(), 10n * WAD);
  await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(1_000));
  await w.vault.connect(trader).trade(ETH_USD, 60n * WAD, ethers.MaxUint256);
  await setEthPrice(w, 2_600);
  await w.vault
    .connect(w.liquidator)
    .liquidatePosition(trader.address, ETH_USD, -60n * WAD, ORACLE_2600, ethers.ZeroAddress);
  await w.weth.mint(w.lp.address, 1_000n * WAD);
  const { uni, handle } = await deployPairWithLiquidity(
    w.admin,
    w.lp,
    {
      base: await w.weth.getAddress(),
      baseDecimals: 18,
      quote: await w.usdc.getAddress(),
      quoteDecimals: 6,
      fee: FeeAmount.LOW,
    },
    ORACLE_2600,
    2_000,
    1_000n * WAD,
    usdc(2_600_000),
  );
  const taker = await ethers.deployContract("UniswapFlashTaker", [
    attacker.address,
    await w.auction.getAddress(),
    await w.vault.getAddress(),
    await uni.router.getAddress(),
  ]);
  const id = await w.auction.kick.staticCall(trader.address);
  const receipt = (await (await w.auction.connect(keeper).kick(trader.address)).wait()) as ContractTransactionReceipt;
  const kickTime = (await receipt.getBlock()).timestamp;
  return { w, uni, handle, taker, id, kickTime };
}

describe("attacks: oracle and venue manipulation", () => {
  it("attack: venue manipulation: a large swap that moves the Uniswap pool over 10% moves neither the vault's price nor anyone's health", async () => {
    const { w, uni, handle } = await loadFixture(venueScene);
    const [victim, , , , , , attacker] = w.traders;
    await openLeveraged(w, victim, ETH_USD, 16_000, 100n * WAD); // 18.75×, 0.6% from maintenance
    const wethAddr = await w.weth.getAddress();
    const priceBefore = await w.oracle.getPrice(wethAddr);
    const fillBefore = await w.vault.fillPrice(ETH_USD, -WAD);
    const healthBefore = await w.vault.accountHealth(victim.address);
    const poolBefore = (await poolState(handle)).priceWad;

    await swapExactIn(uni, handle, attacker, wethAddr, 600n * WAD); // dump 600 WETH into the venue
    const poolAfter = (await poolState(handle)).priceWad;
    expect(poolAfter * 100n).to.be.lessThan(poolBefore * 90n); // the venue fell by more than 10%

    expect(await w.oracle.getPrice(wethAddr)).to.equal(priceBefore);
    expect(await w.vault.fillPrice(ETH_USD, -WAD)).to.equal(fillBefore);
    expect((await w.vault.accountHealth(victim.address)).equityWad).to.equal(healthBefore.equityWad);
    expect((await w.vault.isLiquidatable(victim.address))[0]).to.equal(false);
    await expect(w.auction.connect(attacker).kick(victim.address)).to.be.revertedWithCustomError(
      w.auction,
      "NotLiquidatable",
    );
    await w.breaker.poke(ETH_USD);
    expect(await w.breaker.level(ETH_USD)).to.equal(0);
    await expectSolvent(w.vault);
  });

  it("attack: flash take through a manipulated venue: the lot clears at the curve price whatever the pool says, and a dumped pool only makes the taker's own swap fail", async () => {
    const s = await loadFixture(flashScene);
    const { w, uni, handle, taker, id } = s;
    const [trader, , , , attacker, accomplice] = w.traders;
    const wethAddr = await w.weth.getAddress();
    const usdcAddr = await w.usdc.getAddress();
    const [, , before] = await w.auction.auctionStatus(id);

    // Dump the venue first: the taker's sale cannot cover what the lot costs at the curve.
    await w.weth.mint(accomplice.address, 400n * WAD);
    await swapExactIn(uni, handle, accomplice, wethAddr, 400n * WAD);
    await expect(
      taker.connect(attacker).flashTake(id, BigInt(before.lot), ethers.MaxUint256, FeeAmount.LOW, 0n),
    ).to.be.revertedWithCustomError(taker, "InsufficientProceeds");
    const [, , unchanged] = await w.auction.auctionStatus(id);
    expect(unchanged.lot).to.equal(before.lot);
    expect(unchanged.tabWad).to.equal(before.tabWad);

    // Pump the venue far above the oracle: the taker sells dear, but pays the curve price.
    await w.usdc.mint(accomplice.address, usdc(3_000_000));
    await swapExactIn(uni, handle, accomplice, usdcAddr, usdc(2_000_000));
    expect((await poolState(handle)).priceWad).to.be.greaterThan(ORACLE_2600);
    const debtBefore = await w.vault.quoteBalance(trader.address);
    const takeAt = s.kickTime + 30; // two curve steps
    await time.setNextBlockTimestamp(takeAt);
    const receipt = (await (
      await taker.connect(attacker).flashTake(id, BigInt(before.lot), ethers.MaxUint256, FeeAmount.LOW, 0n)
    ).wait()) as ContractTransactionReceipt;
    const [take] = await w.auction.queryFilter(w.auction.filters.Take(id), receipt.blockNumber, receipt.blockNumber);
    const factor = rpow(wad(0.998), BigInt(Math.floor((takeAt - s.kickTime) / 12)));
    const curvePrice = (ORACLE_2600 * factor + WAD - 1n) / WAD; // ⌈oracle × m⌉
    expect(take.args.priceWad).to.equal(curvePrice);
    // The account's debt falls by exactly what the lot cost at the curve price, not more.
    expect((await w.vault.quoteBalance(trader.address)) - debtBefore).to.equal(take.args.owedWad);
    expect(take.args.owedWad).to.equal(before.tabWad); // the whole tab is covered at this price
    await expectSolvent(w.vault, [await taker.getAddress()]);
  });

  it("attack: stale price: every price-reading operation reverts StalePrice, deposits stay open, and a poke trips the oracle guard", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const [trader, keeper] = w.traders;
    await openLeveraged(w, trader, ETH_USD, 16_000, 100n * WAD);
    const t = BigInt(await time.latest());
    await w.ethFeed.setRoundData(e8(2_000), t - 4_000n); // a crash, reported late (heartbeat 3,600 s)
    const usdcAddr = await w.usdc.getAddress();
    await expect(w.vault.connect(trader).trade(ETH_USD, WAD, ethers.MaxUint256)).to.be.revertedWithCustomError(
      w.oracle,
      "StalePrice",
    );
    await expect(w.vault.connect(trader).trade(ETH_USD, -WAD, 0n)).to.be.revertedWithCustomError(
      w.oracle,
      "StalePrice",
    );
    await expect(w.vault.connect(trader).withdraw(usdcAddr, usdc(1))).to.be.revertedWithCustomError(
      w.oracle,
      "StalePrice",
    );
    await expect(w.auction.connect(keeper).kick(trader.address)).to.be.revertedWithCustomError(w.oracle, "StalePrice");
    await w.vault.connect(trader).deposit(usdcAddr, usdc(1_000)); // never reads a price
    await expect(w.breaker.poke(ETH_USD))
      .to.emit(w.breaker, "LevelChanged")
      .withArgs(ETH_USD, 0, 2, GUARD, anyValue, 3_900n);
    await expectSolvent(w.vault);
  });

  for (const [name, answer] of [
    ["zero", 0n],
    ["negative", -1n],
  ] as const) {
    it(`attack: ${name} price: trades, withdrawals with positions and kicks revert NonPositivePrice; the guard trips level 2`, async () => {
      const w = await loadFixture(deployAuctionWorld);
      const [trader, keeper] = w.traders;
      await openLeveraged(w, trader, ETH_USD, 16_000, 100n * WAD);
      const worth = await w.usdc.balanceOf(trader.address);
      await w.ethFeed.setAnswer(answer);
      await expect(w.vault.connect(trader).trade(ETH_USD, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.oracle, "NonPositivePrice")
        .withArgs(await w.weth.getAddress(), await w.ethFeed.getAddress(), answer);
      await expect(w.vault.connect(trader).withdraw(await w.usdc.getAddress(), usdc(1))).to.be.revertedWithCustomError(
        w.oracle,
        "NonPositivePrice",
      );
      await expect(w.auction.connect(keeper).kick(trader.address)).to.be.revertedWithCustomError(
        w.oracle,
        "NonPositivePrice",
      );
      await expect(w.breaker.poke(ETH_USD)).to.emit(w.breaker, "LevelChanged").withArgs(ETH_USD, 0, 2, GUARD, 0, 0);
      expect(await w.usdc.balanceOf(trader.address)).to.equal(worth);
      await expectSolvent(w.vault);
    });
  }

  it("attack: wrong decimals: feeds with 6, 8 and 18 decimals give the same WAD price and the same fill, to the wei", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const wethAddr = await w.weth.getAddress();
    const trader = w.traders[0];
    await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(50_000));
    const seen: bigint[] = [];
    for (const decimals of [6n, 8n, 18n]) {
      const feed = await ethers.deployContract("MockAggregator", [decimals, "ETH / USD", 3_000n * 10n ** decimals]);
      await w.oracle.connect(w.admin).setFeed(wethAddr, feed, 3_600, ethers.ZeroAddress, 0, 0);
      expect(await w.oracle.getPrice(wethAddr)).to.equal(3_000n * WAD);
      seen.push(await w.vault.fillPrice(ETH_USD, 10n * WAD));
    }
    expect(new Set(seen).size).to.equal(1);
    await w.vault.connect(trader).trade(ETH_USD, 10n * WAD, seen[0]); // fills at exactly that bound
    await expectSolvent(w.vault);
  });

  it("attack: wrong decimals: a feed with more than 18 decimals cannot be set (it would overflow or mis-scale)", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const wethAddr = await w.weth.getAddress();
    const feed = await ethers.deployContract("MockAggregator", [20n, "ETH / USD", 3_000n * 10n ** 20n]);
    await expect(w.oracle.connect(w.admin).setFeed(wethAddr, feed, 3_600, ethers.ZeroAddress, 0, 0))
      .to.be.revertedWithCustomError(w.oracle, "UnsupportedDecimals")
      .withArgs(await feed.getAddress(), 20);
    expect(await w.oracle.getPrice(wethAddr)).to.equal(3_000n * WAD); // the old feed stays
    await expect(
      w.oracle.connect(w.traders[0]).setFeed(wethAddr, feed, 3_600, ethers.ZeroAddress, 0, 0),
    ).to.be.revertedWithCustomError(w.oracle, "AccessControlUnauthorizedAccount");
  });

  it("attack: one manipulated source: a secondary feed that disagrees by more than maxDeviation stops pricing and trips the guard", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const wethAddr = await w.weth.getAddress();
    const trader = w.traders[0];
    await openLeveraged(w, trader, ETH_USD, 16_000, 100n * WAD);
    const secondary = await ethers.deployContract("MockAggregator", [8n, "ETH / USD 2", e8(3_000)]);
    await w.oracle.connect(w.admin).setFeed(wethAddr, w.ethFeed, 3_600, secondary, 3_600, 100); // 1%
    await w.breaker.poke(ETH_USD);
    await w.ethFeed.setAnswer(e8(2_700)); // the primary alone is pushed 10% down
    await expect(w.oracle.getPrice(wethAddr)).to.be.revertedWithCustomError(w.oracle, "PriceDeviation");
    expect((await w.oracle.tryGetPrice(wethAddr))[1]).to.equal(4n); // OracleStatus.Deviation
    await expect(w.auction.kick(trader.address)).to.be.revertedWithCustomError(w.oracle, "PriceDeviation");
    await w.breaker.poke(ETH_USD);
    expect(await w.breaker.level(ETH_USD)).to.equal(2);
    await expectSolvent(w.vault);
  });

  it("attack: sequencer down: an L2 sequencer outage and its grace period stop pricing", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const wethAddr = await w.weth.getAddress();
    const sequencer = await ethers.deployContract("MockAggregator", [0n, "sequencer", 1n]); // 1 = down
    await w.oracle.connect(w.admin).setSequencerFeed(sequencer, 3_600);
    await expect(w.oracle.getPrice(wethAddr)).to.be.revertedWithCustomError(w.oracle, "SequencerDown");
    await sequencer.setAnswer(0n); // back up, grace period running
    await expect(w.oracle.getPrice(wethAddr)).to.be.revertedWithCustomError(w.oracle, "SequencerGracePeriod");
    await time.increase(3_601);
    await w.ethFeed.setAnswer(e8(3_000));
    expect(await w.oracle.getPrice(wethAddr)).to.equal(3_000n * WAD);
  });

  it("attack: oracle-driven self-liquidation: a venue swap cannot make your own account liquidatable, so there is no discount to harvest", async () => {
    const { w, uni, handle } = await loadFixture(venueScene);
    const [attacker, kicker, bidder] = w.traders;
    await openLeveraged(w, attacker, ETH_USD, 16_000, 100n * WAD);
    const equityBefore = (await w.vault.accountHealth(attacker.address)).equityWad;
    const protocolBefore = await protocolValue(w);
    await swapExactIn(uni, handle, kicker, await w.usdc.getAddress(), usdc(900_000)); // pump
    await swapExactIn(uni, handle, bidder, await w.weth.getAddress(), 300n * WAD); // and dump
    await expect(w.auction.connect(kicker).kick(attacker.address)).to.be.revertedWithCustomError(
      w.auction,
      "NotLiquidatable",
    );
    expect((await w.vault.accountHealth(attacker.address)).equityWad).to.equal(equityBefore);
    expect(await protocolValue(w)).to.equal(protocolBefore);
    await expectSolvent(w.vault);
  });
});

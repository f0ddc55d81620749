import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { budget } from "../shared/budget";
import { ETH_USD, WAD, deployWorld, e8, openLeveraged, usdc, type World } from "../shared/local-world";
import { deployAuctionWorld } from "../shared/auction-math";
import { expectSolvent } from "./helpers";

/**
 * Rounding and accounting exploits: many tiny trades, sub-unit withdrawals, funding pushed by a
 * skewed position, and self-transfers. Every rounding must favour the protocol.
 */

const ROUND_TRIPS = budget(1_000);

/** The auction world with zero fees on ETH-USD: a round trip at a fixed price is worth exactly 0. */
async function feelessWorld(): Promise<World> {
  const w = await deployAuctionWorld();
  const p = await w.vault.marketParams(ETH_USD);
  await w.vault.connect(w.admin).setMarketParams(ETH_USD, {
    oracleAsset: p.oracleAsset,
    makerFeeWad: 0n,
    takerFeeWad: 0n,
    maxFundingVelocityWad: 0n,
    maxOiPoolRatioWad: p.maxOiPoolRatioWad,
    skewScaleWad: p.skewScaleWad,
  });
  return w;
}

describe("attacks: rounding and accounting", () => {
  it(`attack: rounding through many tiny trades: ${ROUND_TRIPS} open/close round trips of odd sizes gain not one wei`, async () => {
    const w = await loadFixture(feelessWorld);
    const [attacker, other] = w.traders;
    // Another trader's position gives the market a skew and entry prices with remainders.
    await openLeveraged(w, other, ETH_USD, 100_000, 123n * WAD + 456_789n);
    await openLeveraged(w, attacker, ETH_USD, 10_000, 7n * WAD + 3n); // an existing position to average into
    const sizes = [1n, 3n, 999_999_999n, 10n ** 15n + 7n, 123_456_789_012_345_679n];
    const start = (await w.vault.accountHealth(attacker.address)).equityWad;
    const quoteStart = await w.vault.quoteBalance(attacker.address);
    const poolStart = await w.vault.poolBalance();
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const s = sizes[i % sizes.length];
      const sign = i % 2 === 0 ? 1n : -1n;
      await w.vault.connect(attacker).trade(ETH_USD, sign * s, sign > 0n ? ethers.MaxUint256 : 0n);
      await w.vault.connect(attacker).trade(ETH_USD, -sign * s, sign > 0n ? 0n : ethers.MaxUint256);
    }
    const end = (await w.vault.accountHealth(attacker.address)).equityWad;
    expect(end, "equity after the round trips").to.be.at.most(start);
    // Whatever the attacker's quote balance lost, the pool's ledger gained, to the wei.
    const quoteEnd = await w.vault.quoteBalance(attacker.address);
    expect((await w.vault.poolBalance()) - poolStart).to.equal(quoteStart - quoteEnd);
    await expectSolvent(w.vault);
  });

  it("attack: sub-unit withdrawal: a quote balance with a WAD remainder cannot withdraw the next whole unit", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const trader = w.traders[0];
    const usdcAddr = await w.usdc.getAddress();
    await w.vault.connect(trader).deposit(usdcAddr, usdc(1_000));
    await w.vault.connect(trader).trade(ETH_USD, WAD / 3n, ethers.MaxUint256);
    await w.vault.connect(trader).trade(ETH_USD, -(WAD / 3n), 0n); // fees leave a sub-unit remainder
    const balance = await w.vault.quoteBalance(trader.address);
    const scale = 10n ** 12n;
    expect(balance % scale).to.not.equal(0n);
    await expect(w.vault.connect(trader).withdraw(usdcAddr, balance / scale + 1n)).to.be.revertedWithCustomError(
      w.vault,
      "InsufficientBalance",
    );
    await w.vault.connect(trader).withdraw(usdcAddr, balance / scale);
    expect(await w.vault.quoteBalance(trader.address)).to.equal(balance % scale);
    await expectSolvent(w.vault);
  });

  it("attack: funding manipulation: skewing a market to push funding costs the skewer, the rate stays within ±100%/day, and the ledger balances", async () => {
    const w = await loadFixture(deployWorld); // funding velocity 3/day
    const [attacker, other] = w.traders;
    await openLeveraged(w, other, ETH_USD, 100_000, -50n * WAD);
    await openLeveraged(w, attacker, ETH_USD, 300_000, 1_000n * WAD); // a heavy long skew
    const quoteBefore = await w.vault.quoteBalance(attacker.address);
    await time.increase(30 * 86_400);
    await w.ethFeed.setAnswer(e8(3_000));
    const [rate] = await w.vault.currentFunding(ETH_USD);
    expect(rate).to.be.at.most(WAD); // clamped at 100% per day
    expect(rate).to.be.greaterThan(0n); // longs pay
    const receipt = (await (await w.vault.connect(attacker).trade(ETH_USD, -1_000n * WAD, 0n)).wait())!;
    const [traded] = await w.vault.queryFilter(w.vault.filters.Traded(attacker.address), receipt.blockNumber);
    expect(traded.args.fundingPaidWad).to.be.greaterThan(0n); // the skewer paid funding
    expect(await w.vault.quoteBalance(attacker.address)).to.be.lessThan(quoteBefore);
    await expectSolvent(w.vault);
  });

  it("attack: self-transfer: moving quote from an account to itself, or LP shares to oneself, creates nothing", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const trader = w.traders[0];
    await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(1_000));
    await expect(w.vault.connect(w.liquidator).transferQuote(trader.address, trader.address, WAD))
      .to.be.revertedWithCustomError(w.vault, "SelfTransfer")
      .withArgs(trader.address);
    await w.vault.connect(trader).depositFor(trader.address, await w.usdc.getAddress(), usdc(1));
    expect(await w.vault.quoteBalance(trader.address)).to.equal(1_001n * WAD);
    const shares = await w.pool.balanceOf(w.lp.address);
    const assets = await w.pool.totalAssets();
    await w.pool.connect(w.lp).transfer(w.lp.address, shares);
    expect(await w.pool.balanceOf(w.lp.address)).to.equal(shares);
    expect(await w.pool.totalAssets()).to.equal(assets);
    await expectSolvent(w.vault);
  });
});

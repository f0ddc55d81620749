import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { BTC_USD, ETH_USD, WAD, e8, usdc, wad, type World, deployCoreOn } from "../shared/local-world";
import { deployAuctionWorld, kick } from "../shared/auction-math";
import { expectSolvent } from "./helpers";

/**
 * Weird tokens: re-entrant transfer hooks, fee-on-transfer and no-return-value tokens, as
 * collateral and as the quote token, and tokens sent to the vault outside the ledger.
 */

/** Lists `token` as volatile collateral priced at `priceUsd` by a fresh 8-decimal feed. */
async function listCollateral(w: World, token: string, priceUsd: number, weight = wad(0.85)): Promise<void> {
  const feed = await ethers.deployContract("MockAggregator", [8n, "X / USD", e8(priceUsd)]);
  await w.oracle.connect(w.admin).setFeed(token, feed, 3_600, ethers.ZeroAddress, 0, 0);
  await w.vault.connect(w.admin).listCollateral(token, weight, 1_000_000n * WAD);
}

/** The core stack on a quote token of the given mock contract (ETH-USD listed, $1M of LP). */
async function coreWith(quoteName: "MockFeeOnTransferToken" | "MockNoReturnToken" | "MockReentrantToken") {
  const [admin, lp, trader] = await ethers.getSigners();
  const quote =
    quoteName === "MockNoReturnToken"
      ? await ethers.deployContract("MockNoReturnToken", ["Tether-like", "NRT", 6n])
      : quoteName === "MockReentrantToken"
        ? await ethers.deployContract("MockReentrantToken")
        : await ethers.deployContract("MockFeeOnTransferToken");
  const decimals = quoteName === "MockNoReturnToken" ? 6n : 18n;
  const { feed, vault, pool } = await deployCoreOn(quote);
  const unit = 10n ** decimals;
  for (const who of [lp, trader]) {
    await quote.mint(who.address, 2_000_000n * unit);
    await quote.connect(who).approve(await vault.getAddress(), ethers.MaxUint256);
    await quote.connect(who).approve(await pool.getAddress(), ethers.MaxUint256);
  }
  return { admin, lp, trader, quote, feed, vault, pool, unit, scale: 10n ** (18n - decimals) };
}

const coreNoReturn = () => coreWith("MockNoReturnToken");
const coreFeeOnTransfer = () => coreWith("MockFeeOnTransferToken");
const coreReentrant = () => coreWith("MockReentrantToken");

describe("attacks: weird tokens", () => {
  it("attack: re-entrant token: a transfer hook that re-enters withdraw during a deposit reverts, and nothing moves", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const attacker = w.traders[0];
    const re = await ethers.deployContract("MockReentrantToken");
    const reAddr = await re.getAddress();
    await listCollateral(w, reAddr, 1_000);
    await w.vault.connect(attacker).deposit(await w.usdc.getAddress(), usdc(1_000));
    await re.mint(attacker.address, 10n * WAD);
    await re.connect(attacker).approve(await w.vault.getAddress(), ethers.MaxUint256);
    const payloads = [
      w.vault.interface.encodeFunctionData("withdraw", [await w.usdc.getAddress(), usdc(1_000)]),
      w.vault.interface.encodeFunctionData("trade", [ETH_USD, WAD, ethers.MaxUint256]),
      w.vault.interface.encodeFunctionData("deposit", [reAddr, WAD]),
    ];
    for (const payload of payloads) {
      await re.arm(await w.vault.getAddress(), payload);
      await expect(w.vault.connect(attacker).deposit(reAddr, 5n * WAD)).to.be.revertedWithCustomError(
        w.vault,
        "ReentrancyGuardReentrantCall",
      );
    }
    expect(await re.balanceOf(attacker.address)).to.equal(10n * WAD);
    expect(await w.vault.quoteBalance(attacker.address)).to.equal(1_000n * WAD);
    await re.arm(ethers.ZeroAddress, "0x");
    await w.vault.connect(attacker).deposit(reAddr, 5n * WAD); // unarmed: works
    await expectSolvent(w.vault);
  });

  it("attack: re-entrant quote token into the LP pool: a hook fired by a pool deposit or withdrawal cannot re-enter deposit, mint, withdraw or redeem", async () => {
    const c = await loadFixture(coreReentrant);
    const re = await ethers.getContractAt("MockReentrantToken", await c.quote.getAddress());
    const poolAddr = await c.pool.getAddress();
    await c.pool.connect(c.lp).deposit(100_000n * c.unit, c.lp.address); // unarmed
    const lp = c.lp.address;
    const payloads = [
      c.pool.interface.encodeFunctionData("deposit", [c.unit, lp]),
      c.pool.interface.encodeFunctionData("mint", [10n ** 6n, lp]),
      c.pool.interface.encodeFunctionData("withdraw", [c.unit, lp, lp]),
      c.pool.interface.encodeFunctionData("redeem", [10n ** 6n, lp, lp]),
    ];
    const state = async () => [
      await c.pool.totalSupply(),
      await c.pool.balanceOf(lp),
      await c.pool.totalAssets(),
      await c.vault.poolBalance(),
      await re.balanceOf(lp),
      await re.balanceOf(await c.vault.getAddress()),
    ];
    const before = await state();
    const shares = await c.pool.balanceOf(lp);
    for (const payload of payloads) {
      // The hook fires on the quote transfer into the vault (deposit, mint) or out of it (withdraw, redeem).
      for (const outer of [
        () => c.pool.connect(c.lp).deposit(1_000n * c.unit, lp),
        () => c.pool.connect(c.lp).mint(10n ** 9n, lp),
        () => c.pool.connect(c.lp).withdraw(1_000n * c.unit, lp, lp),
        () => c.pool.connect(c.lp).redeem(shares / 10n, lp, lp),
      ]) {
        await re.arm(poolAddr, payload);
        await expect(outer()).to.be.revertedWithCustomError(c.pool, "ReentrancyGuardReentrantCall");
      }
    }
    expect(await state()).to.deep.equal(before);
    await re.arm(ethers.ZeroAddress, "0x");
    await c.pool.connect(c.lp).redeem(shares / 10n, lp, lp); // unarmed: works
    expect(await c.pool.balanceOf(lp)).to.equal(shares - shares / 10n);
    await expectSolvent(c.vault);
  });

  it("attack: re-entrant collateral in an auction: a hook fired by the seized transfer cannot re-enter the auction house or the vault", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const [debtor, keeper, bidder] = w.traders;
    const re = await ethers.deployContract("MockReentrantToken");
    const reAddr = await re.getAddress();
    await listCollateral(w, reAddr, 1_000);
    await re.mint(debtor.address, 10n * WAD);
    await re.connect(debtor).approve(await w.vault.getAddress(), ethers.MaxUint256);
    await w.vault.connect(debtor).deposit(reAddr, 10n * WAD); // $10,000, weighted $8,500
    await w.vault.connect(debtor).trade(BTC_USD, 2n * WAD, ethers.MaxUint256);
    const pos = await w.vault.getPosition(debtor.address, BTC_USD);
    const quote = await w.vault.quoteBalance(debtor.address);
    const close = pos.entryPriceWad + ((-9_000n * WAD - quote) * WAD) / pos.sizeWad; // leaves −$9,000
    await w.vault
      .connect(w.liquidator)
      .liquidatePosition(debtor.address, BTC_USD, -pos.sizeWad, close, ethers.ZeroAddress);
    const k = await kick(w, keeper, debtor.address);
    await w.vault.connect(bidder).deposit(await w.usdc.getAddress(), usdc(50_000));
    const [, , before] = await w.auction.auctionStatus(k.id);
    for (const [target, payload, from] of [
      [await w.auction.getAddress(), w.auction.interface.encodeFunctionData("redo", [k.id]), w.auction],
      [
        await w.vault.getAddress(),
        w.vault.interface.encodeFunctionData("withdraw", [await w.usdc.getAddress(), 1n]),
        w.vault,
      ],
    ] as const) {
      await re.arm(target, payload);
      await expect(
        w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x"),
      ).to.be.revertedWithCustomError(from, "ReentrancyGuardReentrantCall");
    }
    const [, , after] = await w.auction.auctionStatus(k.id);
    expect(after.lot).to.equal(before.lot);
    expect(after.tabWad).to.equal(before.tabWad);
    await re.arm(ethers.ZeroAddress, "0x");
    await w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x");
    await expectSolvent(w.vault);
  });

  it("attack: fee-on-transfer collateral: a deposit that delivers less than it claims is rejected", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const attacker = w.traders[0];
    const fot = await ethers.deployContract("MockFeeOnTransferToken");
    const fotAddr = await fot.getAddress();
    await listCollateral(w, fotAddr, 1_000);
    await fot.mint(attacker.address, 100n * WAD);
    await fot.connect(attacker).approve(await w.vault.getAddress(), ethers.MaxUint256);
    await expect(w.vault.connect(attacker).deposit(fotAddr, 100n * WAD))
      .to.be.revertedWithCustomError(w.vault, "FeeOnTransferToken")
      .withArgs(fotAddr, 100n * WAD, 99n * WAD);
    expect(await w.vault.collateralBalance(attacker.address, fotAddr)).to.equal(0n);
    await expectSolvent(w.vault);
  });

  it("attack: fee-on-transfer quote token: LP deposits and trader deposits are rejected, so the ledger never over-credits", async () => {
    const c = await loadFixture(coreFeeOnTransfer);
    const quoteAddr = await c.quote.getAddress();
    await expect(c.pool.connect(c.lp).deposit(1_000n * c.unit, c.lp.address))
      .to.be.revertedWithCustomError(c.pool, "FeeOnTransferToken")
      .withArgs(quoteAddr, 1_000n * c.unit, 990n * c.unit);
    await expect(c.vault.connect(c.trader).deposit(quoteAddr, 1_000n * c.unit)).to.be.revertedWithCustomError(
      c.vault,
      "FeeOnTransferToken",
    );
    await expect(c.vault.connect(c.trader).fundInsurance(1_000n * c.unit)).to.be.revertedWithCustomError(
      c.vault,
      "FeeOnTransferToken",
    );
    expect(await c.quote.balanceOf(await c.vault.getAddress())).to.equal(0n);
    expect(await c.vault.poolBalance()).to.equal(0n);
  });

  it("attack: no-return-value quote token (USDT-style): LP and trader flows work and the ledger stays exact", async () => {
    const c = await loadFixture(coreNoReturn);
    const quoteAddr = await c.quote.getAddress();
    const vaultAddr = await c.vault.getAddress();
    const exact = async () => {
      const owed =
        (await c.vault.quoteBalance(c.trader.address)) +
        (await c.vault.poolBalance()) +
        BigInt(await c.vault.insuranceBalance());
      expect((await c.quote.balanceOf(vaultAddr)) * c.scale).to.equal(owed);
    };
    await c.pool.connect(c.lp).deposit(1_000_000n * c.unit, c.lp.address);
    await c.vault.connect(c.trader).deposit(quoteAddr, 20_000n * c.unit);
    await exact();
    await c.vault.connect(c.trader).trade(ETH_USD, 10n * WAD, ethers.MaxUint256);
    await c.feed.setAnswer(e8(3_100));
    await c.vault.connect(c.trader).trade(ETH_USD, -10n * WAD, 0n);
    await exact();
    const balance = await c.vault.quoteBalance(c.trader.address);
    await c.vault.connect(c.trader).withdraw(quoteAddr, balance / c.scale);
    await exact();
    const shares = await c.pool.maxRedeem(c.lp.address);
    expect(shares).to.be.greaterThan(0n);
    const before = await c.quote.balanceOf(c.lp.address);
    await c.pool.connect(c.lp).redeem(shares / 2n, c.lp.address, c.lp.address);
    expect(await c.quote.balanceOf(c.lp.address)).to.be.greaterThan(before);
    await exact();
  });

  it("attack: no-return-value collateral token: deposits, withdrawals and a seizure move exactly what the ledger says", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const [trader] = w.traders;
    const nr = await ethers.deployContract("MockNoReturnToken", ["No Return BTC", "NRB", 8n]);
    const nrAddr = await nr.getAddress();
    await listCollateral(w, nrAddr, 60_000);
    await nr.mint(trader.address, 10n ** 8n);
    await nr.connect(trader).approve(await w.vault.getAddress(), ethers.MaxUint256);
    await w.vault.connect(trader).deposit(nrAddr, 12_345_678n);
    expect(await w.vault.collateralBalance(trader.address, nrAddr)).to.equal(12_345_678n * 10n ** 10n);
    await w.vault.connect(trader).withdraw(nrAddr, 2_345_678n);
    expect(await nr.balanceOf(trader.address)).to.equal(10n ** 8n - 10_000_000n);
    await w.vault.connect(w.liquidator).seizeCollateral(trader.address, nrAddr, 10n ** 16n + 5n, w.liquidator.address);
    expect(await nr.balanceOf(w.liquidator.address)).to.equal(1_000_000n); // rounded down to whole units
    await expectSolvent(w.vault);
  });

  it("attack: donation: tokens sent straight to the vault or the pool credit no one and do not move the share price", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const attacker = w.traders[0];
    const assetsPerShare = await w.pool.convertToAssets(10n ** 12n);
    await w.usdc.connect(attacker).transfer(await w.vault.getAddress(), usdc(100_000));
    await w.weth.connect(attacker).transfer(await w.vault.getAddress(), 3n * WAD);
    await w.usdc.connect(attacker).transfer(await w.pool.getAddress(), usdc(100_000));
    expect(await w.pool.convertToAssets(10n ** 12n)).to.equal(assetsPerShare);
    expect(await w.vault.quoteBalance(attacker.address)).to.equal(0n);
    await expectSolvent(w.vault, [], {
      [(await w.usdc.getAddress()).toLowerCase()]: 100_000n * WAD,
      [(await w.weth.getAddress()).toLowerCase()]: 3n * WAD,
    });
  });
});

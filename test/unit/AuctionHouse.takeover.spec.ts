import { expect } from "chai";
import { ethers } from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ETH_USD, openLeveraged, WAD, type World } from "../shared/local-world";
import {
  blockTime,
  cuspSecond,
  DEFAULT_PARAMS,
  defaultCurve,
  deployAuctionWorld,
  depositUsd,
  kick,
  lotPrice,
  minOf,
  mulWadUp,
  absOf,
  mulWadFloorSigned,
  penaltyAndReward,
  priceForEquity,
  setAuctionParams,
  setEthPriceWad,
  type KickResult,
} from "../shared/auction-math";

/** IAuctionHouse.LotKind.Pool and ETH-USD's market index in the auction world. */
const POOL_LOT = 2;
const ETH_INDEX = 0n;
const CRASH_PRICE = 2_880n * WAD;

interface Scene {
  w: World;
  trader: HardhatEthersSigner;
  bidder: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

async function takeoverActors(): Promise<Scene> {
  const w = await deployAuctionWorld();
  const [trader, bidder, keeper] = w.traders;
  await depositUsd(w, bidder, 300_000n);
  await setAuctionParams(w, { poolTakeover: true });
  return { w, trader, bidder, keeper };
}

/** The smoke crash in takeover mode: 60 ETH long, $10k, at $2880. Not yet kicked. */
async function crashedLong(): Promise<Scene> {
  const s = await takeoverActors();
  await openLeveraged(s.w, s.trader, ETH_USD, 10_000, 60n * WAD);
  await setEthPriceWad(s.w, CRASH_PRICE);
  return s;
}

async function kickedLong(): Promise<Scene & { k: KickResult }> {
  const s = await crashedLong();
  return { ...s, k: await kick(s.w, s.keeper, s.trader.address) };
}

/** The same crash upside down: a 60 ETH short squeezed to $3120, kicked. */
async function kickedShort(): Promise<Scene & { k: KickResult }> {
  const s = await takeoverActors();
  await openLeveraged(s.w, s.trader, ETH_USD, 10_000, -60n * WAD);
  await setEthPriceWad(s.w, 3_120n * WAD);
  return { ...s, k: await kick(s.w, s.keeper, s.trader.address) };
}

describe("AuctionHouse pool takeover", () => {
  it("kick: the pool takes the slice at the oracle, the account pays only the penalty and is released", async () => {
    const s = await loadFixture(crashedLong);
    const { w, trader, keeper } = s;
    // The slice is the one a plain auction kick would sell (same sizing rule, same penalty).
    const snapshot = await takeSnapshot();
    await setAuctionParams(w, { poolTakeover: false });
    const plain = await kick(w, keeper, trader.address);
    await snapshot.restore();

    const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
    const quote0 = await w.vault.quoteBalance(trader.address);
    const insurance0 = await w.vault.insuranceBalance();
    const pool0 = await w.vault.poolBalance();
    const keeper0 = await w.vault.quoteBalance(keeper.address);
    const { penalty, reward } = penaltyAndReward(plain.tabWad, DEFAULT_PARAMS);
    const realized = mulWadFloorSigned(plain.lot, CRASH_PRICE - entry);
    const id = await w.auction.auctionId(trader.address, POOL_LOT, ETH_INDEX);

    const tx = w.auction.connect(keeper).kick(trader.address);
    await expect(tx)
      .to.emit(w.vault, "PositionLiquidated")
      .withArgs(trader.address, ETH_USD, -plain.lot, CRASH_PRICE, ethers.ZeroAddress, realized)
      .and.to.emit(w.auction, "Kick")
      .withArgs(id, trader.address, ETH_USD, plain.lot, plain.tabWad, penalty, keeper.address, reward);

    expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0 + realized - penalty);
    expect(await w.vault.insuranceBalance()).to.equal(insurance0 + penalty - reward);
    expect(await w.vault.quoteBalance(keeper.address)).to.equal(keeper0 + reward);
    expect(await w.vault.poolBalance()).to.equal(pool0 - realized);
    expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
    expect((await w.vault.getPosition(trader.address, ETH_USD)).sizeWad).to.equal(60n * WAD - plain.lot);
    const after = await w.vault.accountHealth(trader.address);
    expect(after.equityWad).to.be.greaterThanOrEqual(after.initialMarginWad);
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(plain.lot);
    const [price, stale, a] = await w.auction.auctionStatus(id);
    expect([a.lot, a.tabWad, stale, price]).to.deep.equal([plain.lot, plain.tabWad, false, CRASH_PRICE]);
    expect((await w.auction.globalUsage())[1]).to.equal(plain.tabWad);
  });

  it("take: the bidder buys the pool's lot at oracle × curve; the account is not touched and carries no price risk", async () => {
    const s = await loadFixture(kickedLong);
    const { w, trader, bidder, k } = s;
    // The market falls another 3% while the lot is on sale: the account's quote does not move.
    const later = (CRASH_PRICE * 97n) / 100n;
    await setEthPriceWad(w, later);
    const quote0 = await w.vault.quoteBalance(trader.address);
    const size0 = (await w.vault.getPosition(trader.address, ETH_USD)).sizeWad;
    const pool0 = await w.vault.poolBalance();
    const start = (await w.auction.auctionStatus(k.id))[2].startTime;
    const elapsed = 60n;
    const price = lotPrice(later, defaultCurve(elapsed), false);
    const half = k.lot / 2n;

    await time.setNextBlockTimestamp(start + elapsed);
    await expect(w.auction.connect(bidder).take(k.id, half, price, bidder.address, "0x"))
      .to.emit(w.auction, "Take")
      .withArgs(k.id, bidder.address, half, price, 0n, k.lot - half)
      .and.to.emit(w.vault, "PositionLiquidated")
      .withArgs(ethers.ZeroAddress, ETH_USD, -half, price, bidder.address, 0n);
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(k.lot - half);

    await expect(w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x"))
      .to.emit(w.auction, "AuctionEnded")
      .withArgs(k.id, ethers.ZeroAddress);
    const taken = await w.vault.getPosition(bidder.address, ETH_USD);
    expect(taken.sizeWad).to.equal(k.lot);
    expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0);
    expect((await w.vault.getPosition(trader.address, ETH_USD)).sizeWad).to.equal(size0);
    expect(await w.vault.poolBalance()).to.equal(pool0); // opening the bidder's position realises nothing
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(0n);
    expect((await w.auction.globalUsage())[1]).to.equal(0n);
    expect((await w.auction.auctionStatus(k.id))[2].lot).to.equal(0n);
  });

  it("a short pool lot is sold at oracle × (2 − m), and the view's price works as the take's limit", async () => {
    const s = await loadFixture(kickedShort);
    const { w, bidder, k } = s;
    expect(k.lot).to.be.lessThan(0n);
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(k.lot);
    await time.setNextBlockTimestamp(k.timestamp + 36n);
    await ethers.provider.send("evm_mine", []);
    const [price] = await w.auction.auctionStatus(k.id);
    expect(price).to.equal(lotPrice(3_120n * WAD, defaultCurve(36n), true));
    await expect(w.auction.connect(bidder).take(k.id, -k.lot, price, bidder.address, "0x"))
      .to.emit(w.vault, "PositionLiquidated")
      .withArgs(ethers.ZeroAddress, ETH_USD, -k.lot, price, bidder.address, 0n);
    expect((await w.vault.getPosition(bidder.address, ETH_USD)).sizeWad).to.equal(k.lot);
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(0n);
  });

  it("a second kick of the same account adds to its running pool lot and keeps the lot's clock", async () => {
    const s = await loadFixture(kickedLong);
    const { w, trader, keeper, k } = s;
    await time.increase(30);
    await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, 500n * WAD));
    expect((await w.vault.isLiquidatable(trader.address))[0]).to.equal(true);
    const k2 = await kick(w, keeper, trader.address);
    expect(k2.id).to.equal(k.id);
    const [, , a] = await w.auction.auctionStatus(k.id);
    expect(a.lot).to.equal(k.lot + k2.lot);
    expect(a.tabWad).to.equal(k.tabWad + k2.tabWad);
    expect(a.startTime).to.equal(k.timestamp);
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(k.lot + k2.lot);
    expect((await w.auction.globalUsage())[1]).to.equal(k.tabWad + k2.tabWad);
  });

  for (const [label, shortMultiple, deposit] of [
    ["exactly the lot: the net is zero and the lot ends", 1n, 10_000n],
    ["twice the lot: the net is a short lot that keeps the clock", 2n, 60_000n],
  ] as const)
    it(`a kick on the other side nets against the running pool lot (${label})`, async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, keeper, k } = s;
      // The released trader turns short: closes the rest of its long and sells a multiple of the
      // lot's size more, then a squeeze makes it liquidatable again.
      const left = (await w.vault.getPosition(trader.address, ETH_USD)).sizeWad;
      await depositUsd(w, trader, deposit);
      await w.vault.connect(trader).trade(ETH_USD, -left - k.lot * shortMultiple, 0n);
      const squeeze = await priceForEquity(w, trader.address, ETH_USD, 100n * WAD);
      await setEthPriceWad(w, squeeze);
      const id = await w.auction.auctionId(trader.address, POOL_LOT, ETH_INDEX);
      const tx = await w.auction.connect(keeper).kick(trader.address);
      const receipt = (await tx.wait())!;
      const [kick2] = await w.auction.queryFilter(w.auction.filters.Kick(), receipt.blockNumber, receipt.blockNumber);
      expect(kick2.args.id).to.equal(id);
      expect(kick2.args.lot).to.be.lessThan(0n);
      const net = k.lot + kick2.args.lot;
      expect(net === 0n).to.equal(shortMultiple === 1n);
      const [, , a] = await w.auction.auctionStatus(id);
      expect(a.lot).to.equal(net);
      expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(net);
      // What is left is priced at the kick's oracle price, never above the two tabs together.
      const tab = net === 0n ? 0n : minOf(mulWadUp(absOf(net), squeeze), k.tabWad + kick2.args.tabWad);
      expect(a.tabWad).to.equal(tab);
      expect((await w.auction.globalUsage())[1]).to.equal(tab);
      if (net === 0n) await expect(tx).to.emit(w.auction, "AuctionEnded").withArgs(id, ethers.ZeroAddress);
      else expect(a.startTime).to.equal(k.timestamp);
    });

  it("redo pays no keeper reward, and the backstop leaves the exposure with the pool: nothing moves", async () => {
    const s = await loadFixture(kickedLong);
    const { w, trader, keeper, k } = s;
    let start = k.timestamp;
    for (let i = 0n; i < DEFAULT_PARAMS.maxResets; i++) {
      await time.setNextBlockTimestamp(start + cuspSecond(DEFAULT_PARAMS));
      const tx = w.auction.connect(keeper).redo(k.id);
      await expect(tx)
        .to.emit(w.auction, "Redo")
        .withArgs(k.id, keeper.address, i + 1n, 0n)
        .and.not.to.emit(w.vault, "QuoteTransferred");
      start = await blockTime((await (await tx).wait())!);
    }
    const quote0 = await w.vault.quoteBalance(trader.address);
    const pool0 = await w.vault.poolBalance();
    await time.setNextBlockTimestamp(start + cuspSecond(DEFAULT_PARAMS));
    await expect(w.auction.connect(keeper).redo(k.id))
      .to.emit(w.auction, "Backstop")
      .withArgs(k.id, ethers.ZeroAddress, k.lot, CRASH_PRICE)
      .and.to.emit(w.auction, "AuctionEnded")
      .withArgs(k.id, ethers.ZeroAddress)
      .and.not.to.emit(w.vault, "PositionLiquidated");
    expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0);
    expect(await w.vault.poolBalance()).to.equal(pool0);
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(0n);
    expect((await w.auction.globalUsage())[1]).to.equal(0n);
  });

  it("an underwater account is closed whole at the kick and its shortfall settled at once; its lot still sells", async () => {
    const s = await loadFixture(takeoverActors);
    const { w, trader, keeper, bidder } = s;
    await openLeveraged(w, trader, ETH_USD, 1_600, 10n * WAD);
    await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, -100n * WAD));
    const tx = w.auction.connect(keeper).kick(trader.address);
    await expect(tx).to.emit(w.vault, "ShortfallSettled");
    expect(await w.vault.accountMarkets(trader.address)).to.deep.equal([]);
    expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
    const id = await w.auction.auctionId(trader.address, POOL_LOT, ETH_INDEX);
    expect((await w.auction.auctionStatus(id))[2].lot).to.equal(10n * WAD);
    await expect(w.auction.connect(bidder).take(id, 10n * WAD, ethers.MaxUint256, bidder.address, "0x"))
      .to.emit(w.auction, "AuctionEnded")
      .withArgs(id, ethers.ZeroAddress);
    expect((await w.vault.getPosition(bidder.address, ETH_USD)).sizeWad).to.equal(10n * WAD);
  });

  it("instant mode takes precedence over takeover", async () => {
    const s = await loadFixture(crashedLong);
    const { w, trader, keeper } = s;
    await setAuctionParams(w, { instantMode: true });
    await expect(w.auction.connect(keeper).kick(trader.address))
      .to.emit(w.auction, "InstantLiquidation")
      .and.not.to.emit(w.auction, "Kick");
    expect(await w.auction.poolOnSale(ETH_INDEX)).to.equal(0n);
  });
});

import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { MockRecordingTaker, MockReentrantTaker } from "../../typechain-types";
import { ETH_USD, openLeveraged, WAD, wad, type World } from "../shared/local-world";
import {
  ceilDiv,
  cuspSecond,
  currentParams,
  defaultCurve,
  DEFAULT_PARAMS,
  DEFAULTS,
  deployAuctionWorld,
  depositUsd,
  divWad,
  kick,
  lotPrice,
  makeCollateralDebtor,
  minOf,
  mulDivUp,
  mulWadFloorSigned,
  mulWadUp,
  penaltyAndReward,
  priceMultiple,
  setAuctionParams,
  setEthPriceWad,
  type KickResult,
} from "../shared/auction-math";

/** An ETH price that is not a whole dollar, so that oracle × m has a fractional wei to round. */
const CRASH_PRICE = 2_880_12345678n * 10n ** 10n;

interface Scene {
  w: World;
  trader: HardhatEthersSigner;
  bidder: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  /** A second bidder with only $1,000 in the vault. */
  poorBidder: HardhatEthersSigner;
  /** Flash-take receivers, deployed before the kick so that takes can be timed to the second. */
  recorder: MockRecordingTaker;
  reentrant: MockReentrantTaker;
  k: KickResult;
}

async function actors() {
  const w = await deployAuctionWorld();
  const [trader, bidder, keeper, poorBidder] = w.traders;
  await depositUsd(w, bidder, 300_000n);
  await depositUsd(w, poorBidder, 1_000n);
  const recorder = await (
    await ethers.getContractFactory("MockRecordingTaker")
  ).deploy(await w.vault.getAddress(), await w.weth.getAddress(), ETH_USD);
  await w.usdc.mint(await recorder.getAddress(), 5_000n * 10n ** 6n);
  const reentrant = await (await ethers.getContractFactory("MockReentrantTaker")).deploy(await w.auction.getAddress());
  return { w, trader, bidder, keeper, poorBidder, recorder, reentrant };
}

/** A 60 ETH long crashed to ~$2880 and kicked: a long lot of ~51.7 ETH. */
async function kickedLong(): Promise<Scene> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 10_000, 60n * WAD);
  await setEthPriceWad(a.w, CRASH_PRICE);
  return { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
}

/** A 40 ETH short squeezed to $3140 and kicked: a short lot. */
async function kickedShort(): Promise<Scene> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 8_000, -40n * WAD);
  await setEthPriceWad(a.w, 3_140n * WAD);
  return { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
}

/** 1 WETH ($3000, worth $2550 as collateral) against a $2700 debt, kicked: a collateral lot. */
async function kickedCollateral(): Promise<Scene> {
  const a = await actors();
  await makeCollateralDebtor(a.w, a.trader, WAD, 2_700n * WAD);
  return { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
}

/** The clearing price `elapsed` seconds into an auction (default curve) at oracle `oracleWad`. */
function expectedPrice(elapsed: bigint, oracleWad: bigint, shortLot: boolean, p = DEFAULT_PARAMS): bigint {
  const m = priceMultiple(p, defaultCurve(elapsed), elapsed);
  expect(m.stale, `stale at ${elapsed} s`).to.equal(false);
  return lotPrice(oracleWad, m.factor, shortLot);
}

async function takeAt(
  s: Scene,
  elapsed: bigint,
  amount: bigint,
  limit: bigint,
  bidder: HardhatEthersSigner = s.bidder,
  receiver: string = bidder.address,
  data = "0x",
) {
  await time.setNextBlockTimestamp(s.k.timestamp + elapsed);
  return s.w.auction.connect(bidder).take(s.k.id, amount, limit, receiver, data);
}

describe("AuctionHouse.take", () => {
  describe("position lots", () => {
    it("a partial take moves the slice to the bidder at oracle × curve and leaves lot and tab pro rata", async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, bidder, k } = s;
      const elapsed = 30n; // two steps down
      const price = expectedPrice(elapsed, CRASH_PRICE, false);
      expect(price).to.equal((CRASH_PRICE * defaultCurve(30n)) / WAD);
      const amount = k.lot / 3n;
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      const quote0 = await w.vault.quoteBalance(trader.address);
      const realized = mulWadFloorSigned(amount, price - entry);
      const tabLeft = k.tabWad - mulDivUp(k.tabWad, amount, k.lot);
      const poolValue0 = await w.vault.poolValue();

      await expect(takeAt(s, elapsed, amount, price))
        .to.emit(w.auction, "Take")
        .withArgs(k.id, bidder.address, amount, price, 0n, k.lot - amount)
        .and.to.emit(w.vault, "PositionLiquidated")
        .withArgs(trader.address, ETH_USD, -amount, price, bidder.address, realized);

      const [, stale, a] = await w.auction.auctionStatus(k.id);
      expect(stale).to.equal(false);
      expect(a.lot).to.equal(k.lot - amount);
      expect(a.tabWad).to.equal(tabLeft);
      expect(a.startTime).to.equal(k.timestamp);
      expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0 + realized);
      const taken = await w.vault.getPosition(bidder.address, ETH_USD);
      expect(taken.sizeWad).to.equal(amount);
      expect(taken.entryPriceWad).to.equal(price);
      expect((await w.auction.globalUsage())[1]).to.equal(tabLeft);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(true);
      // The discount moves from the account to the bidder: the pool's value does not change.
      expect(await w.vault.poolValue()).to.equal(poolValue0);
    });

    it("a full take (amount above the lot is capped) ends the auction, unfreezes the account and frees capacity", async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, bidder, k } = s;
      const price = expectedPrice(1n, CRASH_PRICE, false);
      await expect(takeAt(s, 1n, k.lot * 2n, ethers.MaxUint256))
        .to.emit(w.auction, "Take")
        .withArgs(k.id, bidder.address, k.lot, price, 0n, 0n)
        .and.to.emit(w.auction, "AuctionEnded")
        .withArgs(k.id, trader.address);
      const [p, stale, a] = await w.auction.auctionStatus(k.id);
      expect([p, stale, a.lot, a.tabWad]).to.deep.equal([0n, false, 0n, 0n]);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
      expect((await w.auction.globalUsage())[1]).to.equal(0n);
      expect((await w.vault.getPosition(bidder.address, ETH_USD)).sizeWad).to.equal(k.lot);
      await expect(w.auction.connect(bidder).take(k.id, 1n, ethers.MaxUint256, bidder.address, "0x"))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotRunning")
        .withArgs(k.id);
    });

    it("clears at exactly oracle × curve at the second of the take, never at a later (cheaper) second", async () => {
      const base = await loadFixture(kickedLong);
      const last = cuspSecond(await currentParams(base.w)) - 1n;
      const seconds = [1n, 11n, 12n, 13n, 100n, 300n, last];
      const prices: bigint[] = [];
      for (const e of seconds) {
        const s = await loadFixture(kickedLong);
        const tx = await takeAt(s, e, WAD, ethers.MaxUint256);
        const [event] = await s.w.auction.queryFilter(
          s.w.auction.filters.Take(),
          (await tx.wait())!.blockNumber,
          (await tx.wait())!.blockNumber,
        );
        const expected = expectedPrice(e, CRASH_PRICE, false);
        expect(event.args.priceWad, `elapsed ${e}`).to.equal(expected);
        // Rounded down from the exact product by less than one wei.
        expect(CRASH_PRICE * defaultCurve(e) - expected * WAD).to.be.lessThan(WAD);
        prices.push(event.args.priceWad);
      }
      for (let i = 1; i < prices.length; i++) expect(prices[i]).to.be.lessThanOrEqual(prices[i - 1]);
      expect(prices[1]).to.equal(prices[0]); // flat within the first 12 s step
      expect(prices[2]).to.be.lessThan(prices[1]);
      expect(prices[prices.length - 1]).to.be.greaterThanOrEqual((CRASH_PRICE * DEFAULTS.cuspWad) / WAD);
    });

    it("property: the Take price equals oracle × curve at any second before the cusp (fixed seed)", async () => {
      const last = Number(cuspSecond(DEFAULT_PARAMS)) - 1;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: last }), fc.integer({ min: 1, max: 50 }), async (e, pct) => {
          const s = await loadFixture(kickedLong);
          const amount = (s.k.lot * BigInt(pct)) / 100n;
          const expected = expectedPrice(BigInt(e), CRASH_PRICE, false);
          await expect(takeAt(s, BigInt(e), amount, expected))
            .to.emit(s.w.auction, "Take")
            .withArgs(s.k.id, s.bidder.address, amount, expected, 0n, s.k.lot - amount);
        }),
        { seed: 77, numRuns: 10 },
      );
    });

    it("follows the oracle during the auction", async () => {
      const s = await loadFixture(kickedLong);
      const newOracle = 2_700n * WAD;
      await time.setNextBlockTimestamp(s.k.timestamp + 1n);
      await setEthPriceWad(s.w, newOracle);
      await time.setNextBlockTimestamp(s.k.timestamp + 40n);
      await mine();
      const [status] = await s.w.auction.auctionStatus(s.k.id);
      expect(status).to.equal(expectedPrice(40n, newOracle, false));
      await expect(takeAt(s, 41n, WAD, ethers.MaxUint256))
        .to.emit(s.w.auction, "Take")
        .withArgs(s.k.id, s.bidder.address, WAD, expectedPrice(41n, newOracle, false), 0n, s.k.lot - WAD);
    });

    it("a take late in the curve passes the discount to the account: at 18× it ends below zero (documented limitation)", async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, k } = s;
      const elapsed = cuspSecond(DEFAULT_PARAMS) - 1n; // the last second before a reset
      const price = expectedPrice(elapsed, CRASH_PRICE, false);
      const pos = await w.vault.getPosition(trader.address, ETH_USD);
      const quote = await w.vault.quoteBalance(trader.address);
      // Equity after: quote + PnL realised at the auction price + the rest marked at the oracle.
      const equityAfter =
        quote +
        mulWadFloorSigned(k.lot, price - pos.entryPriceWad) +
        mulWadFloorSigned(pos.sizeWad - k.lot, CRASH_PRICE - pos.entryPriceWad);
      await takeAt(s, elapsed, k.lot, ethers.MaxUint256);
      const h = await w.vault.accountHealth(trader.address);
      expect(h.equityWad).to.equal(equityAfter);
      expect(h.equityWad).to.be.lessThan(0n);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
    });

    it("auctionStatus quotes the price a take clears at, so it works as the exact price limit (regression)", async () => {
      const s = await loadFixture(kickedLong);
      // Read the view at the take's own second: it rounds as the take does (up, for a long lot).
      await time.setNextBlockTimestamp(s.k.timestamp + 24n);
      await mine();
      const [quoted] = await s.w.auction.auctionStatus(s.k.id);
      expect(quoted).to.equal(expectedPrice(24n, CRASH_PRICE, false));
      await time.setNextBlockTimestamp(s.k.timestamp + 24n + 1n);
      // One second later the curve has not stepped (12 s steps): the quote still clears.
      await expect(s.w.auction.connect(s.bidder).take(s.k.id, WAD, quoted, s.bidder.address, "0x")).to.emit(
        s.w.auction,
        "Take",
      );
    });

    it("enforces the price limit on a long lot: price ≤ limit", async () => {
      const s = await loadFixture(kickedLong);
      const price = expectedPrice(24n, CRASH_PRICE, false);
      await expect(takeAt(s, 24n, WAD, price - 1n))
        .to.be.revertedWithCustomError(s.w.auction, "PriceLimitExceeded")
        .withArgs(s.k.id, price, price - 1n);
      await expect(takeAt(s, 25n, WAD, price)).to.emit(s.w.auction, "Take");
    });

    it("prices a short lot at oracle × (2 − m), rising over time, and enforces price ≥ limit", async () => {
      const s = await loadFixture(kickedShort);
      const { w, trader, bidder, k } = s;
      expect(k.lot).to.be.lessThan(0n);
      const oracle = 3_140n * WAD;
      const price = expectedPrice(36n, oracle, true);
      expect(price).to.equal((oracle * (2n * WAD - defaultCurve(36n))) / WAD);
      expect(price).to.be.greaterThan(expectedPrice(1n, oracle, true));
      await expect(takeAt(s, 36n, WAD, price + 1n))
        .to.be.revertedWithCustomError(w.auction, "PriceLimitExceeded")
        .withArgs(k.id, price, price + 1n);
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      // The short closes −WAD of its −size: closed = −1 ETH, PnL = −1 × (price − entry).
      await expect(takeAt(s, 37n, WAD, price))
        .to.emit(w.auction, "Take")
        .withArgs(k.id, bidder.address, WAD, price, 0n, k.lot + WAD)
        .and.to.emit(w.vault, "PositionLiquidated")
        .withArgs(trader.address, ETH_USD, WAD, price, bidder.address, mulWadFloorSigned(-WAD, price - entry));
      expect((await w.vault.getPosition(bidder.address, ETH_USD)).sizeWad).to.equal(-WAD);
    });

    it("reverts DustRemainder when a take would leave a tab below dust", async () => {
      const s = await loadFixture(kickedLong);
      const { w, k } = s;
      // Leave about $50 of tab.
      const amount = k.lot - (k.lot * 50n * WAD) / k.tabWad;
      const tabLeft = k.tabWad - mulDivUp(k.tabWad, amount, k.lot);
      expect(tabLeft).to.be.greaterThan(0n);
      expect(tabLeft).to.be.lessThan(DEFAULTS.dustWad);
      await expect(takeAt(s, 1n, amount, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.auction, "DustRemainder")
        .withArgs(k.id, tabLeft, DEFAULTS.dustWad);
      // Leaving exactly the dust or more is fine.
      const ok = k.lot - (k.lot * 200n * WAD) / k.tabWad;
      await expect(takeAt(s, 2n, ok, ethers.MaxUint256)).to.emit(w.auction, "Take");
    });

    it("reverts ZeroTake, AuctionNotRunning and AuctionNeedsRedo", async () => {
      const s = await loadFixture(kickedLong);
      const { w, bidder, trader, k } = s;
      await expect(w.auction.connect(bidder).take(k.id, 0n, ethers.MaxUint256, bidder.address, "0x"))
        .to.be.revertedWithCustomError(w.auction, "ZeroTake")
        .withArgs(k.id);
      const unknown = await w.auction.auctionId(bidder.address, 0, 0);
      await expect(w.auction.connect(bidder).take(unknown, WAD, ethers.MaxUint256, bidder.address, "0x"))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotRunning")
        .withArgs(unknown);
      const collateralId = await w.auction.auctionId(trader.address, 1, 1);
      await expect(w.auction.connect(bidder).take(collateralId, WAD, ethers.MaxUint256, bidder.address, "0x"))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotRunning")
        .withArgs(collateralId);
      const stale = cuspSecond(await currentParams(w));
      await expect(takeAt(s, stale, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.auction, "AuctionNeedsRedo")
        .withArgs(k.id);
    });

    it("the bidder must hold IM for what it takes: the vault's Undercollateralized", async () => {
      const s = await loadFixture(kickedLong);
      const { w, poorBidder, k } = s;
      // Taken at elapsed 1 (price = oracle rounded down): the bidder's equity is its $1,000 plus
      // a sub-cent PnL; its IM is 5% of the notional plus the $5 buffer.
      const price = expectedPrice(1n, CRASH_PRICE, false);
      const equity = 1_000n * WAD + mulWadFloorSigned(k.lot, CRASH_PRICE - price);
      const im = mulWadUp(mulWadUp(k.lot, CRASH_PRICE), wad(0.05)) + 5n * WAD;
      await expect(takeAt(s, 1n, k.lot, ethers.MaxUint256, poorBidder))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(poorBidder.address, equity, im);
    });

    it("refuses a bidder that is itself in liquidation (the vault's AccountInLiquidation)", async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, k } = s;
      const other = w.traders[4];
      await openLeveraged(w, other, ETH_USD, 10_000, 60n * WAD);
      await setEthPriceWad(w, 2_700n * WAD);
      await kick(w, s.keeper, other.address);
      await expect(w.auction.connect(other).take(k.id, WAD, ethers.MaxUint256, other.address, "0x"))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(other.address);
      await expect(w.auction.connect(trader).take(k.id, WAD, ethers.MaxUint256, trader.address, "0x"))
        .to.be.revertedWithCustomError(w.vault, "SelfTransfer")
        .withArgs(trader.address);
    });
  });

  describe("flash-take callback", () => {
    it("calls the receiver after delivering the position, with the bidder, id, amount, owed 0 and data", async () => {
      const s = await loadFixture(kickedLong);
      const { w, bidder, k, recorder } = s;
      const amount = k.lot / 4n;
      await takeAt(s, 5n, amount, ethers.MaxUint256, bidder, await recorder.getAddress(), "0xbeef");
      expect(await recorder.calls()).to.equal(1n);
      expect(await recorder.lastCaller()).to.equal(await w.auction.getAddress());
      expect(await recorder.lastBidder()).to.equal(bidder.address);
      expect(await recorder.lastAuctionId()).to.equal(k.id);
      expect(await recorder.lastAmount()).to.equal(amount);
      expect(await recorder.lastOwedWad()).to.equal(0n);
      expect(await recorder.lastData()).to.equal("0xbeef");
      expect(await recorder.bidderPositionDuringCall()).to.equal(amount); // delivered before the call
    });

    it("does not call the receiver when data is empty", async () => {
      const s = await loadFixture(kickedLong);
      await takeAt(s, 5n, WAD, ethers.MaxUint256, s.bidder, await s.recorder.getAddress(), "0x");
      expect(await s.recorder.calls()).to.equal(0n);
    });

    for (const [attack, name] of [
      [0n, "take"],
      [1n, "kick"],
      [2n, "redo"],
    ] as const) {
      it(`a callback that re-enters ${name} reverts ReentrancyGuardReentrantCall`, async () => {
        const s = await loadFixture(kickedLong);
        await time.setNextBlockTimestamp(s.k.timestamp + 1n);
        await s.reentrant.arm(attack, s.trader.address);
        await expect(
          takeAt(s, 10n, WAD, ethers.MaxUint256, s.bidder, await s.reentrant.getAddress(), "0x01"),
        ).to.be.revertedWithCustomError(s.w.auction, "ReentrancyGuardReentrantCall");
        // The same take without the callback goes through.
        await expect(takeAt(s, 11n, WAD, ethers.MaxUint256)).to.emit(s.w.auction, "Take");
      });
    }
  });

  describe("collateral lots", () => {
    it("sells WETH at oracle × curve for the bidder's vault quote, never raising more than the tab", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, trader, bidder, k } = s;
      const wethAddr = await w.weth.getAddress();
      const oracle = await w.oracle.getPrice(wethAddr);
      expect(k.key).to.equal(ethers.zeroPadValue(wethAddr, 32));
      const wethIndex = (await w.vault.collateralConfig(wethAddr)).index;
      expect(k.id).to.equal(await w.auction.auctionId(trader.address, 1, wethIndex));
      // Tab = debt + penalty; the lot is all the WETH (it is worth less than the tab at the floor).
      const debt = -(await w.vault.quoteBalance(trader.address)) - k.penaltyWad;
      expect(k.tabWad).to.equal(debt + penaltyAndReward(debt, await currentParams(w)).penalty);
      expect(k.lot).to.equal(minOf(WAD, ceilDiv(k.tabWad * WAD, (oracle * DEFAULTS.floorWad) / WAD)));
      expect(k.lot).to.equal(WAD);

      const price = expectedPrice(13n, oracle, false);
      const amount = divWad(k.tabWad, price); // what covers the tab
      const bidderQuote0 = await w.vault.quoteBalance(bidder.address);
      const weth0 = await w.weth.balanceOf(bidder.address);

      await expect(takeAt(s, 13n, k.lot, price))
        .to.emit(w.auction, "Take")
        .withArgs(k.id, bidder.address, amount, price, k.tabWad, 0n)
        .and.to.emit(w.auction, "AuctionEnded")
        .withArgs(k.id, trader.address);

      expect(await w.vault.quoteBalance(bidder.address)).to.equal(bidderQuote0 - k.tabWad);
      expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
      expect(await w.weth.balanceOf(bidder.address)).to.equal(weth0 + amount);
      expect(await w.vault.collateralBalance(trader.address, wethAddr)).to.equal(WAD - amount); // the rest stays
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
    });

    it("a partial collateral take pays amount × price (rounded up) and keeps the rest of the lot running", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, bidder, k } = s;
      const oracle = await w.oracle.getPrice(await w.weth.getAddress());
      const price = expectedPrice(2n, oracle, false);
      const amount = k.lot / 4n;
      const owe = mulWadUp(amount, price);
      await expect(takeAt(s, 2n, amount, price))
        .to.emit(w.auction, "Take")
        .withArgs(k.id, bidder.address, amount, price, owe, k.lot - amount);
      const [, , a] = await w.auction.auctionStatus(k.id);
      expect(a.tabWad).to.equal(k.tabWad - owe);
      expect(a.lot).to.equal(k.lot - amount);
      await expect(takeAt(s, 3n, amount, price - 1n))
        .to.be.revertedWithCustomError(w.auction, "PriceLimitExceeded")
        .withArgs(k.id, price, price - 1n);
    });

    it("the bidder pays from its vault balance: a bidder without enough quote is refused (InsufficientBalance)", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, poorBidder, k } = s;
      const oracle = await w.oracle.getPrice(await w.weth.getAddress());
      const price = expectedPrice(1n, oracle, false);
      await expect(takeAt(s, 1n, k.lot, ethers.MaxUint256, poorBidder))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(poorBidder.address, await w.usdc.getAddress(), 1_000n * WAD, k.tabWad);
      expect(price).to.be.greaterThan(0n);
    });

    it("the callback gets the collateral and the amount owed before the bidder pays, and can fund it", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, k, recorder } = s;
      const flashBidder = w.traders[5]; // nothing in the vault
      const recorderAddr = await recorder.getAddress();
      await time.setNextBlockTimestamp(k.timestamp + 1n);
      await recorder.setFunding(3_000n * 10n ** 6n);
      const oracle = await w.oracle.getPrice(await w.weth.getAddress());
      const price = expectedPrice(10n, oracle, false);
      const amount = divWad(k.tabWad, price);

      await takeAt(s, 10n, k.lot, ethers.MaxUint256, flashBidder, recorderAddr, "0x1234");

      expect(await recorder.lastBidder()).to.equal(flashBidder.address);
      expect(await recorder.lastAuctionId()).to.equal(k.id);
      expect(await recorder.lastAmount()).to.equal(amount);
      expect(await recorder.lastOwedWad()).to.equal(k.tabWad);
      expect(await recorder.lastData()).to.equal("0x1234");
      expect(await recorder.tokenBalanceDuringCall()).to.equal(amount); // collateral first …
      expect(await recorder.bidderQuoteDuringCall()).to.equal(0n); // … payment after
      expect(await w.weth.balanceOf(recorderAddr)).to.equal(amount);
      expect(await w.vault.quoteBalance(flashBidder.address)).to.equal(3_000n * WAD - k.tabWad);
    });

    it("a take of the whole collateral lot is not refused as dust when the lot is worth less than the tab", async () => {
      // 1 WETH ($3000) against a $2990 debt: the tab ($3019.90) exceeds what the whole lot fetches at
      // the start ($3000) by less than dust. Taking the whole lot leaves no lot, so it must go through.
      const a = await loadFixture(actors);
      await makeCollateralDebtor(a.w, a.trader, WAD, 2_990n * WAD);
      const s: Scene = { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
      const oracle = await s.w.oracle.getPrice(await s.w.weth.getAddress());
      const price = expectedPrice(1n, oracle, false);
      const owe = mulWadUp(s.k.lot, price);
      expect(s.k.lot).to.equal(WAD);
      expect(owe).to.be.lessThan(s.k.tabWad);
      expect(s.k.tabWad - owe).to.be.lessThan(DEFAULTS.dustWad);
      await expect(takeAt(s, 1n, s.k.lot, ethers.MaxUint256))
        .to.emit(s.w.auction, "AuctionEnded")
        .withArgs(s.k.id, s.trader.address);
    });

    it("reverts DustRemainder when a partial collateral take would leave less than dust to raise", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, k } = s;
      const oracle = await w.oracle.getPrice(await w.weth.getAddress());
      const price = expectedPrice(1n, oracle, false);
      // Raise all but ~$40 of the tab.
      const amount = divWad(k.tabWad - 40n * WAD, price);
      const left = k.tabWad - mulWadUp(amount, price);
      await expect(takeAt(s, 1n, amount, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.auction, "DustRemainder")
        .withArgs(k.id, left, DEFAULTS.dustWad);
    });
  });

  describe("parameters seen by takes", () => {
    it("never clears below oracle × floor: with cusp = floor the auction is stale before the floor binds", async () => {
      const s = await loadFixture(kickedLong);
      await time.setNextBlockTimestamp(s.k.timestamp + 1n);
      const p = await setAuctionParams(s.w, { cuspWad: DEFAULTS.floorWad });
      const lastOk = cuspSecond(p) - 1n;
      const price = expectedPrice(lastOk, CRASH_PRICE, false, p);
      expect(price).to.be.greaterThanOrEqual((CRASH_PRICE * DEFAULTS.floorWad) / WAD);
      await expect(takeAt(s, lastOk, WAD, price)).to.emit(s.w.auction, "Take");
      await expect(takeAt(s, lastOk + DEFAULTS.curveStepSec, WAD, ethers.MaxUint256))
        .to.be.revertedWithCustomError(s.w.auction, "AuctionNeedsRedo")
        .withArgs(s.k.id);
    });
  });
});

import { expect } from "chai";
import { ethers } from "hardhat";
import { mine, takeSnapshot, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import { ETH_USD, openLeveraged, WAD, wad, type World } from "../shared/local-world";
import {
  blockTime,
  currentParams,
  cuspSecond,
  DEFAULT_PARAMS,
  DEFAULTS,
  deployAuctionWorld,
  depositUsd,
  keeperReward,
  minOf,
  kick,
  makeCollateralDebtor,
  mulWad,
  mulWadFloorSigned,
  penaltyAndReward,
  priceForEquity,
  setAuctionParams,
  setEthPriceWad,
  sliceSize,
  type AuctionParams,
  type KickResult,
} from "../shared/auction-math";

const RISK_ADMIN_ROLE = ethers.id("RISK_ADMIN_ROLE");
const tag = (name: string): string => ethers.encodeBytes32String(name);
const QUOTE_SCALE = 10n ** 12n; // USDC units → WAD
const CUSP = cuspSecond(DEFAULT_PARAMS); // first stale second under the default curve and cusp

interface Scene {
  w: World;
  trader: HardhatEthersSigner;
  bidder: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  k: KickResult;
}

async function actors() {
  const w = await deployAuctionWorld();
  const [trader, bidder, keeper] = w.traders;
  await depositUsd(w, bidder, 300_000n);
  return { w, trader, bidder, keeper };
}

/** The smoke crash: 60 ETH long, $10k, at $2880, kicked: a partial long lot. */
async function kickedLong(): Promise<Scene> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 10_000, 60n * WAD);
  await setEthPriceWad(a.w, 2_880n * WAD);
  return { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
}

/** A 10 ETH long gapped down to equity −$100: the whole position is the lot. */
async function kickedUnderwater(): Promise<Scene> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 1_600, 10n * WAD);
  await setEthPriceWad(a.w, await priceForEquity(a.w, a.trader.address, ETH_USD, -100n * WAD));
  return { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
}

/** 1 WETH against a $2700 debt, kicked: a collateral lot of all the WETH. */
async function kickedCollateral(): Promise<Scene> {
  const a = await actors();
  await makeCollateralDebtor(a.w, a.trader, WAD, 2_700n * WAD);
  return { ...a, k: await kick(a.w, a.keeper, a.trader.address) };
}

/** Restarts auction `k` as many times as allowed, each at the first stale second. Returns the last start. */
async function exhaustResets(s: Scene, p: AuctionParams = DEFAULT_PARAMS): Promise<bigint> {
  let start = s.k.timestamp;
  for (let i = 0n; i < p.maxResets; i++) {
    await time.setNextBlockTimestamp(start + cuspSecond(p));
    const tx = await s.w.auction.connect(s.keeper).redo(s.k.id);
    start = await blockTime((await tx.wait())!);
  }
  return start;
}

/** The redo that runs the backstop (at the first stale second after `start`). */
async function backstop(s: Scene, start: bigint): Promise<ContractTransactionResponse> {
  await time.setNextBlockTimestamp(start + CUSP);
  return s.w.auction.connect(s.keeper).redo(s.k.id);
}

/** Empties the insurance fund's quote down to less than one token unit. */
async function drainInsurance(w: World): Promise<void> {
  const units = (await w.vault.insuranceBalance()) / QUOTE_SCALE;
  if (units > 0n) await w.insurance.connect(w.admin).withdrawSurplus(units, w.admin.address);
  expect(await w.vault.insuranceBalance()).to.be.lessThan(QUOTE_SCALE);
}

/** ERC-4626 (OpenZeppelin, 6 decimals of virtual offset): assets for `shares`, rounded down. */
const convertToAssets = (shares: bigint, totalAssets: bigint, totalSupply: bigint): bigint =>
  (shares * (totalAssets + 1n)) / (totalSupply + 10n ** 6n);

describe("AuctionHouse.redo and backstop", () => {
  describe("redo", () => {
    it("reverts AuctionNotStale before the cusp, and restarts the curve from the first stale second", async () => {
      const s = await loadFixture(kickedLong);
      const { w, keeper, k } = s;
      expect(CUSP).to.equal(636n); // 0.998^53 < 0.9 ≤ 0.998^52
      await expect(w.auction.connect(keeper).redo(k.id))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotStale")
        .withArgs(k.id);
      await time.setNextBlockTimestamp(k.timestamp + CUSP - 1n);
      await expect(w.auction.connect(keeper).redo(k.id))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotStale")
        .withArgs(k.id);
      // Stale: take refuses, redo restarts.
      await time.setNextBlockTimestamp(k.timestamp + CUSP);
      await mine();
      const [, needsRedo] = await w.auction.auctionStatus(k.id);
      expect(needsRedo).to.equal(true);
      await time.setNextBlockTimestamp(k.timestamp + CUSP + 1n);
      const tx = await w.auction.connect(keeper).redo(k.id);
      const restart = await blockTime((await tx.wait())!);
      const [price, stale, a] = await w.auction.auctionStatus(k.id);
      expect(a.startTime).to.equal(restart);
      expect(a.resets).to.equal(1n);
      expect(a.lot).to.equal(k.lot);
      expect(a.tabWad).to.equal(k.tabWad);
      expect(stale).to.equal(false);
      expect(price).to.equal(2_880n * WAD); // buf × curve(0) = 1
    });

    it("is allowed past tail even above the cusp", async () => {
      const s = await loadFixture(kickedLong);
      const { w, keeper, k } = s;
      // tail 120 s, cusp at the floor: only age makes the auction stale here.
      await time.setNextBlockTimestamp(k.timestamp + 1n);
      await setAuctionParams(w, { tailSec: 120n, cuspWad: DEFAULTS.floorWad });
      await time.setNextBlockTimestamp(k.timestamp + 120n);
      await expect(w.auction.connect(keeper).redo(k.id))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotStale")
        .withArgs(k.id);
      await time.setNextBlockTimestamp(k.timestamp + 121n);
      await expect(w.auction.connect(keeper).redo(k.id)).to.emit(w.auction, "Redo");
    });

    it("pays the keeper min(tip + chip × tab, cap) from the account when the tab is at least dust", async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, keeper, k } = s;
      const reward = keeperReward(k.tabWad, DEFAULT_PARAMS);
      expect(reward).to.equal(DEFAULTS.tipWad + mulWad(k.tabWad, DEFAULTS.chipWad));
      const account0 = await w.vault.quoteBalance(trader.address);
      const keeper0 = await w.vault.quoteBalance(keeper.address);
      await time.setNextBlockTimestamp(k.timestamp + CUSP);
      await expect(w.auction.connect(keeper).redo(k.id))
        .to.emit(w.auction, "Redo")
        .withArgs(k.id, keeper.address, 1n, reward)
        .and.to.emit(w.vault, "QuoteTransferred")
        .withArgs(trader.address, keeper.address, reward);
      expect(await w.vault.quoteBalance(trader.address)).to.equal(account0 - reward);
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(keeper0 + reward);
    });

    it("pays no reward for a lot whose tab is below dust", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await openLeveraged(w, trader, ETH_USD, 10, 2n * 10n ** 16n); // 0.02 ETH ≈ $60
      await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, 2n * WAD));
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.be.lessThan(DEFAULTS.dustWad);
      const account0 = await w.vault.quoteBalance(trader.address);
      const keeper0 = await w.vault.quoteBalance(keeper.address);
      await time.setNextBlockTimestamp(k.timestamp + CUSP);
      await expect(w.auction.connect(keeper).redo(k.id))
        .to.emit(w.auction, "Redo")
        .withArgs(k.id, keeper.address, 1n, 0n)
        .and.not.to.emit(w.vault, "QuoteTransferred");
      expect(await w.vault.quoteBalance(trader.address)).to.equal(account0);
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(keeper0);
    });

    it("reverts AuctionNotRunning for an auction that does not exist or has ended", async () => {
      const s = await loadFixture(kickedLong);
      const { w, keeper, bidder, k } = s;
      const none = await w.auction.auctionId(keeper.address, 0, 0);
      await expect(w.auction.connect(keeper).redo(none))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotRunning")
        .withArgs(none);
      await w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x");
      await expect(w.auction.connect(keeper).redo(k.id))
        .to.be.revertedWithCustomError(w.auction, "AuctionNotRunning")
        .withArgs(k.id);
    });
  });

  describe("backstop (position lots)", () => {
    it("after maxResets, the pool absorbs the lot at oracle × floor", async () => {
      const s = await loadFixture(kickedLong);
      const { w, trader, keeper, k } = s;
      const start = await exhaustResets(s);
      // Still a reset short: the third stale redo is the backstop, not a fourth restart.
      expect((await w.auction.auctionStatus(k.id))[2].resets).to.equal(DEFAULTS.maxResets);
      const oracle = 2_880n * WAD;
      const floorPrice = mulWad(oracle, DEFAULTS.floorWad);
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      const realized = mulWadFloorSigned(k.lot, floorPrice - entry);
      const pool0 = await w.vault.poolBalance();
      const quote0 = await w.vault.quoteBalance(trader.address);
      const size0 = (await w.vault.getPosition(trader.address, ETH_USD)).sizeWad;
      const keeper0 = await w.vault.quoteBalance(keeper.address);

      await expect(backstop(s, start))
        .to.emit(w.vault, "PositionLiquidated")
        .withArgs(trader.address, ETH_USD, -k.lot, floorPrice, ethers.ZeroAddress, realized)
        .and.to.emit(w.auction, "Backstop")
        .withArgs(k.id, trader.address, k.lot, floorPrice)
        .and.to.emit(w.auction, "AuctionEnded")
        .withArgs(k.id, trader.address)
        .and.not.to.emit(w.auction, "Redo");

      expect(await w.vault.poolBalance()).to.equal(pool0 - realized); // the account's loss is the pool's gain
      expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0 + realized);
      expect((await w.vault.getPosition(trader.address, ETH_USD)).sizeWad).to.equal(size0 - k.lot);
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(keeper0); // no reward for the backstop
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
      expect((await w.auction.globalUsage())[1]).to.equal(0n);
      expect((await w.auction.auctionStatus(k.id))[2].lot).to.equal(0n);
    });

    it("absorbs a short lot at oracle × (2 − floor)", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await openLeveraged(w, trader, ETH_USD, 8_000, -40n * WAD);
      await setEthPriceWad(w, 3_140n * WAD);
      const s: Scene = { ...a, k: await kick(w, keeper, trader.address) };
      const start = await exhaustResets(s);
      const price = mulWad(3_140n * WAD, 2n * WAD - DEFAULTS.floorWad);
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      // The short closes `lot` (negative) at the price: PnL = lot × (price − entry), rounded down.
      const realized = mulWadFloorSigned(s.k.lot, price - entry);
      expect(realized).to.be.lessThan(0n);
      await expect(backstop(s, start))
        .to.emit(w.auction, "Backstop")
        .withArgs(s.k.id, trader.address, s.k.lot, price)
        .and.to.emit(w.vault, "PositionLiquidated")
        .withArgs(trader.address, ETH_USD, -s.k.lot, price, ethers.ZeroAddress, realized);
    });

    it("settles the shortfall of an emptied account from the insurance fund", async () => {
      const s = await loadFixture(kickedUnderwater);
      const { w, trader, k } = s;
      expect(k.lot).to.equal((await w.vault.getPosition(trader.address, ETH_USD)).sizeWad); // the whole position
      await w.vault.connect(w.traders[6]).fundInsurance(50_000n * 10n ** 6n);
      const start = await exhaustResets(s);
      const oracle = (await w.vault.liquidationSnapshot(trader.address)).positions[0].priceWad;
      const floorPrice = mulWad(oracle, DEFAULTS.floorWad);
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      const realized = mulWadFloorSigned(k.lot, floorPrice - entry);
      const shortfall = -((await w.vault.quoteBalance(trader.address)) + realized);
      expect(shortfall).to.be.greaterThan(0n);
      const insurance0 = await w.vault.insuranceBalance();
      const pool0 = await w.vault.poolBalance();

      await expect(backstop(s, start))
        .to.emit(w.vault, "ShortfallSettled")
        .withArgs(trader.address, shortfall, shortfall, 0n)
        .and.not.to.emit(w.vault, "BadDebt");

      expect(await w.vault.insuranceBalance()).to.equal(insurance0 - shortfall);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized);
      expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
      expect(await w.vault.accountMarkets(trader.address)).to.deep.equal([]);
    });

    it("socialises what insurance cannot pay: LPs lose exactly the bad debt", async () => {
      const s = await loadFixture(kickedUnderwater);
      const { w, trader } = s;
      const start = await exhaustResets(s);
      const oracle = (await w.vault.liquidationSnapshot(trader.address)).positions[0].priceWad;
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      const realized = mulWadFloorSigned(s.k.lot, mulWad(oracle, DEFAULTS.floorWad) - entry);
      const shortfall = -((await w.vault.quoteBalance(trader.address)) + realized);
      const supply = await w.pool.totalSupply();
      const oneLpUnit = 10n ** 12n; // shares (6 + 6 decimals): one USDC's worth at launch

      // Twin runs from the same state, the backstop in the same second: insurance ample vs drained.
      const fork = await takeSnapshot();
      await w.vault.connect(w.traders[6]).fundInsurance(50_000n * 10n ** 6n);
      await backstop(s, start);
      const valueCovered = await w.vault.poolValue();
      await fork.restore();

      await drainInsurance(w);
      const insurance = await w.vault.insuranceBalance();
      const pool0 = await w.vault.poolBalance();
      const socialised = shortfall - insurance;
      await expect(backstop(s, start))
        .to.emit(w.vault, "BadDebt")
        .withArgs(trader.address, socialised)
        .and.to.emit(w.vault, "ShortfallSettled")
        .withArgs(trader.address, shortfall, insurance, socialised);
      const valueSocialised = await w.vault.poolValue();

      expect(await w.vault.insuranceBalance()).to.equal(0n);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized - socialised);
      expect(valueCovered - valueSocialised).to.equal(socialised); // exactly, in WAD
      // In token units the pool rounds its value down: the fall is the bad debt ± one unit.
      const assetsCovered = valueCovered / QUOTE_SCALE;
      expect(await w.pool.totalAssets()).to.equal(valueSocialised / QUOTE_SCALE);
      expect(assetsCovered - (await w.pool.totalAssets())).to.be.oneOf([
        socialised / QUOTE_SCALE,
        socialised / QUOTE_SCALE + 1n,
      ]);
      expect(await w.pool.convertToAssets(oneLpUnit)).to.equal(
        convertToAssets(oneLpUnit, valueSocialised / QUOTE_SCALE, supply),
      );
    });
  });

  describe("collateral lots", () => {
    it("kick: sells the WETH for debt + penalty, pays the keeper from the penalty, freezes the account", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await makeCollateralDebtor(w, trader, WAD, 2_700n * WAD);
      const debt = -(await w.vault.quoteBalance(trader.address));
      const wethAddr = await w.weth.getAddress();
      const h = await w.vault.accountHealth(trader.address);
      expect(await w.vault.accountMarkets(trader.address)).to.deep.equal([]);
      expect(h.equityWad).to.be.lessThan(0n);
      expect(h.maintenanceMarginWad).to.equal(0n);
      const { penalty, reward } = penaltyAndReward(debt, DEFAULT_PARAMS);
      const insurance0 = await w.vault.insuranceBalance();
      const id = await w.auction.auctionId(trader.address, 1, (await w.vault.collateralConfig(wethAddr)).index);

      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.emit(w.auction, "Kick")
        .withArgs(
          id,
          trader.address,
          ethers.zeroPadValue(wethAddr, 32),
          WAD,
          debt + penalty,
          penalty,
          keeper.address,
          reward,
        );

      expect(await w.vault.quoteBalance(trader.address)).to.equal(-(debt + penalty));
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(reward);
      expect(await w.vault.insuranceBalance()).to.equal(insurance0 + penalty - reward);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(true);
      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.be.revertedWithCustomError(w.auction, "NothingToLiquidate")
        .withArgs(trader.address);
      // Collateral lots do not use the position throttles.
      expect((await w.auction.globalUsage())[1]).to.equal(0n);
    });

    it("backstop: the collateral goes to the insurance fund contract, which then pays the shortfall", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, trader, k } = s;
      const wethAddr = await w.weth.getAddress();
      const insuranceAddr = await w.insurance.getAddress();
      await w.vault.connect(w.traders[6]).fundInsurance(50_000n * 10n ** 6n);
      const start = await exhaustResets(s);
      const shortfall = -(await w.vault.quoteBalance(trader.address)); // debt + penalty + redo rewards
      // Each redo reward of a collateral lot is added to its tab, so the second is paid on a
      // tab that already includes the first.
      const firstReward = keeperReward(k.tabWad, DEFAULT_PARAMS);
      const redoRewards = firstReward + keeperReward(k.tabWad + firstReward, DEFAULT_PARAMS);
      expect(shortfall).to.equal(k.tabWad + redoRewards);
      const floorPrice = mulWad(await w.oracle.getPrice(wethAddr), DEFAULTS.floorWad);
      const insurance0 = await w.vault.insuranceBalance();
      expect(insurance0).to.be.greaterThanOrEqual(shortfall);
      const wethHeld0 = await w.weth.balanceOf(insuranceAddr);

      await expect(backstop(s, start))
        .to.emit(w.vault, "CollateralSeized")
        .withArgs(trader.address, wethAddr, k.lot, insuranceAddr)
        .and.to.emit(w.auction, "Backstop")
        .withArgs(k.id, trader.address, k.lot, floorPrice)
        .and.to.emit(w.vault, "ShortfallSettled")
        .withArgs(trader.address, shortfall, shortfall, 0n);

      expect(await w.weth.balanceOf(insuranceAddr)).to.equal(wethHeld0 + k.lot);
      expect(await w.vault.insuranceBalance()).to.equal(insurance0 - shortfall);
      expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
      expect(await w.vault.collateralBalance(trader.address, wethAddr)).to.equal(0n);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
    });

    it("backstop with insurance drained: the LP share price falls by exactly the bad debt", async () => {
      const s = await loadFixture(kickedCollateral);
      const { w, trader } = s;
      const start = await exhaustResets(s);
      await drainInsurance(w);
      const shortfall = -(await w.vault.quoteBalance(trader.address));
      const insurance = await w.vault.insuranceBalance();
      const socialised = shortfall - insurance;
      // No open positions: the pool's value is its balance.
      expect(await w.vault.poolValue()).to.equal(await w.vault.poolBalance());
      const value0 = await w.vault.poolValue();
      const supply = await w.pool.totalSupply();
      const assets0 = await w.pool.totalAssets();
      expect(assets0).to.equal(value0 / QUOTE_SCALE);
      const share = 10n ** 12n;
      expect(await w.pool.convertToAssets(share)).to.equal(convertToAssets(share, assets0, supply));

      await expect(backstop(s, start))
        .to.emit(w.vault, "BadDebt")
        .withArgs(trader.address, socialised)
        .and.to.emit(w.vault, "ShortfallSettled")
        .withArgs(trader.address, shortfall, insurance, socialised);

      expect(await w.vault.poolValue()).to.equal(value0 - socialised);
      const assets1 = (value0 - socialised) / QUOTE_SCALE; // rounded down to token units
      expect(await w.pool.totalAssets()).to.equal(assets1);
      expect(assets0 - assets1).to.be.oneOf([socialised / QUOTE_SCALE, socialised / QUOTE_SCALE + 1n]);
      expect(await w.pool.convertToAssets(share)).to.equal(convertToAssets(share, assets1, supply));
      expect(await w.pool.totalSupply()).to.equal(supply);
    });
  });

  describe("instant mode", () => {
    it("closes the slice at the oracle against the pool and pays the kicker the bonus from the account", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await openLeveraged(w, trader, ETH_USD, 10_000, 60n * WAD);
      await setEthPriceWad(w, 2_880n * WAD);
      await setAuctionParams(w, { instantMode: true });
      const snap = await w.vault.liquidationSnapshot(trader.address);
      const pos = snap.positions[0];
      const x0 = ((snap.health.initialMarginWad - snap.health.equityWad) * WAD + (wad(0.04) - 1n)) / wad(0.04); // ⌈need / (imr − c)⌉
      const x = x0 + x0 / 10_000n;
      const slice = sliceSize(pos.sizeWad, pos.notionalWad, x);
      const bonus = mulWad(x, DEFAULTS.instantBonusWad);
      const entry = (await w.vault.getPosition(trader.address, ETH_USD)).entryPriceWad;
      const realized = mulWadFloorSigned(slice, pos.priceWad - entry);
      const quote0 = await w.vault.quoteBalance(trader.address);
      const insurance0 = await w.vault.insuranceBalance();
      const pool0 = await w.vault.poolBalance();

      expect(await w.auction.connect(keeper).kick.staticCall(trader.address)).to.equal(0n);
      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.emit(w.auction, "InstantLiquidation")
        .withArgs(trader.address, ETH_USD, slice, pos.priceWad, keeper.address, bonus)
        .and.to.emit(w.vault, "PositionLiquidated")
        .withArgs(trader.address, ETH_USD, -slice, pos.priceWad, ethers.ZeroAddress, realized)
        .and.not.to.emit(w.auction, "Kick");

      expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0 + realized - bonus);
      // Routed as a kick's penalty: the keeper's reward (tip + chip, capped), the rest to insurance.
      const reward = minOf(keeperReward(x, DEFAULT_PARAMS), bonus);
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(reward);
      expect(await w.vault.insuranceBalance()).to.equal(insurance0 + bonus - reward);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
      const after = await w.vault.accountHealth(trader.address);
      expect(after.equityWad).to.be.greaterThanOrEqual(after.initialMarginWad);
      const [used, outstanding] = await w.auction.globalUsage();
      expect(used).to.equal(x);
      expect(outstanding).to.equal(0n);
    });

    it("closes an underwater account whole and settles its shortfall at once", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await openLeveraged(w, trader, ETH_USD, 1_600, 10n * WAD);
      await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, -100n * WAD));
      await setAuctionParams(w, { instantMode: true });
      const insurance0 = await w.vault.insuranceBalance();
      await expect(w.auction.connect(keeper).kick(trader.address)).to.emit(w.vault, "ShortfallSettled");
      expect(await w.vault.accountMarkets(trader.address)).to.deep.equal([]);
      expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
      expect(await w.vault.insuranceBalance()).to.be.lessThan(insurance0);
    });
  });

  describe("parameters", () => {
    it("deploys with the documented defaults and bounds", async () => {
      const { w } = await loadFixture(actors);
      const p = await currentParams(w);
      expect({ ...p, curve: ethers.ZeroAddress }).to.deep.equal(DEFAULT_PARAMS);
      expect(p.curve).to.equal(await w.curve.getAddress());
      const t = await w.auction.throttle();
      expect([t.windowSec, t.globalCapacityWad, t.maxOutstandingWad]).to.deep.equal([
        DEFAULTS.windowSec,
        DEFAULTS.globalCapacityWad,
        DEFAULTS.maxOutstandingWad,
      ]);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(DEFAULTS.marketCapacityWad);
      const bounds = await Promise.all([
        w.auction.MAX_BUF(),
        w.auction.MIN_TAIL(),
        w.auction.MAX_TAIL(),
        w.auction.MIN_FLOOR(),
        w.auction.MAX_PENALTY(),
        w.auction.MAX_CHIP(),
        w.auction.MAX_TIP(),
        w.auction.MAX_REWARD_CAP(),
        w.auction.MAX_DUST(),
        w.auction.MIN_TARGET_HEALTH(),
        w.auction.MAX_TARGET_HEALTH(),
        w.auction.MAX_RESETS(),
        w.auction.MAX_INSTANT_BONUS(),
        w.auction.MIN_WINDOW(),
        w.auction.MAX_WINDOW(),
      ]);
      expect(bounds).to.deep.equal([
        wad(1.2),
        60n,
        86_400n,
        wad(0.5),
        wad(0.2),
        wad(0.01),
        1_000n * WAD,
        100_000n * WAD,
        1_000_000n * WAD,
        WAD,
        2n * WAD,
        20n,
        wad(0.2),
        60n,
        7n * 86_400n,
      ]);
    });

    it("setParams rejects every value outside its bounds with ParamOutOfBounds", async () => {
      const { w } = await loadFixture(actors);
      const p = await currentParams(w);
      const cases: [string, Partial<AuctionParams>, bigint, bigint, bigint][] = [
        ["buf", { bufWad: WAD - 1n }, WAD - 1n, WAD, wad(1.2)],
        ["buf", { bufWad: wad(1.2) + 1n }, wad(1.2) + 1n, WAD, wad(1.2)],
        ["tail", { tailSec: 59n }, 59n, 60n, 86_400n],
        ["tail", { tailSec: 86_401n }, 86_401n, 60n, 86_400n],
        ["floor", { floorWad: wad(0.5) - 1n }, wad(0.5) - 1n, wad(0.5), WAD - 1n],
        ["floor", { floorWad: WAD }, WAD, wad(0.5), WAD - 1n],
        ["cusp", { cuspWad: p.floorWad - 1n }, p.floorWad - 1n, p.floorWad, WAD],
        ["cusp", { cuspWad: WAD + 1n }, WAD + 1n, p.floorWad, WAD],
        ["penalty", { penaltyWad: wad(0.2) + 1n }, wad(0.2) + 1n, 0n, wad(0.2)],
        ["chip", { chipWad: wad(0.01) + 1n }, wad(0.01) + 1n, 0n, wad(0.01)],
        ["tip", { tipWad: 1_000n * WAD + 1n }, 1_000n * WAD + 1n, 0n, 1_000n * WAD],
        ["rewardCap", { rewardCapWad: 100_000n * WAD + 1n }, 100_000n * WAD + 1n, 0n, 100_000n * WAD],
        ["dust", { dustWad: 1_000_000n * WAD + 1n }, 1_000_000n * WAD + 1n, 0n, 1_000_000n * WAD],
        ["targetHealth", { targetHealthWad: WAD - 1n }, WAD - 1n, WAD, 2n * WAD],
        ["targetHealth", { targetHealthWad: 2n * WAD + 1n }, 2n * WAD + 1n, WAD, 2n * WAD],
        ["maxResets", { maxResets: 21n }, 21n, 0n, 20n],
        ["instantBonus", { instantBonusWad: wad(0.2) + 1n }, wad(0.2) + 1n, 0n, wad(0.2)],
      ];
      for (const [name, change, value, min, max] of cases) {
        await expect(w.auction.connect(w.admin).setParams({ ...p, ...change }), name)
          .to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds")
          .withArgs(tag(name), value, min, max);
      }
      // The cusp's lower bound follows the floor being set.
      await expect(w.auction.connect(w.admin).setParams({ ...p, floorWad: wad(0.95), cuspWad: wad(0.94) }))
        .to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds")
        .withArgs(tag("cusp"), wad(0.94), wad(0.95), WAD);
      // Every bound itself is accepted.
      const edges: AuctionParams = {
        ...p,
        bufWad: wad(1.2),
        tailSec: 60n,
        floorWad: WAD - 1n,
        cuspWad: WAD,
        penaltyWad: wad(0.2),
        chipWad: wad(0.01),
        tipWad: 1_000n * WAD,
        rewardCapWad: 100_000n * WAD,
        dustWad: 1_000_000n * WAD,
        targetHealthWad: 2n * WAD,
        maxResets: 20n,
        instantBonusWad: wad(0.2),
      };
      await expect(w.auction.connect(w.admin).setParams(edges)).to.emit(w.auction, "ParamsSet");
      expect(await currentParams(w)).to.deep.equal(edges);
    });

    it("setParams rejects a zero curve (ZeroAddress), a no-op (NoChange), and callers without RISK_ADMIN", async () => {
      const { w, keeper } = await loadFixture(actors);
      const p = await currentParams(w);
      await expect(
        w.auction.connect(w.admin).setParams({ ...p, curve: ethers.ZeroAddress }),
      ).to.be.revertedWithCustomError(w.auction, "ZeroAddress");
      await expect(w.auction.connect(w.admin).setParams(p)).to.be.revertedWithCustomError(w.auction, "NoChange");
      await expect(w.auction.connect(keeper).setParams({ ...p, tipWad: 6n * WAD }))
        .to.be.revertedWithCustomError(w.auction, "AccessControlUnauthorizedAccount")
        .withArgs(keeper.address, RISK_ADMIN_ROLE);
      const linear = await (await ethers.getContractFactory("LinearDecrease")).deploy(3_600n);
      await expect(w.auction.connect(w.admin).setParams({ ...p, curve: await linear.getAddress() })).to.emit(
        w.auction,
        "ParamsSet",
      );
      expect((await currentParams(w)).curve).to.equal(await linear.getAddress());
    });

    it("setThrottle and setMarketCapacity check bounds, no-ops and the role", async () => {
      const { w, keeper } = await loadFixture(actors);
      const t = {
        windowSec: 3_600n,
        globalCapacityWad: DEFAULTS.globalCapacityWad,
        maxOutstandingWad: DEFAULTS.maxOutstandingWad,
      };
      const bad: [string, Partial<typeof t>, bigint, bigint, bigint][] = [
        ["window", { windowSec: 59n }, 59n, 60n, 7n * 86_400n],
        ["window", { windowSec: 7n * 86_400n + 1n }, 7n * 86_400n + 1n, 60n, 7n * 86_400n],
        ["globalCapacity", { globalCapacityWad: 0n }, 0n, 1n, 2n ** 96n - 1n],
        ["maxOutstanding", { maxOutstandingWad: 0n }, 0n, 1n, 2n ** 96n - 1n],
      ];
      for (const [name, change, value, min, max] of bad) {
        await expect(w.auction.connect(w.admin).setThrottle({ ...t, ...change }), name)
          .to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds")
          .withArgs(tag(name), value, min, max);
      }
      await expect(w.auction.connect(w.admin).setThrottle(t)).to.be.revertedWithCustomError(w.auction, "NoChange");
      await expect(w.auction.connect(keeper).setThrottle({ ...t, windowSec: 60n }))
        .to.be.revertedWithCustomError(w.auction, "AccessControlUnauthorizedAccount")
        .withArgs(keeper.address, RISK_ADMIN_ROLE);
      await expect(w.auction.connect(w.admin).setThrottle({ ...t, windowSec: 60n }))
        .to.emit(w.auction, "ThrottleSet")
        .withArgs([60n, t.globalCapacityWad, t.maxOutstandingWad]);

      // 0 lifts the market's own cap: only the global window and the outstanding cap remain.
      await expect(w.auction.connect(w.admin).setMarketCapacity(ETH_USD, 0n))
        .to.emit(w.auction, "MarketCapacitySet")
        .withArgs(ETH_USD, 0n);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(t.globalCapacityWad);
      await w.auction.connect(w.admin).setMarketCapacity(ETH_USD, DEFAULTS.marketCapacityWad);
      await expect(
        w.auction.connect(w.admin).setMarketCapacity(ETH_USD, DEFAULTS.marketCapacityWad),
      ).to.be.revertedWithCustomError(w.auction, "NoChange");
      await expect(w.auction.connect(keeper).setMarketCapacity(ETH_USD, 1n))
        .to.be.revertedWithCustomError(w.auction, "AccessControlUnauthorizedAccount")
        .withArgs(keeper.address, RISK_ADMIN_ROLE);
    });

    it("the constructor rejects a zero admin or vault (ZeroAddress)", async () => {
      const { w } = await loadFixture(actors);
      const factory = await ethers.getContractFactory("AuctionHouse");
      const p = await currentParams(w);
      const t = await w.auction.throttle();
      const throttle = {
        windowSec: t.windowSec,
        globalCapacityWad: t.globalCapacityWad,
        maxOutstandingWad: t.maxOutstandingWad,
      };
      await expect(
        factory.deploy(ethers.ZeroAddress, await w.vault.getAddress(), p, throttle),
      ).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(w.admin.address, ethers.ZeroAddress, p, throttle)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      const fresh = await factory.deploy(w.admin.address, await w.vault.getAddress(), p, throttle);
      expect(await fresh.hasRole(RISK_ADMIN_ROLE, w.admin.address)).to.equal(true);
    });
  });
});

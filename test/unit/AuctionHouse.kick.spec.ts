import { expect } from "chai";
import fc from "fast-check";
import { ethers, network } from "hardhat";
import { mine, takeSnapshot, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { BTC_USD, deployWorld, ETH_USD, openLeveraged, WAD, wad, type World } from "../shared/local-world";
import {
  absOf,
  currentParams,
  decayedUsage,
  DEFAULTS,
  deployAuctionWorld,
  depositUsd,
  divWadUp,
  healthSurplusAfter,
  keeperReward,
  kick,
  minimumSliceNotional,
  mulWad,
  mulWadUp,
  penaltyAndReward,
  priceForEquity,
  setAuctionParams,
  setBtcPriceWad,
  setEthPriceWad,
  sliceSize,
} from "../shared/auction-math";

const RISK_ADMIN_ROLE = ethers.id("RISK_ADMIN_ROLE");

interface Actors {
  w: World;
  /** The account that gets liquidated. */
  trader: HardhatEthersSigner;
  /** Holds $300k in the vault: enough margin to take any lot here. */
  bidder: HardhatEthersSigner;
  /** Kicks; holds nothing in the vault. */
  keeper: HardhatEthersSigner;
  /** A second account, for throttle tests. */
  other: HardhatEthersSigner;
}

async function actors(): Promise<Actors> {
  const w = await deployAuctionWorld();
  const [trader, bidder, keeper, other] = w.traders;
  await depositUsd(w, bidder, 300_000n);
  return { w, trader, bidder, keeper, other };
}

/** The smoke scenario: 60 ETH long with $10k at ~$3000, crashed to $2880 (equity < MM). */
async function crashedLong(): Promise<Actors> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 10_000, 60n * WAD);
  await setEthPriceWad(a.w, 2880n * WAD);
  return a;
}

/** 40 ETH short with $8k at ~$3000, squeezed to $3140 (equity < MM). */
async function squeezedShort(): Promise<Actors> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 8_000, -40n * WAD);
  await setEthPriceWad(a.w, 3140n * WAD);
  return a;
}

/** Two accounts, 60 ETH long each, both crashed: for throttle tests. */
async function twoCrashedLongs(): Promise<Actors> {
  const a = await actors();
  await openLeveraged(a.w, a.trader, ETH_USD, 10_000, 60n * WAD);
  await openLeveraged(a.w, a.other, ETH_USD, 10_000, 60n * WAD);
  await setEthPriceWad(a.w, 2880n * WAD);
  return a;
}

/** What the kick is sized from: health, the first position's size, notional and imr. */
async function sizingInputs(w: World, account: string) {
  const snap = await w.vault.liquidationSnapshot(account);
  const pos = snap.positions[0];
  const [imrWad] = await w.risk.marginRatios(pos.marketId, pos.notionalWad);
  return {
    equityWad: snap.health.equityWad,
    initialMarginWad: snap.health.initialMarginWad,
    maintenanceMarginWad: snap.health.maintenanceMarginWad,
    sizeWad: pos.sizeWad,
    notionalWad: pos.notionalWad,
    oraclePriceWad: pos.priceWad,
    imrWad,
  };
}

/** The slice the NatSpec documents: ⌈(h·IM − E)/(h·imr − c)⌉ plus one basis point, before the dust rule. */
function documentedSlice(
  inp: { equityWad: bigint; initialMarginWad: bigint; imrWad: bigint },
  h: bigint = DEFAULTS.targetHealthWad,
  c: bigint = DEFAULTS.penaltyWad,
): bigint {
  let need = mulWadUp(inp.initialMarginWad, h) - inp.equityWad;
  if (need <= 0n) need = 1n;
  const x = divWadUp(need, mulWad(inp.imrWad, h) - c);
  return x + x / 10_000n;
}

/** Takes `amount` of lot `id` one second after `start` (the stairstep curve is still at 1). */
async function takeAtKickPrice(a: Actors, id: bigint, start: bigint, amount: bigint, shortLot = false): Promise<void> {
  await time.setNextBlockTimestamp(start + 1n);
  await a.w.auction.connect(a.bidder).take(id, amount, shortLot ? 0n : ethers.MaxUint256, a.bidder.address, "0x");
}

describe("AuctionHouse.kick", () => {
  describe("sizing (partial liquidation)", () => {
    it("liquidates within 1% of the minimum notional, and selling the lot at the kick price restores IM", async () => {
      const a = await loadFixture(crashedLong);
      const { w, trader, keeper } = a;
      const inp = await sizingInputs(w, trader.address);
      expect(inp.equityWad).to.be.lessThan(inp.maintenanceMarginWad); // liquidatable
      const xMin = minimumSliceNotional(
        inp.equityWad,
        inp.initialMarginWad,
        inp.imrWad,
        DEFAULTS.targetHealthWad,
        DEFAULTS.penaltyWad,
      );

      const k = await kick(w, keeper, trader.address);

      expect(k.tabWad).to.be.greaterThanOrEqual(xMin);
      expect(k.tabWad * 100n).to.be.lessThanOrEqual(xMin * 101n);
      expect(k.tabWad).to.equal(documentedSlice(inp));
      expect(k.lot).to.equal(sliceSize(inp.sizeWad, inp.notionalWad, k.tabWad));
      expect(inp.notionalWad - k.tabWad).to.be.greaterThanOrEqual(DEFAULTS.dustWad); // partial
      // In exact arithmetic, the liquidated notional restores h·IM and 1% less would not.
      const surplus = (x: bigint) =>
        healthSurplusAfter(
          x,
          inp.equityWad,
          inp.initialMarginWad,
          inp.imrWad,
          DEFAULTS.targetHealthWad,
          DEFAULTS.penaltyWad,
        );
      expect(surplus(k.tabWad)).to.be.greaterThanOrEqual(0n);
      expect(surplus((k.tabWad * 99n) / 100n)).to.be.lessThan(0n);

      // On chain: the whole lot sold at the kick price restores equity ≥ IM …
      const before = await takeSnapshot();
      await takeAtKickPrice(a, k.id, k.timestamp, k.lot);
      const after = await w.vault.accountHealth(trader.address);
      expect(after.equityWad).to.be.greaterThanOrEqual(after.initialMarginWad);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
      expect((await w.vault.getPosition(trader.address, ETH_USD)).sizeWad).to.equal(inp.sizeWad - k.lot);
      // … and 99% of it does not.
      await before.restore();
      await takeAtKickPrice(a, k.id, k.timestamp, (k.lot * 99n) / 100n);
      const short = await w.vault.accountHealth(trader.address);
      expect(short.equityWad).to.be.lessThan(short.initialMarginWad);
    });

    it("restores a higher target health (h = 1.25) and sizes with it", async () => {
      const a = await loadFixture(crashedLong);
      const { w, trader, keeper } = a;
      const h = wad(1.25);
      await setAuctionParams(w, { targetHealthWad: h });
      const inp = await sizingInputs(w, trader.address);
      const xMin = minimumSliceNotional(inp.equityWad, inp.initialMarginWad, inp.imrWad, h, DEFAULTS.penaltyWad);
      const xMinAtOne = minimumSliceNotional(
        inp.equityWad,
        inp.initialMarginWad,
        inp.imrWad,
        DEFAULTS.targetHealthWad,
        DEFAULTS.penaltyWad,
      );
      expect(xMin).to.be.greaterThan(xMinAtOne);
      expect(inp.notionalWad - xMin).to.be.greaterThan(DEFAULTS.dustWad); // still a partial liquidation

      const k = await kick(w, keeper, trader.address);

      expect(k.tabWad).to.be.greaterThanOrEqual(xMin);
      expect(k.tabWad * 100n).to.be.lessThanOrEqual(xMin * 101n);
      expect(k.tabWad).to.equal(documentedSlice(inp, h));
      await takeAtKickPrice(a, k.id, k.timestamp, k.lot);
      const after = await w.vault.accountHealth(trader.address);
      expect(after.equityWad * WAD).to.be.greaterThanOrEqual(h * after.initialMarginWad);
      expect(after.equityWad).to.be.lessThan(after.initialMarginWad * 2n); // not the whole position
    });

    it("kicks a short position: the lot is negative, sized the same way, and a take restores IM", async () => {
      const a = await loadFixture(squeezedShort);
      const { w, trader, keeper } = a;
      const inp = await sizingInputs(w, trader.address);
      expect(inp.sizeWad).to.be.lessThan(0n);
      expect(inp.equityWad).to.be.lessThan(inp.maintenanceMarginWad);
      const xMin = minimumSliceNotional(
        inp.equityWad,
        inp.initialMarginWad,
        inp.imrWad,
        DEFAULTS.targetHealthWad,
        DEFAULTS.penaltyWad,
      );

      const k = await kick(w, keeper, trader.address);

      expect(k.lot).to.be.lessThan(0n);
      expect(k.tabWad).to.be.greaterThanOrEqual(xMin);
      expect(k.tabWad * 100n).to.be.lessThanOrEqual(xMin * 101n);
      expect(k.lot).to.equal(sliceSize(inp.sizeWad, inp.notionalWad, k.tabWad));
      expect(k.key).to.equal(ETH_USD);
      await takeAtKickPrice(a, k.id, k.timestamp, -k.lot, true);
      const after = await w.vault.accountHealth(trader.address);
      expect(after.equityWad).to.be.greaterThanOrEqual(after.initialMarginWad);
      expect((await w.vault.getPosition(a.bidder.address, ETH_USD)).sizeWad).to.equal(k.lot);
    });

    it("restores IM under live funding too (the default fixture; the extra basis point absorbs it)", async () => {
      const w = await loadFixture(deployWorld);
      const [trader, bidder, keeper] = w.traders;
      await openLeveraged(w, trader, ETH_USD, 10_000, 60n * WAD);
      await depositUsd(w, bidder, 300_000n);
      await time.increase(3_000); // funding accrues on the long skew
      await setEthPriceWad(w, 2880n * WAD);
      expect((await w.vault.accountHealth(trader.address)).accruedFundingWad).to.be.greaterThan(0n);
      const k = await kick(w, keeper, trader.address);
      await w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x");
      const after = await w.vault.accountHealth(trader.address);
      expect(after.equityWad).to.be.greaterThanOrEqual(after.initialMarginWad);
    });

    it("property: for random sizes and crash depths, the slice is minimal within 1% and restores IM (or is the whole position)", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 5, max: 80 }), // ETH
          fc.integer({ min: 160, max: 400 }), // $ of collateral per ETH
          fc.integer({ min: -50, max: 99 }), // target equity, % of MM
          async (sizeEth, perEth, equityPct) => {
            const a = await loadFixture(actors);
            const { w, trader, keeper } = a;
            await openLeveraged(w, trader, ETH_USD, sizeEth * perEth, BigInt(sizeEth) * WAD);
            // Find the price at which equity ≈ equityPct % of MM (MM moves with the price: iterate).
            let price = 3000n * WAD;
            for (let i = 0; i < 4; i++) {
              const notional = mulWadUp(BigInt(sizeEth) * WAD, price);
              const mm = mulWadUp(notional, wad(0.025)) + 5n * WAD;
              price = await priceForEquity(w, trader.address, ETH_USD, (mm * BigInt(equityPct)) / 100n);
            }
            await setEthPriceWad(w, price);
            const [liquidatable] = await w.vault.isLiquidatable(trader.address);
            expect(liquidatable).to.equal(true);
            const inp = await sizingInputs(w, trader.address);
            const xMin = minimumSliceNotional(
              inp.equityWad,
              inp.initialMarginWad,
              inp.imrWad,
              DEFAULTS.targetHealthWad,
              DEFAULTS.penaltyWad,
            );
            const x = documentedSlice(inp);
            const k = await kick(w, keeper, trader.address);
            if (x >= inp.notionalWad || inp.notionalWad - x < DEFAULTS.dustWad) {
              expect(k.tabWad).to.equal(inp.notionalWad);
              expect(k.lot).to.equal(inp.sizeWad);
              await takeAtKickPrice(a, k.id, k.timestamp, k.lot);
              expect(await w.vault.accountMarkets(trader.address)).to.deep.equal([]);
            } else {
              expect(k.tabWad).to.be.greaterThanOrEqual(xMin);
              expect(k.tabWad * 100n).to.be.lessThanOrEqual(xMin * 101n);
              await takeAtKickPrice(a, k.id, k.timestamp, k.lot);
              const after = await w.vault.accountHealth(trader.address);
              expect(after.equityWad).to.be.greaterThanOrEqual(after.initialMarginWad);
            }
          },
        ),
        { seed: 20_240_611, numRuns: 12 },
      );
    });
  });

  describe("dust rule", () => {
    /**
     * Crashes a 10 ETH long to the price at which the documented slice x leaves `leftover` (USD)
     * of the position: E = h·IM − (h·imr − c)·x0 with x0·(1 + 1bp) = N − leftover.
     */
    async function crashToLeftover(a: Actors, leftoverWad: bigint): Promise<void> {
      const { w, trader } = a;
      await openLeveraged(w, trader, ETH_USD, 1_600, 10n * WAD);
      let price = 2870n * WAD;
      for (let i = 0; i < 5; i++) {
        const notional = mulWadUp(10n * WAD, price);
        const im = mulWadUp(notional, wad(0.05)) + 5n * WAD;
        const x0 = ((notional - leftoverWad) * 10_000n) / 10_001n;
        price = await priceForEquity(w, trader.address, ETH_USD, im - mulWad(x0, wad(0.04)));
      }
      await setEthPriceWad(w, price);
    }

    it("liquidates the whole position when the leftover would be below dust", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await crashToLeftover(a, 50n * WAD);
      const inp = await sizingInputs(w, trader.address);
      const x = documentedSlice(inp);
      expect(x).to.be.lessThan(inp.notionalWad); // the formula alone would leave a remainder …
      expect(inp.notionalWad - x).to.be.lessThan(DEFAULTS.dustWad); // … below dust
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(inp.notionalWad);
      expect(k.lot).to.equal(inp.sizeWad);
    });

    it("leaves the rest of the position when the leftover is above dust", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await crashToLeftover(a, 150n * WAD);
      const inp = await sizingInputs(w, trader.address);
      const x = documentedSlice(inp);
      expect(inp.notionalWad - x).to.be.greaterThanOrEqual(DEFAULTS.dustWad);
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(x);
      expect(inp.notionalWad - k.tabWad).to.be.greaterThanOrEqual(DEFAULTS.dustWad);
      expect(absOf(k.lot)).to.be.lessThan(absOf(inp.sizeWad));
      await takeAtKickPrice(a, k.id, k.timestamp, k.lot);
      const left = (await w.vault.getPosition(trader.address, ETH_USD)).sizeWad;
      expect(mulWad(left, inp.oraclePriceWad)).to.be.greaterThanOrEqual(DEFAULTS.dustWad);
    });

    it("liquidates the whole position when even all of it cannot restore IM", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await openLeveraged(w, trader, ETH_USD, 1_600, 10n * WAD);
      await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, -100n * WAD));
      const inp = await sizingInputs(w, trader.address);
      expect(documentedSlice(inp)).to.be.greaterThan(inp.notionalWad);
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(inp.notionalWad);
      expect(k.lot).to.equal(inp.sizeWad);
    });

    it("raises a slice below dust to dust", async () => {
      // A market whose MM is close to its IM: a small shortfall needs a slice below dust.
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await w.risk.connect(w.admin).setRatios(ETH_USD, wad(0.05), wad(0.045));
      await openLeveraged(w, trader, ETH_USD, 28, 15n * 10n ** 16n); // 0.15 ETH ≈ $450
      let price = 2990n * WAD;
      for (let i = 0; i < 4; i++) {
        const notional = mulWadUp(15n * 10n ** 16n, price);
        const mm = mulWadUp(notional, wad(0.045)) + 5n * WAD;
        price = await priceForEquity(w, trader.address, ETH_USD, mm - 1n * WAD);
      }
      await setEthPriceWad(w, price);
      const inp = await sizingInputs(w, trader.address);
      expect(documentedSlice(inp)).to.be.lessThan(DEFAULTS.dustWad);
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(DEFAULTS.dustWad);
      expect(k.lot).to.equal(sliceSize(inp.sizeWad, inp.notionalWad, DEFAULTS.dustWad));
    });

    it("never leaves a leftover below dust when it raises a small slice to dust", async () => {
      // Position $150 (1.5 × dust), MM close to IM: the formula asks for ~$20; raised to the $100
      // dust it would leave $50, below dust, so the whole position must go.
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await w.risk.connect(w.admin).setRatios(ETH_USD, wad(0.05), wad(0.045));
      await openLeveraged(w, trader, ETH_USD, 13, 5n * 10n ** 16n); // 0.05 ETH ≈ $150
      let price = 2990n * WAD;
      for (let i = 0; i < 4; i++) {
        const notional = mulWadUp(5n * 10n ** 16n, price);
        const mm = mulWadUp(notional, wad(0.045)) + 5n * WAD;
        price = await priceForEquity(w, trader.address, ETH_USD, mm - 10n ** 17n);
      }
      await setEthPriceWad(w, price);
      const inp = await sizingInputs(w, trader.address);
      const x = documentedSlice(inp);
      expect(x).to.be.lessThan(DEFAULTS.dustWad);
      expect(inp.notionalWad - x).to.be.greaterThanOrEqual(DEFAULTS.dustWad);
      expect(inp.notionalWad - DEFAULTS.dustWad).to.be.lessThan(DEFAULTS.dustWad);
      const k = await kick(w, keeper, trader.address);
      const leftover = inp.notionalWad - k.tabWad;
      expect(
        leftover === 0n || leftover >= DEFAULTS.dustWad,
        `slice ${k.tabWad} of a ${inp.notionalWad} position leaves ${leftover}, below dust ${DEFAULTS.dustWad}`,
      ).to.equal(true);
    });

    it("liquidates a position smaller than dust whole", async () => {
      const a = await loadFixture(actors);
      const { w, trader, keeper } = a;
      await openLeveraged(w, trader, ETH_USD, 10, 2n * 10n ** 16n); // 0.02 ETH ≈ $60
      await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, 2n * WAD));
      const inp = await sizingInputs(w, trader.address);
      expect(inp.notionalWad).to.be.lessThan(DEFAULTS.dustWad);
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(inp.notionalWad);
      expect(k.lot).to.equal(inp.sizeWad);
    });
  });

  describe("penalty and keeper reward", () => {
    it("charges the account 1% of the tab; the keeper gets tip + chip × tab, the insurance fund the rest", async () => {
      const { w, trader, keeper } = await loadFixture(crashedLong);
      const quote0 = await w.vault.quoteBalance(trader.address);
      const insurance0 = await w.vault.insuranceBalance();
      const keeper0 = await w.vault.quoteBalance(keeper.address);
      const inp = await sizingInputs(w, trader.address);
      const tab = documentedSlice(inp);
      const penalty = mulWadUp(tab, DEFAULTS.penaltyWad);
      const reward = DEFAULTS.tipWad + mulWad(tab, DEFAULTS.chipWad);
      expect(reward).to.be.lessThan(penalty);
      expect(reward).to.be.lessThan(DEFAULTS.rewardCapWad);

      const id = await w.auction.auctionId(trader.address, 0, await w.vault.marketIndex(ETH_USD));
      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.emit(w.auction, "Kick")
        .withArgs(
          id,
          trader.address,
          ETH_USD,
          sliceSize(inp.sizeWad, inp.notionalWad, tab),
          tab,
          penalty,
          keeper.address,
          reward,
        )
        .and.to.emit(w.vault, "InsurancePaid")
        .withArgs(trader.address, penalty - reward);

      expect(await w.vault.quoteBalance(trader.address)).to.equal(quote0 - penalty);
      expect(await w.vault.insuranceBalance()).to.equal(insurance0 + penalty - reward);
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(keeper0 + reward);
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(true);
      await expect(w.vault.connect(trader).trade(ETH_USD, -WAD, 0n))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(trader.address);
    });

    it("caps the keeper reward at rewardCap on a large tab", async () => {
      const { w, trader, keeper } = await loadFixture(actors);
      await openLeveraged(w, trader, ETH_USD, 160_000, 1_000n * WAD); // $3M notional
      await setEthPriceWad(w, 2880n * WAD);
      const insurance0 = await w.vault.insuranceBalance();
      const k = await kick(w, keeper, trader.address);
      const p = await w.auction.params();
      expect(DEFAULTS.tipWad + mulWad(k.tabWad, DEFAULTS.chipWad)).to.be.greaterThan(DEFAULTS.rewardCapWad);
      expect(k.rewardWad).to.equal(p.rewardCapWad);
      expect(k.penaltyWad).to.equal(mulWadUp(k.tabWad, DEFAULTS.penaltyWad));
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(DEFAULTS.rewardCapWad);
      expect(await w.vault.insuranceBalance()).to.equal(insurance0 + k.penaltyWad - DEFAULTS.rewardCapWad);
    });

    it("caps the keeper reward at the penalty on a small tab (the insurance fund gets nothing)", async () => {
      const { w, trader, keeper } = await loadFixture(actors);
      await openLeveraged(w, trader, ETH_USD, 40, 10n ** 17n); // 0.1 ETH ≈ $300
      await setEthPriceWad(w, await priceForEquity(w, trader.address, ETH_USD, 2n * WAD));
      const insurance0 = await w.vault.insuranceBalance();
      const k = await kick(w, keeper, trader.address);
      const params = await currentParams(w);
      const { penalty, reward } = penaltyAndReward(k.tabWad, params);
      expect(keeperReward(k.tabWad, params)).to.be.greaterThan(penalty);
      expect(k.penaltyWad).to.equal(penalty);
      expect(k.rewardWad).to.equal(penalty);
      expect(reward).to.equal(penalty);
      expect(await w.vault.quoteBalance(keeper.address)).to.equal(penalty);
      expect(await w.vault.insuranceBalance()).to.equal(insurance0);
    });
  });

  describe("guards", () => {
    it("reverts NotLiquidatable(account, equity, MM) for a healthy account", async () => {
      const { w, trader, keeper } = await loadFixture(actors);
      await openLeveraged(w, trader, ETH_USD, 10_000, 60n * WAD);
      const h = await w.vault.accountHealth(trader.address);
      expect(h.equityWad).to.be.greaterThanOrEqual(h.maintenanceMarginWad);
      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.be.revertedWithCustomError(w.auction, "NotLiquidatable")
        .withArgs(trader.address, h.equityWad, h.maintenanceMarginWad);
      // An empty account too.
      await expect(w.auction.connect(keeper).kick(keeper.address))
        .to.be.revertedWithCustomError(w.auction, "NotLiquidatable")
        .withArgs(keeper.address, 0n, 0n);
    });

    it("reverts NothingToLiquidate when the account's only market already has an auction", async () => {
      const { w, trader, keeper } = await loadFixture(crashedLong);
      await kick(w, keeper, trader.address);
      const [liquidatable] = await w.vault.isLiquidatable(trader.address);
      expect(liquidatable).to.equal(true);
      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.be.revertedWithCustomError(w.auction, "NothingToLiquidate")
        .withArgs(trader.address);
    });

    it("runs one auction per account at a time: the next market is kicked once the first lot is sold", async () => {
      const { w, trader, keeper, bidder } = await loadFixture(actors);
      await openLeveraged(w, trader, ETH_USD, 10_000, 40n * WAD);
      await openLeveraged(w, trader, BTC_USD, 0, WAD);
      await setEthPriceWad(w, 2800n * WAD);
      await setBtcPriceWad(w, 50_000n * WAD);
      const first = await kick(w, keeper, trader.address);
      expect(first.key).to.equal(ETH_USD);
      // While the ETH lot is running, a second kick would be sized as if it were not: refused.
      await expect(w.auction.connect(keeper).kick(trader.address))
        .to.be.revertedWithCustomError(w.auction, "NothingToLiquidate")
        .withArgs(trader.address);
      await w.auction.connect(bidder).take(first.id, first.lot, ethers.MaxUint256, bidder.address, "0x");
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
      // Still liquidatable after the whole ETH position went: the BTC position is next.
      expect((await w.vault.isLiquidatable(trader.address))[0]).to.equal(true);
      const second = await kick(w, keeper, trader.address);
      expect(second.key).to.equal(BTC_USD);
      expect(second.id).to.equal(await w.auction.auctionId(trader.address, 0, await w.vault.marketIndex(BTC_USD)));
      await w.auction.connect(bidder).take(second.id, second.lot, ethers.MaxUint256, bidder.address, "0x");
      expect(await w.vault.isInLiquidation(trader.address)).to.equal(false);
    });
  });

  describe("throttle", () => {
    const CAP = 10_000n * WAD;

    it("sizes a kick down to the market's capacity", async () => {
      const { w, trader, keeper } = await loadFixture(crashedLong);
      await w.auction.connect(w.admin).setMarketCapacity(ETH_USD, CAP);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(CAP);
      const inp = await sizingInputs(w, trader.address);
      expect(documentedSlice(inp)).to.be.greaterThan(CAP);
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(CAP);
      expect(k.lot).to.equal(sliceSize(inp.sizeWad, inp.notionalWad, CAP));
      expect(k.penaltyWad).to.equal(mulWadUp(CAP, DEFAULTS.penaltyWad));
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(0n);
      const [used, outstanding] = await w.auction.globalUsage();
      expect(used).to.equal(CAP);
      expect(outstanding).to.equal(CAP);
    });

    it("sizes a kick down to the global capacity and to the outstanding cap", async () => {
      const { w, trader, keeper } = await loadFixture(crashedLong);
      await w.auction
        .connect(w.admin)
        .setThrottle({ windowSec: 3600n, globalCapacityWad: 20_000n * WAD, maxOutstandingWad: 15_000n * WAD });
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(15_000n * WAD);
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(15_000n * WAD);
    });

    it("reverts NoCapacity for the next kick in the same window (same block)", async () => {
      const { w, trader, other, keeper } = await loadFixture(twoCrashedLongs);
      await w.auction.connect(w.admin).setMarketCapacity(ETH_USD, CAP);
      await network.provider.send("evm_setAutomine", [false]);
      try {
        const first = await w.auction.connect(keeper).kick(trader.address, { gasLimit: 2_000_000 });
        // The pending block holds the first kick: the second finds no capacity left.
        await expect(w.auction.connect(keeper).kick.staticCall(other.address, { blockTag: "pending" }))
          .to.be.revertedWithCustomError(w.auction, "NoCapacity")
          .withArgs(ETH_USD, 0n);
        const second = await w.auction.connect(keeper).kick(other.address, { gasLimit: 2_000_000 });
        await mine(1);
        expect((await ethers.provider.getTransactionReceipt(first.hash))!.status).to.equal(1);
        expect((await ethers.provider.getTransactionReceipt(second.hash))!.status).to.equal(0);
      } finally {
        await network.provider.send("evm_setAutomine", [true]);
      }
      expect(await w.vault.isInLiquidation(other.address)).to.equal(false);
    });

    it("reverts NoCapacity while the outstanding cap is full, whatever the time, until a take releases it", async () => {
      const { w, trader, other, keeper, bidder } = await loadFixture(twoCrashedLongs);
      await w.auction
        .connect(w.admin)
        .setThrottle({ windowSec: 3600n, globalCapacityWad: DEFAULTS.globalCapacityWad, maxOutstandingWad: CAP });
      const k = await kick(w, keeper, trader.address);
      expect(k.tabWad).to.equal(CAP);
      await time.increase(3_600);
      await setEthPriceWad(w, 2880n * WAD); // keep the feed fresh
      await expect(w.auction.connect(keeper).kick(other.address))
        .to.be.revertedWithCustomError(w.auction, "NoCapacity")
        .withArgs(ETH_USD, 0n);
      // The lot went stale (past tail): restart it, then sell half of it.
      await w.auction.connect(keeper).redo(k.id);
      await w.auction.connect(bidder).take(k.id, k.lot / 2n, ethers.MaxUint256, bidder.address, "0x");
      const [, outstanding] = await w.auction.globalUsage();
      const remainingTab = (await w.auction.auctionStatus(k.id))[2].tabWad;
      expect(outstanding).to.equal(remainingTab);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(CAP - remainingTab);
      const k2 = await kick(w, keeper, other.address);
      expect(k2.tabWad).to.equal(CAP - remainingTab);
    });

    it("waits rather than start a lot below dust: NoCapacity until dust has refilled, then sizes down", async () => {
      const { w, trader, other, keeper } = await loadFixture(twoCrashedLongs);
      await w.auction.connect(w.admin).setMarketCapacity(ETH_USD, CAP);
      const first = await kick(w, keeper, trader.address);
      // One second of refill is capacity / window, far below dust: the kick waits.
      await time.setNextBlockTimestamp(first.timestamp + 1n);
      const oneSecond = CAP / DEFAULTS.windowSec;
      expect(oneSecond).to.be.lessThan(DEFAULTS.dustWad);
      await expect(w.auction.connect(keeper).kick(other.address))
        .to.be.revertedWithCustomError(w.auction, "NoCapacity")
        .withArgs(ETH_USD, oneSecond);
      // Once dust has refilled, the kick goes through, sized down to what is available.
      const refillSec = (DEFAULTS.dustWad * DEFAULTS.windowSec) / CAP + 1n;
      await time.setNextBlockTimestamp(first.timestamp + refillSec);
      const second = await kick(w, keeper, other.address);
      expect(second.tabWad).to.equal((CAP * refillSec) / DEFAULTS.windowSec);
      expect(second.tabWad).to.be.greaterThanOrEqual(DEFAULTS.dustWad);
    });

    it("refills capacity linearly as the window rolls", async () => {
      const { w, trader, keeper } = await loadFixture(crashedLong);
      await w.auction.connect(w.admin).setMarketCapacity(ETH_USD, CAP);
      const k = await kick(w, keeper, trader.address);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(0n);
      const window = DEFAULTS.windowSec;
      await time.increase(window / 2n);
      const now = BigInt(await time.latest());
      expect(now - k.timestamp).to.equal(window / 2n);
      const expected = CAP - decayedUsage(CAP, k.timestamp, CAP, window, now);
      expect(expected).to.equal(CAP / 2n);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(expected);
      await time.increase(window / 4n);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal((CAP * 3n) / 4n);
      await time.increase(window);
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(CAP);
    });

    it("lets only the risk admin set the market capacity", async () => {
      const { w, keeper } = await loadFixture(actors);
      await expect(w.auction.connect(keeper).setMarketCapacity(ETH_USD, CAP))
        .to.be.revertedWithCustomError(w.auction, "AccessControlUnauthorizedAccount")
        .withArgs(keeper.address, RISK_ADMIN_ROLE);
      await expect(w.auction.connect(w.admin).setMarketCapacity(ETH_USD, CAP))
        .to.emit(w.auction, "MarketCapacitySet")
        .withArgs(ETH_USD, CAP);
    });
  });
});

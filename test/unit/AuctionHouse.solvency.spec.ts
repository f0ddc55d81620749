import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ETH_USD, openLeveraged, WAD, type World } from "../shared/local-world";
import {
  absOf,
  deployAuctionWorld,
  depositUsd,
  kick,
  mulWad,
  setAuctionParams,
  setEthPriceWad,
  DEFAULT_PARAMS,
  keeperReward,
} from "../shared/auction-math";

/**
 * "Transfer never waits, sale is paced" (docs/liquidation.md): in takeover mode a liquidatable
 * account's slice moves into the pool whatever the breaker level below a halt and whatever the
 * throttle has left; the throttle paces only what goes on sale, and the rest waits in the
 * market's backlog for `releaseBacklog`.
 */

const POOL_LOT = 2;
const ETH_INDEX = 0n;
const CRASH_PRICE = 2_880n * WAD;

interface Scene {
  w: World;
  trader: HardhatEthersSigner;
  second: HardhatEthersSigner;
  bidder: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
}

async function crashed(): Promise<Scene> {
  const w = await deployAuctionWorld();
  const [trader, second, bidder, keeper] = w.traders;
  await depositUsd(w, bidder, 300_000n);
  await setAuctionParams(w, { poolTakeover: true });
  await openLeveraged(w, trader, ETH_USD, 10_000, 60n * WAD);
  await openLeveraged(w, second, ETH_USD, 10_000, 60n * WAD);
  await setEthPriceWad(w, CRASH_PRICE);
  return { w, trader, second, bidder, keeper };
}

/** The global window shrunk to $20k per hour: a takeover slice (~$110k) no longer fits. */
async function crashedTightThrottle(): Promise<Scene> {
  const s = await crashed();
  await s.w.auction
    .connect(s.w.admin)
    .setThrottle({ windowSec: 3600n, globalCapacityWad: 20_000n * WAD, maxOutstandingWad: 1_000_000n * WAD });
  return s;
}

describe("AuctionHouse: transfer never waits, sale is paced (takeover mode)", () => {
  for (const level of [1, 2]) {
    it(`a takeover goes through at breaker level ${level}${level === 2 ? ", where a plain kick is refused" : ""}`, async () => {
      const s = await loadFixture(crashed);
      await s.w.breaker.connect(s.w.admin).trip(ETH_USD, level);
      expect(await s.w.vault.breakerLevel(ETH_USD)).to.equal(level);
      const k = await kick(s.w, s.keeper, s.trader.address);
      expect(k.tabWad).to.be.greaterThan(0n);
      expect((await s.w.vault.getPosition(s.trader.address, ETH_USD)).sizeWad).to.be.lessThan(60n * WAD);
      // At level 2 nothing goes on sale: the whole slice waits in the backlog.
      const backlog = await s.w.auction.poolBacklog(ETH_INDEX);
      if (level === 2) {
        expect(k.lot).to.equal(0n);
        expect(backlog).to.be.greaterThan(0n);
        expect(await s.w.auction.disposalBudget(ETH_USD)).to.equal(0n);
      } else {
        expect(k.lot + backlog).to.be.greaterThan(0n);
      }
      // A plain auction kick of the second account is refused at level 2.
      await setAuctionParams(s.w, { poolTakeover: false });
      if (level === 2) {
        await expect(s.w.auction.connect(s.keeper).kick(s.second.address))
          .to.be.revertedWithCustomError(s.w.auction, "BreakerActive")
          .withArgs(ETH_USD, 2);
      }
    });
  }

  it("a halt (level 3) refuses the takeover", async () => {
    const s = await loadFixture(crashed);
    await s.w.breaker.connect(s.w.admin).trip(ETH_USD, 3);
    await expect(s.w.auction.connect(s.keeper).kick(s.trader.address))
      .to.be.revertedWithCustomError(s.w.auction, "BreakerActive")
      .withArgs(ETH_USD, 3);
  });

  it("a spent throttle does not delay the transfer: what does not fit the budget joins the backlog", async () => {
    const s = await loadFixture(crashedTightThrottle);
    const id = await s.w.auction.auctionId(s.trader.address, POOL_LOT, ETH_INDEX);
    const size0 = (await s.w.vault.getPosition(s.trader.address, ETH_USD)).sizeWad;
    const tx = s.w.auction.connect(s.keeper).kick(s.trader.address);
    await expect(tx).to.emit(s.w.auction, "Backlogged");
    const k = await kick(s.w, s.keeper, s.second.address); // the second account: budget spent
    const moved = size0 - (await s.w.vault.getPosition(s.trader.address, ETH_USD)).sizeWad;
    const onSale = await s.w.auction.poolOnSale(ETH_INDEX);
    const backlog = await s.w.auction.poolBacklog(ETH_INDEX);
    const moved2 = 60n * WAD - (await s.w.vault.getPosition(s.second.address, ETH_USD)).sizeWad;
    // Every base unit the pool took is either on sale or in the backlog.
    expect(onSale + backlog).to.equal(moved + moved2);
    expect(k.lot).to.equal(0n);
    // The first lot got at most the window's $20k.
    const a = (await s.w.auction.auctionStatus(id))[2];
    expect(a.tabWad).to.be.lessThanOrEqual(20_000n * WAD);
    expect(a.tabWad).to.be.greaterThan(0n);
    expect(mulWad(absOf(a.lot), CRASH_PRICE)).to.be.lessThanOrEqual(20_000n * WAD);
  });

  it("releaseBacklog puts the backlog on sale as the budget refills, in the market's own pool lot", async () => {
    const s = await loadFixture(crashedTightThrottle);
    await s.w.auction.connect(s.keeper).kick(s.trader.address);
    await expect(s.w.auction.releaseBacklog(ETH_USD))
      .to.be.revertedWithCustomError(s.w.auction, "NoCapacity")
      .withArgs(ETH_USD, anyValue);
    const backlog0 = await s.w.auction.poolBacklog(ETH_INDEX);
    const onSale0 = await s.w.auction.poolOnSale(ETH_INDEX);
    await time.increase(1800); // half the window: $10k refilled
    const id = await s.w.auction.auctionId(ethers.ZeroAddress, POOL_LOT, ETH_INDEX);
    await expect(s.w.auction.connect(s.bidder).releaseBacklog(ETH_USD)).to.emit(s.w.auction, "BacklogReleased");
    const released = backlog0 - (await s.w.auction.poolBacklog(ETH_INDEX));
    expect(released).to.be.greaterThan(0n);
    expect(await s.w.auction.poolOnSale(ETH_INDEX)).to.equal(onSale0 + released);
    const a = (await s.w.auction.auctionStatus(id))[2];
    expect(a.lot).to.equal(released);
    // A bidder buys it like any pool lot.
    await s.w.auction.connect(s.bidder).take(id, a.lot, ethers.MaxUint256, s.bidder.address, "0x");
    expect((await s.w.vault.getPosition(s.bidder.address, ETH_USD)).sizeWad).to.equal(released);
    expect((await s.w.auction.auctionStatus(id))[2].lot).to.equal(0n);
  });

  it("releaseBacklog: an empty backlog and a pause are refused", async () => {
    const s = await loadFixture(crashedTightThrottle);
    await expect(s.w.auction.releaseBacklog(ETH_USD))
      .to.be.revertedWithCustomError(s.w.auction, "NothingToRelease")
      .withArgs(ETH_USD);
    await s.w.auction.connect(s.keeper).kick(s.trader.address);
    await time.increase(3600);
    await s.w.breaker.connect(s.w.admin).trip(ETH_USD, 2);
    await expect(s.w.auction.releaseBacklog(ETH_USD))
      .to.be.revertedWithCustomError(s.w.auction, "BreakerActive")
      .withArgs(ETH_USD, 2);
  });

  it("an account that cannot pay the penalty is taken over whole and its shortfall settled in the same transaction", async () => {
    const s = await loadFixture(crashed);
    // 60 ETH on $10k loses $10k at −$166.7: at $2,700 equity is about −$800.
    await setEthPriceWad(s.w, 2_700n * WAD);
    expect((await s.w.vault.accountHealth(s.trader.address)).equityWad).to.be.lessThan(0n);
    const pool0 = await s.w.vault.poolBalance();
    const tx = s.w.auction.connect(s.keeper).kick(s.trader.address);
    await expect(tx).to.emit(s.w.vault, "ShortfallSettled");
    expect((await s.w.vault.getPosition(s.trader.address, ETH_USD)).sizeWad).to.equal(0n);
    expect(await s.w.vault.quoteBalance(s.trader.address)).to.equal(0n);
    // Nothing of the account's negative equity is left in pool value as an asset.
    expect(await s.w.vault.poolBalance()).to.not.equal(pool0);
  });

  it("instant mode routes its bonus as a kick routes its penalty: the keeper's reward, the rest to insurance", async () => {
    const s = await loadFixture(crashed);
    await setAuctionParams(s.w, { poolTakeover: false, instantMode: true });
    const ins0 = await s.w.vault.insuranceBalance();
    const keeper0 = await s.w.vault.quoteBalance(s.keeper.address);
    const tx = await s.w.auction.connect(s.keeper).kick(s.trader.address);
    const r = (await tx.wait())!;
    const ev = r.logs
      .map((l) => {
        try {
          return s.w.auction.interface.parseLog(l);
        } catch {
          return null;
        }
      })
      .find((e) => e?.name === "InstantLiquidation")!;
    const notional = mulWad(absOf(ev.args[2] as bigint), ev.args[3] as bigint);
    const bonus = ev.args[5] as bigint;
    const keeperGot = (await s.w.vault.quoteBalance(s.keeper.address)) - keeper0;
    const insuranceGot = (await s.w.vault.insuranceBalance()) - ins0;
    expect(bonus).to.be.closeTo(mulWad(notional, BigInt(DEFAULT_PARAMS.instantBonusWad)), 10n ** 12n);
    expect(keeperGot + insuranceGot).to.equal(bonus);
    expect(keeperGot).to.be.closeTo(keeperReward(notional, DEFAULT_PARAMS), 10n ** 12n);
    expect(insuranceGot).to.be.greaterThan(0n);
  });
});

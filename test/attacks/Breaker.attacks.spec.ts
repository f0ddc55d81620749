import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { ETH_USD, WAD, e8, openLeveraged, usdc } from "../shared/local-world";
import { deployAuctionWorld } from "../shared/auction-math";
import { expectSolvent } from "./helpers";
import type { ICircuitBreaker } from "../../typechain-types";

/**
 * Guardian abuse of the circuit breaker: pausing for longer than `maxPauseSec`, re-tripping
 * before the rearm, alternating the global and a market key, blocking what must stay open,
 * lowering a level, and poke spam.
 */

const GLOBAL = ethers.ZeroHash;

type BreakerParams = ICircuitBreaker.ParamsStruct;

async function worldWithGuardian() {
  const w = await deployAuctionWorld();
  const guardian = w.traders[7];
  await w.breaker.connect(w.admin).grantRole(await w.breaker.GUARDIAN_ROLE(), guardian.address);
  return { w, guardian };
}

type W = Awaited<ReturnType<typeof deployAuctionWorld>>;

async function paramsWith(w: W, changes: Partial<BreakerParams>, signer = w.admin) {
  const p = await w.breaker.params();
  const next: BreakerParams = {
    windowSec: p.windowSec,
    band1Wad: p.band1Wad,
    band2Wad: p.band2Wad,
    band3Wad: p.band3Wad,
    hysteresisWad: p.hysteresisWad,
    cooldownSec: p.cooldownSec,
    maxPauseSec: p.maxPauseSec,
    oracleMaxAgeSec: p.oracleMaxAgeSec,
    oracleDeviationWad: p.oracleDeviationWad,
    insuranceWindowSec: p.insuranceWindowSec,
    insuranceDrawdownWad: p.insuranceDrawdownWad,
    insuranceMinPeakWad: p.insuranceMinPeakWad,
    cautionImWad: p.cautionImWad,
    haltImWad: p.haltImWad,
    guardianRearmSec: p.guardianRearmSec,
    ...changes,
  };
  return w.breaker.connect(signer).setParams(next);
}

describe("attacks: guardian and breaker abuse", () => {
  it("attack: guardian pause past maxPauseSec: a halt ends at its hard end even with cooldown = maxPause", async () => {
    const { w, guardian } = await loadFixture(worldWithGuardian);
    await paramsWith(w, { cooldownSec: 3_600, maxPauseSec: 3_600, guardianRearmSec: 7_200 });
    await w.breaker.connect(guardian).trip(GLOBAL, 3);
    const t0 = BigInt(await time.latest());
    await time.setNextBlockTimestamp(t0 + 3_599n);
    await w.breaker.poke(ETH_USD); // a poke at a steady price cannot hold a guardian trip
    expect(await w.vault.breakerLevel(ETH_USD)).to.equal(3);
    await time.setNextBlockTimestamp(t0 + 3_600n);
    await w.breaker.poke(ETH_USD);
    expect(await w.vault.breakerLevel(ETH_USD)).to.equal(0);
    expect(await w.breaker.level(GLOBAL)).to.equal(0);
  });

  it("attack: guardian re-trip: the same key cannot be tripped again before guardianRearmSec", async () => {
    const { w, guardian } = await loadFixture(worldWithGuardian);
    await w.breaker.connect(guardian).trip(ETH_USD, 2);
    const t0 = BigInt(await time.latest());
    const p = await w.breaker.params();
    await time.setNextBlockTimestamp(t0 + p.maxPauseSec);
    await expect(w.breaker.connect(guardian).trip(ETH_USD, 3))
      .to.be.revertedWithCustomError(w.breaker, "GuardianRearming")
      .withArgs(ETH_USD, t0 + p.guardianRearmSec);
    await time.setNextBlockTimestamp(t0 + p.guardianRearmSec);
    await w.breaker.connect(guardian).trip(ETH_USD, 3);
    expect(await w.breaker.level(ETH_USD)).to.equal(3);
  });

  it("attack: guardian alternating keys (regression): tripping global and then the market cannot pause a market more than half the time", async () => {
    const { w, guardian } = await loadFixture(worldWithGuardian);
    // The tightest parameters the bounds allow: a trip holds level 3 for its whole maxPause and
    // the rearm is the minimum, 2 × maxPause.
    await paramsWith(w, { cooldownSec: 3_600, maxPauseSec: 3_600, guardianRearmSec: 7_200 });
    const t0 = BigInt(await time.latest()) + 10n;
    await time.setNextBlockTimestamp(t0);
    await w.breaker.connect(guardian).trip(GLOBAL, 3);
    // The global trip has ended: before the fix the market key could be tripped at once.
    await time.setNextBlockTimestamp(t0 + 3_600n);
    await expect(w.breaker.connect(guardian).trip(ETH_USD, 3))
      .to.be.revertedWithCustomError(w.breaker, "GuardianRearming")
      .withArgs(ETH_USD, t0 + 7_200n);
    // Over a day, the guardian tries every hour: the global key first, then the market key.
    const start = t0 + 7_200n;
    let pausedHours = 0;
    for (let h = 0n; h < 24n; h++) {
      await time.setNextBlockTimestamp(start + h * 3_600n);
      let tripped = false;
      for (const [attempt, key] of [GLOBAL, ETH_USD].entries()) {
        if (tripped) break;
        try {
          await w.breaker.connect(guardian).trip(key, 3, { gasLimit: 500_000 });
          tripped = true;
        } catch {
          // GuardianRearming (the reverted transaction mined a block): next attempt a second later
          await time.setNextBlockTimestamp(start + h * 3_600n + BigInt(attempt) + 1n);
        }
      }
      if (tripped) {
        pausedHours += 1;
        expect(await w.vault.breakerLevel(ETH_USD)).to.equal(3);
      }
    }
    expect(pausedHours).to.equal(12); // one trip (one hour) per two-hour rearm, never more
  });

  it("attack: guardian blocking exits: at level 3 deposits, reduce-only trades, LP deposits and margin-safe withdrawals still go through", async () => {
    const { w, guardian } = await loadFixture(worldWithGuardian);
    const [trader, saver] = w.traders;
    await openLeveraged(w, trader, ETH_USD, 40_000, 50n * WAD);
    await w.vault.connect(saver).deposit(await w.usdc.getAddress(), usdc(10_000));
    await w.breaker.connect(guardian).trip(GLOBAL, 3);
    expect(await w.vault.breakerLevel(ETH_USD)).to.equal(3);
    const usdcAddr = await w.usdc.getAddress();
    await w.vault.connect(trader).deposit(usdcAddr, usdc(1_000));
    await w.vault.connect(trader).trade(ETH_USD, -10n * WAD, 0n);
    await w.vault.connect(saver).withdraw(usdcAddr, usdc(10_000)); // no positions: any amount
    await w.vault.connect(trader).withdraw(usdcAddr, usdc(1_000)); // keeps IM × haltIm
    await w.pool.connect(w.lp).deposit(usdc(1_000), w.lp.address);
    await expect(w.vault.connect(trader).trade(ETH_USD, WAD, ethers.MaxUint256))
      .to.be.revertedWithCustomError(w.vault, "BreakerActive")
      .withArgs(ETH_USD, 3);
    await expectSolvent(w.vault);
  });

  it("attack: guardian overreach: a guardian cannot lower a level, change parameters, or write the vault's breaker state", async () => {
    const { w, guardian } = await loadFixture(worldWithGuardian);
    await w.breaker.poke(ETH_USD);
    await w.ethFeed.setAnswer(e8(2_300)); // −23%: a price trip to level 3
    await w.breaker.poke(ETH_USD);
    expect(await w.breaker.level(ETH_USD)).to.equal(3);
    for (const lower of [1, 2, 3]) {
      await expect(w.breaker.connect(guardian).trip(ETH_USD, lower))
        .to.be.revertedWithCustomError(w.breaker, "LevelNotRaised")
        .withArgs(ETH_USD, 3, lower);
    }
    await expect(paramsWith(w, { maxPauseSec: 60, cooldownSec: 60 }, guardian)).to.be.revertedWithCustomError(
      w.breaker,
      "AccessControlUnauthorizedAccount",
    );
    await expect(w.vault.connect(guardian).setBreakerState(ETH_USD, 0n)).to.be.revertedWithCustomError(
      w.vault,
      "AccessControlUnauthorizedAccount",
    );
    await expect(w.breaker.connect(guardian).reportAuctionHealth(ETH_USD, WAD, 0n, true)).to.be.revertedWithCustomError(
      w.breaker,
      "AccessControlUnauthorizedAccount",
    );
    await expect(w.breaker.connect(w.traders[0]).trip(GLOBAL, 3)).to.be.revertedWithCustomError(
      w.breaker,
      "AccessControlUnauthorizedAccount",
    );
    expect(await w.breaker.level(ETH_USD)).to.equal(3);
  });

  it("attack: poke spam: pokes at a steady price never trip the breaker and never extend a running trip", async () => {
    const { w, guardian } = await loadFixture(worldWithGuardian);
    for (let i = 0; i < 30; i++) await w.breaker.poke(ETH_USD);
    expect(await w.breaker.level(ETH_USD)).to.equal(0);
    await w.breaker.connect(guardian).trip(ETH_USD, 2);
    const word = await w.breaker.stateOf(ETH_USD);
    const endAt = (word >> 64n) & 0xffffffffn;
    for (let i = 0; i < 30; i++) {
      await time.increase(60);
      await w.ethFeed.setAnswer(e8(3_000));
      await w.breaker.poke(ETH_USD);
    }
    expect(((await w.breaker.stateOf(ETH_USD)) >> 64n) & 0xffffffffn).to.be.oneOf([endAt, 0n]);
    await time.setNextBlockTimestamp(endAt);
    await w.breaker.poke(ETH_USD);
    expect(await w.breaker.level(ETH_USD)).to.equal(0);
  });
});

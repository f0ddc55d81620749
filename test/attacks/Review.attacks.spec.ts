import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { BTC_USD, ETH_USD, WAD, e8, openLeveraged, usdc, wad } from "../shared/local-world";
import { deployAuctionWorld, depositUsd, kick, makeCollateralDebtor } from "../shared/auction-math";
import { accountsWith, expectSolvent, usd } from "./helpers";
import type { PerpVault } from "../../typechain-types";

/**
 * The findings of the 37bdf39 security review that lost LP money (docs/threat-model.md §
 * "Review of 37bdf39"): each test runs the exploit as the reviewer did and checks that it no
 * longer pays. Against the old code each of these fails (see the figures in the threat model).
 */

/** No account outside liquidation holds a negative quote balance that no kick can reach. */
async function expectNoStrandedDebt(vault: PerpVault, extra: string[] = []): Promise<void> {
  for (const a of await accountsWith(extra)) {
    const balance = await vault.quoteBalance(a);
    if (balance >= 0n || (await vault.isInLiquidation(a))) continue;
    const markets = await vault.accountMarkets(a);
    const tokens = await vault.collateralTokens();
    let collateral = 0n;
    for (const t of tokens.slice(1)) collateral += await vault.collateralBalance(a, t);
    expect(
      markets.length + (collateral > 0n ? 1 : 0),
      `${a}: debt ${usd(balance)} with nothing to kick`,
    ).to.be.greaterThan(0);
  }
}

describe("attacks: review of 37bdf39", () => {
  describe("1 (critical): a bidder in liquidation takes collateral lots", () => {
    async function scene() {
      const w = await deployAuctionWorld();
      const [victim, keeper, frozen, receiver] = w.traders;
      await makeCollateralDebtor(w, victim, 10n * WAD, 27_000n * WAD);
      const lot = await kick(w, keeper, victim.address);
      // The bidder: an 18.75× ETH long kicked into its own auction after ETH falls 3.3%.
      await openLeveraged(w, frozen, ETH_USD, 16_000, 100n * WAD);
      await w.ethFeed.setAnswer(e8(2_900));
      await kick(w, keeper, frozen.address);
      return { w, victim, frozen, receiver, id: lot.id, lot: lot.lot };
    }

    it("attack: the frozen bidder's take reverts AccountInLiquidation; nothing moves", async () => {
      const { w, frozen, receiver, id, lot } = await loadFixture(scene);
      expect(await w.vault.isInLiquidation(frozen.address)).to.equal(true);
      const before = await w.vault.quoteBalance(frozen.address);
      await expect(w.auction.connect(frozen).take(id, lot, ethers.MaxUint256, receiver.address, "0x"))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(frozen.address);
      expect(await w.weth.balanceOf(receiver.address)).to.equal(1_000n * WAD); // its own, untouched
      expect(await w.vault.quoteBalance(frozen.address)).to.equal(before);
      await expectSolvent(w.vault);
    });

    it("a free bidder still takes the same lot, paying from its balance", async () => {
      const { w, victim, receiver, id, lot } = await loadFixture(scene);
      const bidder = w.traders[4];
      await depositUsd(w, bidder, 100_000n);
      const before = await w.weth.balanceOf(receiver.address);
      await w.auction.connect(bidder).take(id, lot, ethers.MaxUint256, receiver.address, "0x");
      expect(await w.weth.balanceOf(receiver.address)).to.be.greaterThan(before);
      expect(await w.vault.quoteBalance(bidder.address)).to.be.greaterThan(0n);
      expect(await w.vault.quoteBalance(victim.address)).to.be.at.least(0n);
      await expectSolvent(w.vault);
    });

    it("attack: a free bidder cannot pay for collateral with the margin of its own positions", async () => {
      const { w, id, lot } = await loadFixture(scene);
      const bidder = w.traders[4];
      // $30,000 of quote backing a 20× ETH long: paying ~$27,000 for the lot would leave it far
      // below IM, as a withdrawal of that much would.
      await openLeveraged(w, bidder, ETH_USD, 30_000, 200n * WAD);
      await expect(
        w.auction.connect(bidder).take(id, lot, ethers.MaxUint256, bidder.address, "0x"),
      ).to.be.revertedWithCustomError(w.vault, "Undercollateralized");
      await expectSolvent(w.vault);
    });

    it("the lot's own account in liquidation still pays its keeper's redo reward below zero", async () => {
      const { w, victim, id } = await loadFixture(scene);
      const keeper = w.traders[1];
      await time.increase(Number((await w.auction.params()).tailSec) + 1);
      await w.ethFeed.setAnswer(e8(2_900));
      const before = await w.vault.quoteBalance(keeper.address);
      const victimBefore = await w.vault.quoteBalance(victim.address);
      expect(victimBefore).to.be.lessThan(0n); // already in debt: the reward takes it further below zero
      await w.auction.connect(keeper).redo(id);
      const reward = (await w.vault.quoteBalance(keeper.address)) - before;
      expect(reward).to.be.greaterThan(0n);
      expect(await w.vault.quoteBalance(victim.address)).to.equal(victimBefore - reward);
    });
  });

  describe("2 (high): LP share price inflated atomically through the skew premium", () => {
    async function scene() {
      // Funding velocity zero, so that a trade's effect on pool value is its fee alone, to the wei.
      const w = await deployAuctionWorld();
      const attacker = await ethers.deployContract("MockSkewAttacker", [
        await w.vault.getAddress(),
        await w.pool.getAddress(),
      ]);
      return { w, attacker };
    }

    // A flash-funded $110M: $90M into the pool (so the OI cap rises to $100M), $20M of margin for
    // a 33,000 ETH ($99M) long, 1.65% of the ETH market's skew scale.
    const LP = usdc(90_000_000);
    const MARGIN = usdc(20_000_000);
    const SIZE = 33_000n * WAD;

    it("attack: deposit → open → redeem → close → withdraw in one transaction loses money, repeatedly", async () => {
      const { w, attacker } = await loadFixture(scene);
      const addr = await attacker.getAddress();
      const lpValue0 = await w.pool.convertToAssets(await w.pool.balanceOf(w.lp.address));
      for (let round = 0; round < 3; round++) {
        await w.usdc.mint(addr, LP + MARGIN);
        const funds = await w.usdc.balanceOf(addr);
        const sharesBefore = await w.pool.balanceOf(addr);
        const heldBefore = funds + (await w.pool.previewRedeem(sharesBefore));
        await (await attacker.attack(ETH_USD, LP, MARGIN, SIZE)).wait();
        const heldAfter = (await w.usdc.balanceOf(addr)) + (await w.pool.previewRedeem(await w.pool.balanceOf(addr)));
        // Every share it still holds is valued at the post-attack price: the round trip costs it
        // fees, minus its share of them as an LP.
        expect(heldAfter, `round ${round}`).to.be.lessThan(heldBefore);
      }
      // The honest LP is never worse off: the attacker's fees stayed in the pool.
      expect(await w.pool.convertToAssets(await w.pool.balanceOf(w.lp.address))).to.be.at.least(lpValue0);
      await expectSolvent(w.vault, [addr]);
    });

    it("a trade moves pool value by the pool's share of its fee, whatever the skew it leaves", async () => {
      const { w } = await loadFixture(scene);
      const trader = w.traders[0];
      await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(1_000_000));
      for (const size of [3_000n * WAD, -1_000n * WAD, -4_500n * WAD, 2_500n * WAD]) {
        const value0 = await w.vault.poolValue();
        const balance0 = await w.vault.poolBalance();
        await w.vault.connect(trader).trade(ETH_USD, size, size > 0n ? ethers.MaxUint256 : 0n);
        const feeToPool = (await w.vault.poolBalance()) - balance0 - (await realisedPnlToPool(w.vault, trader.address));
        const moved = (await w.vault.poolValue()) - value0;
        // The exit mark rounds up (against the pool) by at most a few wei per market.
        expect(moved, `size ${size}`).to.be.within(feeToPool - 10n, feeToPool + 10n);
      }
    });
  });

  describe("3 (high): an underwater account closes its own positions to strand its debt", () => {
    async function scene() {
      const w = await deployAuctionWorld();
      const trader = w.traders[0];
      await openLeveraged(w, trader, ETH_USD, 16_000, 100n * WAD);
      await w.ethFeed.setAnswer(e8(2_800)); // −$20,000 on $16,000 of margin
      return { w, trader };
    }

    it("attack: the closing trade settles the debt through the waterfall at once; nothing is left to withdraw", async () => {
      const { w, trader } = await loadFixture(scene);
      expect((await w.vault.accountHealth(trader.address)).equityWad).to.be.lessThan(0n);
      const insurance0 = BigInt(await w.vault.insuranceBalance());
      const tx = w.vault.connect(trader).trade(ETH_USD, -100n * WAD, 0n);
      await expect(tx).to.emit(w.vault, "ShortfallSettled");
      expect(await w.vault.quoteBalance(trader.address)).to.equal(0n);
      expect(BigInt(await w.vault.insuranceBalance())).to.be.lessThan(insurance0);
      await expectNoStrandedDebt(w.vault);
      // Every positive claim is backed by a token the vault holds: the last withdrawer is paid.
      await expectSolvent(w.vault);
      const lp = w.lp;
      const max = await w.pool.maxWithdraw(lp.address);
      await w.pool.connect(lp).withdraw(max, lp.address, lp.address);
    });

    it("a partial reduce, or a close that stays solvent, settles nothing", async () => {
      const { w, trader } = await loadFixture(scene);
      await expect(w.vault.connect(trader).trade(ETH_USD, -50n * WAD, 0n)).not.to.emit(w.vault, "ShortfallSettled");
      const other = w.traders[1];
      await openLeveraged(w, other, ETH_USD, 50_000, 10n * WAD);
      await expect(w.vault.connect(other).trade(ETH_USD, -10n * WAD, 0n)).not.to.emit(w.vault, "ShortfallSettled");
      expect(await w.vault.quoteBalance(other.address)).to.be.greaterThan(0n);
    });
  });

  describe("4 (medium): a 1-wei position in a lower-index market shields a whale", () => {
    async function scene() {
      const w = await deployAuctionWorld();
      const whale = w.traders[0];
      await depositUsd(w, whale, 100_000n);
      await w.vault.connect(whale).trade(ETH_USD, 1n, ethers.MaxUint256);
      await w.vault.connect(whale).trade(BTC_USD, 25n * WAD, ethers.MaxUint256); // $1.5M at $60,000
      await w.btcFeed.setAnswer(e8(57_000)); // −$75,000
      return { w, whale };
    }

    it("attack: the kick takes the largest position (BTC), not the dust in ETH-USD", async () => {
      const { w, whale } = await loadFixture(scene);
      expect((await w.vault.marketIds())[0]).to.equal(ETH_USD);
      const k = await kick(w, w.traders[1], whale.address);
      expect(k.key).to.equal(BTC_USD);
      expect(k.lot).to.be.greaterThan(WAD); // a real slice of the 25 BTC
      expect((await w.vault.getPosition(whale.address, ETH_USD)).sizeWad).to.equal(1n);
    });

    it("among equal notionals the lowest market index is the target", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const t = w.traders[2];
      await depositUsd(w, t, 62_000n);
      await w.vault.connect(t).trade(ETH_USD, 200n * WAD, ethers.MaxUint256); // $600,000
      await w.vault.connect(t).trade(BTC_USD, 10n * WAD, ethers.MaxUint256); // $600,000
      await w.ethFeed.setAnswer(e8(2_910)); // both −3%: still $582,000 each
      await w.btcFeed.setAnswer(e8(58_200));
      const snap = await w.vault.kickSnapshot(t.address);
      expect(snap.liquidatable).to.equal(true);
      expect(snap.target.marketId).to.equal(ETH_USD);
    });
  });

  describe("5 (medium): dust takes hold a market at level 2 past maxPauseSec", () => {
    /** A lot kicked at $2,900 and aged until takes clear more than 8% below the oracle. */
    async function deepLot(w: Awaited<ReturnType<typeof deployAuctionWorld>>, collateralUsd: number, size: bigint) {
      const victim = w.traders[0];
      await openLeveraged(w, victim, ETH_USD, collateralUsd, size);
      await w.ethFeed.setAnswer(e8(2_900));
      const k = await kick(w, w.traders[1], victim.address);
      await time.increase(540); // stairstep 0.998 / 12 s: 45 steps, a factor of 0.914
      await w.ethFeed.setAnswer(e8(2_900));
      return k;
    }

    it("attack: a take of less than reportMinNotionalWad ($10,000 of tab) at a deep discount trips nothing", async () => {
      const w = await loadFixture(deployAuctionWorld);
      expect((await w.auction.breakerConfig()).reportMinNotionalWad).to.equal(10_000n * WAD);
      const k = await deepLot(w, 500, 3n * WAD); // a $9,000 position: its lot's tab is below $10,000
      expect(k.tabWad).to.be.lessThan(10_000n * WAD);
      const bidder = w.traders[2];
      await depositUsd(w, bidder, 100_000n);
      const [price] = await w.auction.auctionStatus(k.id);
      expect(price).to.be.lessThan((2_900n * WAD * 92n) / 100n);
      await expect(w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x")).not.to.emit(
        w.breaker,
        "LevelChanged",
      );
      expect(await w.vault.breakerLevel(ETH_USD)).to.equal(0);
    });

    it("a take of a real lot at the same discount still trips level 2", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const k = await deepLot(w, 16_000, 100n * WAD);
      expect(k.tabWad).to.be.greaterThan(10_000n * WAD);
      const bidder = w.traders[2];
      await depositUsd(w, bidder, 500_000n);
      await w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x");
      expect(await w.vault.breakerLevel(ETH_USD)).to.equal(2);
    });

    it("attack: reports every 10 minutes for 6 hours never move the hard end, and the key's pause budget caps the total", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const reporter = w.traders[6];
      await w.breaker.connect(w.admin).grantRole(await w.breaker.REPORTER_ROLE(), reporter.address);
      const p = await w.breaker.params();
      const start = BigInt(await time.latest()) + 10n;
      let paused = 0n;
      let spent = 0;
      for (let t = 0n; t < 6n * 3_600n; t += 600n) {
        await time.setNextBlockTimestamp(start + t);
        const tx = await w.breaker.connect(reporter).reportAuctionHealth(ETH_USD, wad(0.1), wad(0.08), false);
        const receipt = (await tx.wait())!;
        if (receipt.logs.some((l) => w.breaker.interface.parseLog(l)?.name === "AutoPauseBudgetSpent")) spent++;
        const word = await w.breaker.stateOf(ETH_USD);
        const end = (word >> 64n) & 0xffffffffn;
        // The hard end of the episode is never more than maxPauseSec after the episode began.
        const e = await w.breaker.episodes(ETH_USD);
        if (e.since !== 0n) expect(end - e.since).to.be.at.most(p.maxPauseSec);
        if ((await w.vault.breakerLevel(ETH_USD)) >= 2n) paused += 600n;
      }
      // 36 reports: before the fix the market stayed at level 2 all 6 hours. Now at most the budget,
      // two maxPauseSec per guardianRearmSec window, and the reports past it say so.
      expect(paused).to.be.at.most(2n * p.maxPauseSec);
      expect(paused).to.be.greaterThan(0n);
      expect(spent).to.be.greaterThan(0);
    });
  });

  describe("7 (low): a guardian alternating two market keys keeps LP exits shut", () => {
    it("attack: after a trip of one market the guardian cannot trip another before guardianRearmSec", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const guardian = w.traders[7];
      await w.breaker.connect(w.admin).grantRole(await w.breaker.GUARDIAN_ROLE(), guardian.address);
      const p = await w.breaker.params();
      await w.breaker.connect(guardian).trip(ETH_USD, 2);
      const t0 = BigInt(await time.latest());
      await time.setNextBlockTimestamp(t0 + BigInt(p.maxPauseSec));
      await expect(w.breaker.connect(guardian).trip(BTC_USD, 2))
        .to.be.revertedWithCustomError(w.breaker, "GuardianRearming")
        .withArgs(BTC_USD, t0 + BigInt(p.guardianRearmSec));
      // LP exits reopen when the one trip ends.
      await time.setNextBlockTimestamp(t0 + BigInt(p.maxPauseSec) + 1n);
      await w.pool.connect(w.lp).withdraw(usdc(1_000), w.lp.address, w.lp.address);
    });
  });

  describe("8 (low): volatile collateral deposited for an account in liquidation", () => {
    it("attack: 1 wei of WETH for an account in liquidation reverts; quote still may be added", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const [victim, keeper, griefer] = w.traders;
      await openLeveraged(w, victim, ETH_USD, 16_000, 100n * WAD);
      await w.ethFeed.setAnswer(e8(2_900));
      await kick(w, keeper, victim.address);
      await expect(w.vault.connect(griefer).depositFor(victim.address, await w.weth.getAddress(), 1n))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(victim.address);
      await w.vault.connect(griefer).depositFor(victim.address, await w.usdc.getAddress(), usdc(1));
      expect((await w.vault.accountHealth(victim.address)).collateralValueWad).to.equal(0n);
    });
  });

  describe("9 (info): a sequencer feed with no valid round", () => {
    it("a round with startedAt 0 is distrusted: getPrice reverts SequencerDown", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const feed = await ethers.deployContract("MockAggregator", [0, "sequencer", 0]);
      await feed.setRoundData(0, 0);
      await w.oracle.connect(w.admin).setSequencerFeed(feed, 3_600);
      await expect(w.oracle.getPrice(await w.weth.getAddress())).to.be.revertedWithCustomError(
        w.oracle,
        "SequencerDown",
      );
      const [, status] = await w.oracle.tryGetPrice(await w.weth.getAddress());
      expect(status).to.equal(5n); // OracleStatus.SequencerDown
    });
  });
});

/** The part of the pool's balance change in the last trade that was the trader's realised PnL. */
async function realisedPnlToPool(vault: PerpVault, trader: string): Promise<bigint> {
  const block = await ethers.provider.getBlockNumber();
  const [ev] = await vault.queryFilter(vault.filters.Traded(trader), block, block);
  return -ev.args.realizedPnlWad + ev.args.fundingPaidWad;
}

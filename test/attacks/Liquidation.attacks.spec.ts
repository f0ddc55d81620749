import { expect } from "chai";
import { ethers } from "hardhat";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { BTC_USD, ETH_USD, WAD, e8, openLeveraged, usdc, wad, type World } from "../shared/local-world";
import { deployAuctionWorld, depositUsd, kick, makeCollateralDebtor, rpow } from "../shared/auction-math";
import { expectSolvent, netWorth, protocolValue } from "./helpers";
import type { MockGriefingTaker } from "../../typechain-types";

/**
 * Attacks on the liquidation path: self-liquidation, sniping, hostile take callbacks, dust lots,
 * keeper farming and keeper gas griefing. After each, the vault's tokens match its ledger to the
 * wei, and the attacker's accounts together are worth no more than before.
 */

const CRASH = 2_900; // −3.3%: an 18.75× long falls below maintenance
const MODE = { None: 0n, Revert: 1n, BurnGas: 2n, WithdrawQuote: 3n };

interface Scene {
  w: World;
  victim: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  bidder: HardhatEthersSigner;
}

/** An 18.75× ETH long, liquidatable after ETH falls to $2,900; a keeper and a funded bidder. */
async function scene(): Promise<Scene> {
  const w = await deployAuctionWorld();
  const [victim, keeper, bidder] = w.traders;
  await openLeveraged(w, victim, ETH_USD, 16_000, 100n * WAD);
  await depositUsd(w, bidder, 200_000n);
  await w.ethFeed.setAnswer(e8(CRASH));
  return { w, victim, keeper, bidder };
}

/** A collateral debtor (10 WETH against a $27,000 debt) kicked into a WETH collateral auction. */
async function collateralScene(): Promise<Scene & { id: bigint }> {
  const w = await deployAuctionWorld();
  const [victim, keeper, bidder] = w.traders;
  await makeCollateralDebtor(w, victim, 10n * WAD, 27_000n * WAD);
  await depositUsd(w, bidder, 200_000n);
  const k = await kick(w, keeper, victim.address);
  return { w, victim, keeper, bidder, id: k.id };
}

async function griefer(w: World, fundUsd: bigint): Promise<MockGriefingTaker> {
  const g = await ethers.deployContract("MockGriefingTaker", [
    await w.auction.getAddress(),
    await w.vault.getAddress(),
  ]);
  await w.usdc.mint(await g.getAddress(), usdc(Number(fundUsd)));
  await g.depositToVault(await w.usdc.getAddress(), usdc(Number(fundUsd)));
  return g;
}

const auctionOf = async (w: World, id: bigint) => {
  const [, , a] = await w.auction.auctionStatus(id);
  return { lot: BigInt(a.lot), tab: a.tabWad, start: a.startTime, resets: a.resets };
};

describe("attacks: liquidation", () => {
  it("attack: flash-loan self-liquidation: kicking yourself and taking your own lot with a second account gains nothing", async () => {
    const { w, victim: self, keeper: myKeeper, bidder: myBidder } = await loadFixture(scene);
    const group = [self.address, myKeeper.address, myBidder.address];
    const before = await netWorth(w, group);
    const protocolBefore = await protocolValue(w);
    const k = await kick(w, myKeeper, self.address);
    expect(k.rewardWad).to.be.at.most(k.penaltyWad);
    // Take the whole lot at once, and again after the price has decayed (the bidder's discount
    // is the account's loss: inside the group it nets out).
    const snap = await takeSnapshot();
    await w.auction.connect(myBidder).take(k.id, k.lot, ethers.MaxUint256, myBidder.address, "0x");
    const afterNow = await netWorth(w, group);
    expect(afterNow).to.be.at.most(before);
    expect(before - afterNow).to.be.closeTo(k.penaltyWad - k.rewardWad, 10n); // the insurance fund's share
    expect(await protocolValue(w)).to.be.at.least(protocolBefore);
    await expectSolvent(w.vault);
    await snap.restore();
    await time.increase(300);
    await w.ethFeed.setAnswer(e8(CRASH));
    await w.auction.connect(myBidder).take(k.id, k.lot, ethers.MaxUint256, myBidder.address, "0x");
    expect(await netWorth(w, group)).to.be.at.most(before);
    expect(await protocolValue(w)).to.be.at.least(protocolBefore);
    await expectSolvent(w.vault);
  });

  it("attack: self-take: an account cannot buy its own position lot or collateral lot", async () => {
    const { w, victim, keeper } = await loadFixture(scene);
    const k = await kick(w, keeper, victim.address);
    await depositUsd(w, victim, 100_000n); // deposits stay open in liquidation: enough for IM
    await expect(w.auction.connect(victim).take(k.id, k.lot, ethers.MaxUint256, victim.address, "0x"))
      .to.be.revertedWithCustomError(w.vault, "SelfTransfer")
      .withArgs(victim.address);
    const c = await loadFixture(collateralScene);
    await depositUsd(c.w, c.victim, 1n);
    await expect(
      c.w.auction.connect(c.victim).take(c.id, 10n * WAD, ethers.MaxUint256, c.victim.address, "0x"),
    ).to.be.revertedWithCustomError(c.w.vault, "SelfTransfer");
    await expectSolvent(c.w.vault);
  });

  it("attack: auction sniping: the first bidder pays exactly the curve price, and a limit better than the curve never fills", async () => {
    const { w, victim, keeper, bidder } = await loadFixture(scene);
    const k = await kick(w, keeper, victim.address);
    const oracle = BigInt(CRASH) * WAD;
    // One wei better than the curve (m = 1 in the first 12 s): refused.
    await time.setNextBlockTimestamp(k.timestamp + 1n);
    await expect(w.auction.connect(bidder).take(k.id, k.lot, oracle - 1n, bidder.address, "0x"))
      .to.be.revertedWithCustomError(w.auction, "PriceLimitExceeded")
      .withArgs(k.id, oracle, oracle - 1n);
    const at = k.timestamp + 61n; // five steps
    await time.setNextBlockTimestamp(at);
    const expected = (oracle * rpow(wad(0.998), 5n)) / WAD; // long lot: ⌊oracle × m⌋
    await expect(w.auction.connect(bidder).take(k.id, k.lot / 2n, expected, bidder.address, "0x"))
      .to.emit(w.auction, "Take")
      .withArgs(k.id, bidder.address, k.lot / 2n, expected, 0n, k.lot - k.lot / 2n);
    await expectSolvent(w.vault);
  });

  for (const [attack, name] of [
    [0n, "take"],
    [1n, "kick"],
    [2n, "redo"],
  ] as const) {
    it(`attack: re-entrant taker: a callback that re-enters ${name} reverts and leaves the auction as it was`, async () => {
      const { w, victim, keeper, bidder } = await loadFixture(scene);
      const k = await kick(w, keeper, victim.address);
      const taker = await ethers.deployContract("MockReentrantTaker", [await w.auction.getAddress()]);
      await taker.arm(attack, victim.address);
      const before = await auctionOf(w, k.id);
      await expect(
        w.auction.connect(bidder).take(k.id, k.lot / 2n, ethers.MaxUint256, await taker.getAddress(), "0x01"),
      ).to.be.revertedWithCustomError(w.auction, "ReentrancyGuardReentrantCall");
      expect(await auctionOf(w, k.id)).to.deep.equal(before);
      expect((await w.vault.getPosition(bidder.address, ETH_USD)).sizeWad).to.equal(0n);
      await expectSolvent(w.vault, [await taker.getAddress()]);
    });
  }

  it("attack: reverting taker: a bidder whose callback reverts blocks nobody; an honest bidder takes next", async () => {
    const { w, victim, keeper, bidder } = await loadFixture(scene);
    const k = await kick(w, keeper, victim.address);
    const g = await griefer(w, 100_000n);
    await g.setMode(MODE.Revert);
    await expect(g.bid(k.id, k.lot, ethers.MaxUint256, "0x01"))
      .to.be.revertedWithCustomError(g, "Griefed")
      .withArgs(k.id);
    expect((await auctionOf(w, k.id)).lot).to.equal(k.lot);
    await w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x");
    expect((await auctionOf(w, k.id)).lot).to.equal(0n);
    await expectSolvent(w.vault, [await g.getAddress()]);
  });

  it("attack: gas-burning taker: the griefer pays for the gas it burns, the lot clears at the curve price, and the next kick costs the usual gas", async () => {
    const { w, victim, keeper } = await loadFixture(scene);
    const k = await kick(w, keeper, victim.address);
    const g = await griefer(w, 100_000n);
    await g.setMode(MODE.BurnGas);
    const tx = await g.bid(k.id, k.lot, ethers.MaxUint256, "0x01", { gasLimit: 8_000_000 });
    const receipt = (await tx.wait())!;
    expect(receipt.gasUsed).to.be.greaterThan(7_000_000n); // burned, and paid, by the griefer
    expect(await g.burned()).to.be.greaterThan(0n);
    const [take] = await w.auction.queryFilter(w.auction.filters.Take(k.id), receipt.blockNumber);
    expect(take.args.priceWad).to.equal(BigInt(CRASH) * WAD); // m = 1 within the first step
    expect((await auctionOf(w, k.id)).lot).to.equal(0n);
    await expectSolvent(w.vault, [await g.getAddress()]);
  });

  it("attack: taker pulls its money out inside the callback: the take reverts InsufficientBalance and nothing moves", async () => {
    const { w, id, bidder } = await loadFixture(collateralScene);
    const g = await griefer(w, 100_000n);
    await g.setMode(MODE.WithdrawQuote);
    const before = await auctionOf(w, id);
    const gAddr = await g.getAddress();
    await expect(g.bid(id, before.lot, ethers.MaxUint256, "0x01")).to.be.revertedWithCustomError(
      w.vault,
      "InsufficientBalance",
    );
    expect(await auctionOf(w, id)).to.deep.equal(before);
    expect(await w.weth.balanceOf(gAddr)).to.equal(0n);
    expect(await w.vault.quoteBalance(gAddr)).to.equal(100_000n * WAD);
    // The same bid without the trick pays the curve price for the collateral.
    await w.auction.connect(bidder).take(id, before.lot, ethers.MaxUint256, bidder.address, "0x");
    expect((await auctionOf(w, id)).lot).to.equal(0n);
    await expectSolvent(w.vault, [gAddr]);
  });

  it("attack: dust griefing: a tiny account is auctioned whole (no lot smaller than it), and a take cannot leave a dust remainder", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const [tiny, keeper, bidder] = w.traders;
    await openLeveraged(w, tiny, ETH_USD, 10, WAD / 100n); // $30 of ETH on $10
    await depositUsd(w, bidder, 10_000n);
    await w.ethFeed.setAnswer(e8(2_500));
    const k = await kick(w, keeper, tiny.address);
    expect(k.lot).to.equal(WAD / 100n); // the whole position
    expect(k.tabWad).to.be.lessThan(100n * WAD); // below dust: a tiny account can only make a tiny lot
    expect(k.rewardWad).to.equal(k.penaltyWad); // the keeper gets the whole 1% penalty (cents), no more

    // A large account: a partial take that would leave less than dust of tab is refused.
    const [, , , whale] = w.traders;
    await w.ethFeed.setAnswer(e8(3_000));
    await openLeveraged(w, whale, ETH_USD, 16_000, 100n * WAD);
    await w.ethFeed.setAnswer(e8(CRASH));
    const big = await kick(w, keeper, whale.address);
    const tooMuch = big.lot - (big.lot * 50n * WAD) / big.tabWad; // leaves ~$50 of tab
    await expect(
      w.auction.connect(bidder).take(big.id, tooMuch, ethers.MaxUint256, bidder.address, "0x"),
    ).to.be.revertedWithCustomError(w.auction, "DustRemainder");
    await expectSolvent(w.vault);
  });

  it("attack: keeper farming on dust lots: a redo of a lot below dust pays nothing, and the backstop pays nothing", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const [tiny, keeper] = w.traders;
    await openLeveraged(w, tiny, ETH_USD, 10, WAD / 100n);
    await w.ethFeed.setAnswer(e8(2_500));
    const k = await kick(w, keeper, tiny.address);
    const quoteBefore = await w.vault.quoteBalance(keeper.address);
    for (let i = 0; i < 3; i++) {
      await time.increase(1_801);
      await w.ethFeed.setAnswer(e8(2_500));
      await w.auction.connect(keeper).redo(k.id);
    }
    expect(await w.vault.quoteBalance(keeper.address)).to.equal(quoteBefore);
    expect((await auctionOf(w, k.id)).lot).to.equal(0n); // the third redo ran the backstop
    await expectSolvent(w.vault);
  });

  it("attack: redo farming: a live auction cannot be redone, rewards stop after maxResets, and the backstop pays no reward", async () => {
    const { w, victim, keeper } = await loadFixture(scene);
    const k = await kick(w, keeper, victim.address);
    await expect(w.auction.connect(keeper).redo(k.id)).to.be.revertedWithCustomError(w.auction, "AuctionNotStale");
    const p = await w.auction.params();
    let rewards = 0n;
    for (let i = 0n; i < p.maxResets; i++) {
      await time.increase(1_801);
      await w.ethFeed.setAnswer(e8(CRASH));
      const receipt = (await (await w.auction.connect(keeper).redo(k.id)).wait())!;
      const [redo] = await w.auction.queryFilter(w.auction.filters.Redo(k.id), receipt.blockNumber);
      rewards += redo.args.rewardWad;
      await expect(w.auction.connect(keeper).redo(k.id)).to.be.revertedWithCustomError(w.auction, "AuctionNotStale");
    }
    expect(rewards).to.be.at.most(p.maxResets * p.rewardCapWad);
    await time.increase(1_801);
    await w.ethFeed.setAnswer(e8(CRASH));
    const before = await w.vault.quoteBalance(keeper.address);
    await expect(w.auction.connect(keeper).redo(k.id))
      .to.emit(w.auction, "Backstop")
      .and.not.to.emit(w.auction, "Redo");
    expect(await w.vault.quoteBalance(keeper.address)).to.equal(before);
    await expectSolvent(w.vault);
  });

  it("attack: unfair kick: a healthy account cannot be kicked, and a kicked account cannot be kicked again for a second penalty", async () => {
    const { w, victim, keeper } = await loadFixture(scene);
    const healthy = w.traders[4];
    await openLeveraged(w, healthy, ETH_USD, 40_000, 100n * WAD);
    const h = await w.vault.accountHealth(healthy.address);
    await expect(w.auction.connect(keeper).kick(healthy.address))
      .to.be.revertedWithCustomError(w.auction, "NotLiquidatable")
      .withArgs(healthy.address, h.equityWad, h.maintenanceMarginWad);
    await kick(w, keeper, victim.address);
    const quote = await w.vault.quoteBalance(victim.address);
    await expect(w.auction.connect(keeper).kick(victim.address)).to.be.revertedWithCustomError(
      w.auction,
      "NothingToLiquidate",
    );
    expect(await w.vault.quoteBalance(victim.address)).to.equal(quote);
    await expectSolvent(w.vault);
  });

  it("attack: keeper gas griefing: kick and take cost the same whether 0 or 5 other accounts hold positions (O(1) in accounts)", async () => {
    const { w, victim, keeper, bidder } = await loadFixture(scene);
    const measure = async (): Promise<[bigint, bigint]> => {
      const k = await kick(w, keeper, victim.address);
      const r = (await (
        await w.auction.connect(bidder).take(k.id, k.lot, ethers.MaxUint256, bidder.address, "0x")
      ).wait())!;
      return [k.receipt.gasUsed, r.gasUsed];
    };
    const snap = await takeSnapshot();
    const alone = await measure();
    await snap.restore();
    await w.ethFeed.setAnswer(e8(3_000));
    for (const t of w.traders.slice(3, 8)) {
      await openLeveraged(w, t, ETH_USD, 50_000, 10n * WAD);
      await w.vault.connect(t).trade(BTC_USD, -WAD, 0n);
    }
    await w.ethFeed.setAnswer(e8(CRASH));
    const crowded = await measure();
    for (let i = 0; i < 2; i++) {
      const diff = alone[i] > crowded[i] ? alone[i] - crowded[i] : crowded[i] - alone[i];
      expect(diff * 100n, `op ${i}: ${alone[i]} vs ${crowded[i]}`).to.be.at.most(alone[i]); // within 1%
    }
    await expectSolvent(w.vault);
  });
});

import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ETH_USD, usdc, WAD, type World } from "../shared/local-world";
import { currentParams, deployAuctionWorld, setAuctionParams, setEthPriceWad } from "../shared/auction-math";

/**
 * [solvency] item 3: an LP cannot leave at a share price that still holds a loss the protocol
 * already knows is coming. Here the pool takes over an underwater account that still holds WETH,
 * so its debt is settled only when the collateral auction ends (and, unbid, the backstop leaves
 * part of it to the LPs). An LP who sees the takeover and runs used to exit at the share price
 * from before the socialised shortfall; now its exit queues and is paid at the price of the claim.
 */

interface Scene {
  w: World;
  debtor: HardhatEthersSigner;
  runner: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  shares: bigint;
}

async function takenOver(): Promise<Scene> {
  const w = await deployAuctionWorld();
  const [debtor, runner, keeper] = w.traders;
  await setAuctionParams(w, { poolTakeover: true });
  // The runner: a $1M LP next to the fixture's $10M.
  await w.usdc.connect(runner).approve(await w.pool.getAddress(), ethers.MaxUint256);
  await w.pool.connect(runner).deposit(usdc(1_000_000), runner.address);
  // 20 WETH backing a 100 ETH long at $3,000; at $2,500 its equity is negative.
  await w.vault.connect(debtor).deposit(await w.weth.getAddress(), 20n * WAD);
  await w.vault.connect(debtor).trade(ETH_USD, 100n * WAD, ethers.MaxUint256);
  await setEthPriceWad(w, 2_500n * WAD);
  await w.auction.connect(keeper).kick(debtor.address);
  return { w, debtor, runner, keeper, shares: await w.pool.balanceOf(runner.address) };
}

/** Runs the debtor's collateral lot, unbid, to the backstop: its shortfall is then socialised. */
async function backstopCollateral(s: Scene): Promise<void> {
  const { w } = s;
  const tx = await w.auction.connect(s.keeper).kick(s.debtor.address);
  const r = (await tx.wait())!;
  const [ev] = await w.auction.queryFilter(w.auction.filters.Kick(), r.blockNumber, r.blockNumber);
  const p = await currentParams(w);
  for (let i = 0; i <= Number(p.maxResets); i++) {
    await time.increase(Number(p.tailSec) + 1);
    await setEthPriceWad(w, 2_500n * WAD); // a fresh round
    await w.auction.connect(s.keeper).redo(ev.args.id);
  }
  expect((await w.auction.auctionStatus(ev.args.id))[2].lot).to.equal(0n);
}

describe("Attack: exit ahead of a socialised shortfall", () => {
  it("the takeover leaves an unsettled debt backed by WETH (the loss is coming, not yet booked)", async () => {
    const s = await loadFixture(takenOver);
    expect((await s.w.vault.getPosition(s.debtor.address, ETH_USD)).sizeWad).to.equal(0n);
    expect(await s.w.vault.quoteBalance(s.debtor.address)).to.be.lessThan(0n);
    expect(await s.w.vault.collateralBalance(s.debtor.address, await s.w.weth.getAddress())).to.equal(20n * WAD);
  });

  it("a synchronous exit right after the takeover is refused with ExitQueued", async () => {
    const s = await loadFixture(takenOver);
    const [queued, level, until] = await s.w.pool.exitsQueued();
    expect(queued).to.equal(true);
    expect(level).to.equal(0n);
    expect(until).to.be.greaterThan(BigInt(await time.latest()));
    expect(await s.w.pool.maxRedeem(s.runner.address)).to.equal(0n);
    await expect(s.w.pool.connect(s.runner).redeem(s.shares, s.runner.address, s.runner.address))
      .to.be.revertedWithCustomError(s.w.pool, "ExitQueued")
      .withArgs(0n, until);
    await expect(
      s.w.pool.connect(s.runner).withdraw(usdc(1), s.runner.address, s.runner.address),
    ).to.be.revertedWithCustomError(s.w.pool, "ExitQueued");
  });

  it("the queued exit is paid at the post-settlement price: running ahead of the shortfall no longer pays", async () => {
    const s = await loadFixture(takenOver);
    const { w, runner } = s;
    const before = await w.pool.previewRedeem(s.shares); // what the run used to get
    const tx = w.pool.connect(runner).requestRedeem(s.shares, runner.address, runner.address);
    await expect(tx).to.emit(w.pool, "RedeemRequested");
    const id = await w.pool.lastRequestId();
    await expect(w.pool.connect(runner).claimRedeem(id)).to.be.revertedWithCustomError(w.pool, "RequestNotClaimable");
    // The shortfall is socialised while the request waits: escrowed shares share it.
    await expect(backstopCollateral(s)).to.not.be.reverted;
    const after = await w.pool.previewRedeem(s.shares);
    expect(after).to.be.lessThan(before);
    await time.increase(3600);
    const usdc0 = await w.usdc.balanceOf(runner.address);
    const expected = await w.pool.previewRedeem(s.shares);
    await expect(w.pool.connect(runner).claimRedeem(id)).to.emit(w.pool, "RedeemClaimed");
    const paid = (await w.usdc.balanceOf(runner.address)) - usdc0;
    // The claim's price is the post-settlement price (the next block's: funding is off here).
    expect(paid).to.equal(expected);
    expect(paid).to.be.lessThan(before);
    expect(await w.pool.balanceOf(await w.pool.getAddress())).to.equal(0n);
    expect((await w.pool.redeemRequest(id)).shares).to.equal(0n);
  });

  it("requests: only the owner claims or cancels; a cancel returns the shares", async () => {
    const s = await loadFixture(takenOver);
    const { w, runner, keeper } = s;
    await expect(
      w.pool.connect(runner).requestRedeem(0n, runner.address, runner.address),
    ).to.be.revertedWithCustomError(w.pool, "ZeroShares");
    await w.pool.connect(runner).requestRedeem(s.shares, runner.address, runner.address);
    const id = await w.pool.lastRequestId();
    await expect(w.pool.connect(keeper).cancelRedeem(id))
      .to.be.revertedWithCustomError(w.pool, "NotRequestOwner")
      .withArgs(id, keeper.address);
    await expect(w.pool.connect(runner).cancelRedeem(id))
      .to.emit(w.pool, "RedeemCancelled")
      .withArgs(id, runner.address, s.shares);
    expect(await w.pool.balanceOf(runner.address)).to.equal(s.shares);
    await expect(w.pool.connect(runner).claimRedeem(id))
      .to.be.revertedWithCustomError(w.pool, "UnknownRequest")
      .withArgs(id);
  });

  it("exits reopen an hour after the last takeover while the breaker is at normal", async () => {
    const s = await loadFixture(takenOver);
    await time.increase(3600);
    expect((await s.w.pool.exitsQueued())[0]).to.equal(false);
    await expect(s.w.pool.connect(s.runner).redeem(s.shares / 2n, s.runner.address, s.runner.address)).to.not.be
      .reverted;
    // Caution anywhere queues them again.
    await s.w.breaker.connect(s.w.admin).trip(ETH_USD, 1);
    await expect(s.w.pool.connect(s.runner).redeem(1n, s.runner.address, s.runner.address))
      .to.be.revertedWithCustomError(s.w.pool, "ExitQueued")
      .withArgs(1n, 0n);
  });
});

import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { deployWorld, ETH_USD, openLeveraged, setEthPrice, usdc, WAD } from "../shared/local-world";

describe("AuctionHouse smoke", () => {
  it("kicks an unhealthy long, and a bidder takes the lot in two parts", async () => {
    const w = await loadFixture(deployWorld);
    const [t, bidder] = w.traders;
    await openLeveraged(w, t, ETH_USD, 10_000, 60n * WAD); // ~18x
    await w.vault.connect(bidder).deposit(await w.usdc.getAddress(), usdc(200_000));
    await setEthPrice(w, 2880);
    const [liq] = await w.vault.isLiquidatable(t.address);
    expect(liq).to.equal(true);
    const id = await w.auction.kick.staticCall(t.address);
    await expect(w.auction.kick(t.address)).to.emit(w.auction, "Kick");
    const [price, stale, a] = await w.auction.auctionStatus(id);
    // A long lot, fresh: it asks the oracle price (buf = 1) and needs no redo.
    expect(a.lot).to.be.greaterThan(0n);
    expect(a.lot).to.be.lessThan(60n * WAD);
    expect(stale).to.equal(false);
    expect(price).to.equal(2880n * WAD);
    expect(await w.vault.isInLiquidation(t.address)).to.equal(true);
    const half = BigInt(a.lot) / 2n;
    await w.auction.connect(bidder).take(id, half, ethers.MaxUint256, bidder.address, "0x");
    expect((await w.vault.getPosition(bidder.address, ETH_USD)).sizeWad).to.equal(half);
    await w.auction.connect(bidder).take(id, BigInt(a.lot), ethers.MaxUint256, bidder.address, "0x");
    expect(await w.vault.isInLiquidation(t.address)).to.equal(false);
    const h = await w.vault.accountHealth(t.address);
    // Sold at the oracle price (the curve starts at buf = 1): the account is back at IM.
    expect(h.equityWad).to.be.greaterThanOrEqual(h.initialMarginWad);
  });
});

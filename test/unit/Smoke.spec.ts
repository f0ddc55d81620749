import { expect } from "chai";
import { ethers } from "hardhat";
import { mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { deployWorld, ETH_USD, openLeveraged, wad, WAD } from "../shared/local-world";

describe("smoke", () => {
  it("opens a long through the Ignition-deployed stack", async () => {
    const w = await loadFixture(deployWorld);
    const [t] = w.traders;
    await openLeveraged(w, t, ETH_USD, 10_000, 10n * WAD);
    const pos = await w.vault.getPosition(t.address, ETH_USD);
    expect(pos.sizeWad).to.equal(10n * WAD);
    expect(pos.entryPriceWad).to.be.greaterThan(wad(3000));
    const h = await w.vault.accountHealth(t.address);
    expect(h.initialMarginWad).to.be.greaterThan(0n);
  });
});

describe("test fixtures: clock", () => {
  it("a restored fixture continues from its own time, not the wall clock (no StalePrice on slow runs)", async () => {
    const w = await loadFixture(deployWorld);
    const at = (await ethers.provider.getBlock("latest"))!.timestamp;
    // Wall time passes between the snapshot and its reuse (an hour in a slow coverage run).
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const again = await loadFixture(deployWorld);
    await mine();
    // Hardhat's evm_revert keeps the wall clock running: plain loadFixture gives ≥ at + 5 here.
    expect((await ethers.provider.getBlock("latest"))!.timestamp).to.be.lessThan(at + 4);
    expect(await again.oracle.getPrice(await w.weth.getAddress())).to.be.greaterThan(0n);
  });
});

import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployWorld, ETH_USD, openLeveraged, wad, WAD } from "../shared/fixtures";

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

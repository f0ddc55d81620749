import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { BTC_USD, deployWorld, ETH_USD, wad, WAD } from "../shared/local-world";

const MIN_MMR = 5n * 10n ** 15n; // 0.5%
const MAX_MMR = WAD / 2n; // 50%
const MAX_IMR = WAD; // 100%
const SOL_USD = ethers.encodeBytes32String("SOL-USD");

async function freshEngine() {
  const [admin, stranger] = await ethers.getSigners();
  const engine = await (await ethers.getContractFactory("StaticRiskEngine")).deploy(admin.address);
  return { engine, admin, stranger };
}

describe("StaticRiskEngine", () => {
  it("exposes the documented bounds", async () => {
    const { engine } = await loadFixture(freshEngine);
    expect(await engine.MIN_MMR()).to.equal(MIN_MMR);
    expect(await engine.MAX_MMR()).to.equal(MAX_MMR);
    expect(await engine.MAX_IMR()).to.equal(MAX_IMR);
  });

  describe("setRatios bounds", () => {
    it("rejects mmr below 0.5%", async () => {
      const { engine } = await loadFixture(freshEngine);
      await expect(engine.setRatios(SOL_USD, wad(0.05), MIN_MMR - 1n))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, wad(0.05), MIN_MMR - 1n);
      await expect(engine.setRatios(SOL_USD, wad(0.05), 0n))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, wad(0.05), 0n);
      // The bound itself is accepted.
      await expect(engine.setRatios(SOL_USD, wad(0.01), MIN_MMR))
        .to.emit(engine, "RatiosSet")
        .withArgs(SOL_USD, wad(0.01), MIN_MMR);
    });

    it("rejects mmr above 50%", async () => {
      const { engine } = await loadFixture(freshEngine);
      await expect(engine.setRatios(SOL_USD, wad(0.9), MAX_MMR + 1n))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, wad(0.9), MAX_MMR + 1n);
      await expect(engine.setRatios(SOL_USD, wad(0.9), MAX_MMR))
        .to.emit(engine, "RatiosSet")
        .withArgs(SOL_USD, wad(0.9), MAX_MMR);
    });

    it("rejects imr ≤ mmr", async () => {
      const { engine } = await loadFixture(freshEngine);
      await expect(engine.setRatios(SOL_USD, wad(0.05), wad(0.05)))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, wad(0.05), wad(0.05));
      await expect(engine.setRatios(SOL_USD, wad(0.04), wad(0.05)))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, wad(0.04), wad(0.05));
      await expect(engine.setRatios(SOL_USD, 0n, wad(0.05)))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, 0n, wad(0.05));
      // One wei above mmr is enough.
      await expect(engine.setRatios(SOL_USD, wad(0.05) + 1n, wad(0.05))).to.emit(engine, "RatiosSet");
    });

    it("rejects imr above 100%", async () => {
      const { engine } = await loadFixture(freshEngine);
      await expect(engine.setRatios(SOL_USD, MAX_IMR + 1n, wad(0.1)))
        .to.be.revertedWithCustomError(engine, "InvalidRatios")
        .withArgs(SOL_USD, MAX_IMR + 1n, wad(0.1));
      await expect(engine.setRatios(SOL_USD, MAX_IMR, wad(0.1)))
        .to.emit(engine, "RatiosSet")
        .withArgs(SOL_USD, MAX_IMR, wad(0.1));
      const [imr, mmr] = await engine.marginRatios(SOL_USD, 0n);
      expect(imr).to.equal(MAX_IMR);
      expect(mmr).to.equal(wad(0.1));
    });

    it("a rejected update leaves the previous ratios in force", async () => {
      const { engine } = await loadFixture(freshEngine);
      await engine.setRatios(SOL_USD, wad(0.1), wad(0.05));
      await expect(engine.setRatios(SOL_USD, wad(0.05), wad(0.1))).to.be.revertedWithCustomError(
        engine,
        "InvalidRatios",
      );
      const r = await engine.ratiosOf(SOL_USD);
      expect(r.imrWad).to.equal(wad(0.1));
      expect(r.mmrWad).to.equal(wad(0.05));
    });
  });

  it("rejects a no-op update with NoChange, but accepts changing either ratio", async () => {
    const { engine } = await loadFixture(freshEngine);
    await engine.setRatios(SOL_USD, wad(0.1), wad(0.05));
    await expect(engine.setRatios(SOL_USD, wad(0.1), wad(0.05))).to.be.revertedWithCustomError(engine, "NoChange");
    await expect(engine.setRatios(SOL_USD, wad(0.1), wad(0.04)))
      .to.emit(engine, "RatiosSet")
      .withArgs(SOL_USD, wad(0.1), wad(0.04));
    await expect(engine.setRatios(SOL_USD, wad(0.2), wad(0.04)))
      .to.emit(engine, "RatiosSet")
      .withArgs(SOL_USD, wad(0.2), wad(0.04));
    const [imr, mmr] = await engine.marginRatios(SOL_USD, 123n * WAD);
    expect(imr).to.equal(wad(0.2));
    expect(mmr).to.equal(wad(0.04));
  });

  it("only RISK_ADMIN may set ratios", async () => {
    const { engine, admin, stranger } = await loadFixture(freshEngine);
    const role = await engine.RISK_ADMIN_ROLE();
    await expect(engine.connect(stranger).setRatios(SOL_USD, wad(0.1), wad(0.05)))
      .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, role);
    await engine.connect(admin).grantRole(role, stranger.address);
    await expect(engine.connect(stranger).setRatios(SOL_USD, wad(0.1), wad(0.05))).to.emit(engine, "RatiosSet");
    expect((await engine.ratiosOf(SOL_USD)).imrWad).to.equal(wad(0.1));
  });

  it("rejects a zero admin at construction", async () => {
    const factory = await ethers.getContractFactory("StaticRiskEngine");
    await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAddress");
  });

  it("reverts RatiosNotSet for an unknown market", async () => {
    const { engine } = await loadFixture(freshEngine);
    await expect(engine.marginRatios(SOL_USD, 0n))
      .to.be.revertedWithCustomError(engine, "RatiosNotSet")
      .withArgs(SOL_USD);
  });

  it("reverts RatiosNotSet for a market unknown to the deployed engine", async () => {
    const w = await loadFixture(deployWorld);
    await expect(w.risk.marginRatios(SOL_USD, WAD))
      .to.be.revertedWithCustomError(w.risk, "RatiosNotSet")
      .withArgs(SOL_USD);
    // The same engine answers for the listed markets.
    expect((await w.risk.marginRatios(ETH_USD, WAD))[0]).to.equal(wad(0.05));
  });

  it("returns the configured ratios whatever the notional (deployed ETH and BTC markets: 5% / 2.5%)", async () => {
    const w = await loadFixture(deployWorld);
    for (const market of [ETH_USD, BTC_USD]) {
      for (const notional of [0n, 1n, 1_000_000n * WAD, 10n ** 30n]) {
        const [imr, mmr] = await w.risk.marginRatios(market, notional);
        expect(imr).to.equal(wad(0.05));
        expect(mmr).to.equal(wad(0.025));
      }
    }
  });

  it("has no wick filter: hardFloorWad = 1e18 and smoothedPrice = 0", async () => {
    const w = await loadFixture(deployWorld);
    expect(await w.risk.hardFloorWad()).to.equal(WAD);
    expect(await w.risk.smoothedPrice(ETH_USD)).to.equal(0n);
    expect(await w.risk.smoothedPrice(SOL_USD)).to.equal(0n);
  });
});

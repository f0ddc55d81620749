import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { deployWorld, usdc, wad, WAD, type World } from "../shared/local-world";

const marketParams = (oracleAsset: string) => ({
  oracleAsset,
  makerFeeWad: wad(0.0002),
  takerFeeWad: wad(0.0006),
  maxFundingVelocityWad: 3n * WAD,
  maxOiPoolRatioWad: WAD,
  skewScaleWad: 1_000_000n * WAD,
});

describe("PerpVault limits and guards", () => {
  it("lists at most 64 markets (TooManyMarkets)", async () => {
    const w: World = await loadFixture(deployWorld);
    const weth = await w.weth.getAddress();
    const existing = (await w.vault.marketIds()).length;
    for (let i = existing; i < 64; i++) {
      const id = ethers.encodeBytes32String(`M${i}`);
      await w.risk.connect(w.admin).setRatios(id, wad(0.1), wad(0.05));
      await w.vault.connect(w.admin).listMarket(id, marketParams(weth));
    }
    expect((await w.vault.marketIds()).length).to.equal(64);
    const extra = ethers.encodeBytes32String("M64");
    await w.risk.connect(w.admin).setRatios(extra, wad(0.1), wad(0.05));
    await expect(w.vault.connect(w.admin).listMarket(extra, marketParams(weth)))
      .to.be.revertedWithCustomError(w.vault, "TooManyMarkets")
      .withArgs(64);
  });

  it("lists at most 32 collateral assets including the quote token (TooManyCollaterals)", async () => {
    const w: World = await loadFixture(deployWorld);
    const existing = (await w.vault.collateralTokens()).length;
    let last = "";
    for (let i = existing; i <= 32; i++) {
      const token = await ethers.deployContract("MockERC20", [`T${i}`, `T${i}`, 18]);
      last = await token.getAddress();
      await w.oracle.connect(w.admin).setFeed(last, w.ethFeed, 3600, ethers.ZeroAddress, 0, 0);
      if (i < 32) await w.vault.connect(w.admin).listCollateral(last, wad(0.5), 1_000n * WAD);
    }
    expect((await w.vault.collateralTokens()).length).to.equal(32);
    await expect(w.vault.connect(w.admin).listCollateral(last, wad(0.5), 1_000n * WAD))
      .to.be.revertedWithCustomError(w.vault, "TooManyCollaterals")
      .withArgs(32);
  });

  it("never pays the insurance fund more than its ledger balance (InsufficientInsurance)", async () => {
    const w: World = await loadFixture(deployWorld);
    const fund = await w.insurance.getAddress();
    await w.usdc.connect(w.lp).approve(await w.vault.getAddress(), usdc(100));
    await w.vault.connect(w.lp).fundInsurance(usdc(100));
    await network.provider.send("hardhat_impersonateAccount", [fund]);
    await network.provider.send("hardhat_setBalance", [fund, "0xDE0B6B3A7640000"]);
    const asFund = await ethers.getSigner(fund);
    await expect(w.vault.connect(asFund).insuranceWithdraw(usdc(101), w.lp.address))
      .to.be.revertedWithCustomError(w.vault, "InsufficientInsurance")
      .withArgs(101n * WAD, 100n * WAD);
    await w.vault.connect(asFund).insuranceWithdraw(usdc(100), w.lp.address);
    expect(await w.vault.insuranceBalance()).to.equal(0n);
    await network.provider.send("hardhat_stopImpersonatingAccount", [fund]);
  });

  it("rejects a token that re-enters the vault during a deposit (ReentrancyGuardReentrantCall)", async () => {
    const w: World = await loadFixture(deployWorld);
    const [t] = w.traders;
    const token = await ethers.deployContract("MockReentrantToken");
    const tokenAddr = await token.getAddress();
    await w.oracle.connect(w.admin).setFeed(tokenAddr, w.ethFeed, 3600, ethers.ZeroAddress, 0, 0);
    await w.vault.connect(w.admin).listCollateral(tokenAddr, wad(0.5), 1_000_000n * WAD);
    await token.mint(t.address, 10n * WAD);
    await token.connect(t).approve(await w.vault.getAddress(), ethers.MaxUint256);
    // The hook tries to withdraw USDC from the vault in the middle of the deposit.
    const reenter = w.vault.interface.encodeFunctionData("withdraw", [await w.usdc.getAddress(), 1n]);
    await token.arm(await w.vault.getAddress(), reenter);
    await expect(w.vault.connect(t).deposit(tokenAddr, WAD)).to.be.revertedWithCustomError(
      w.vault,
      "ReentrancyGuardReentrantCall",
    );
    expect(await w.vault.collateralBalance(t.address, tokenAddr)).to.equal(0n);
    // Disarmed (the failed deposit rolled the hook back to armed), the same deposit goes through.
    await token.arm(ethers.ZeroAddress, "0x");
    await w.vault.connect(t).deposit(tokenAddr, WAD);
    expect(await w.vault.collateralBalance(t.address, tokenAddr)).to.equal(WAD);
  });
});

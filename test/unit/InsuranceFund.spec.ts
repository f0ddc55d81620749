import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { deployWorld, ETH_USD, usdc, WAD, wad, type World } from "../shared/local-world";

const SCALE = 10n ** 12n; // USDC units → WAD
const MAX_TARGET = 10n ** 28n;
const DEFAULT_ADMIN = ethers.ZeroHash;

const ceilDiv = (a: bigint, d: bigint): bigint => (a + d - 1n) / d;

/** The fixture with $1,000 of insurance funded by trader 0. */
async function funded(): Promise<World> {
  const w = await deployWorld();
  await w.vault.connect(w.traders[0]).fundInsurance(usdc(1_000));
  return w;
}

describe("InsuranceFund", () => {
  describe("fundInsurance", () => {
    it("anyone can fund; the vault credits insuranceBalance in WAD and takes the tokens", async () => {
      const w = await loadFixture(deployWorld);
      const [a, b] = w.traders;
      expect(await w.vault.insuranceBalance()).to.equal(0n);

      await expect(w.vault.connect(a).fundInsurance(usdc(1_234.56)))
        .to.emit(w.vault, "InsuranceFunded")
        .withArgs(a.address, usdc(1_234.56) * SCALE);
      expect(await w.vault.insuranceBalance()).to.equal(usdc(1_234.56) * SCALE);

      // LP (not a trader) funds too; token balances move.
      await w.usdc.connect(w.lp).approve(await w.vault.getAddress(), ethers.MaxUint256);
      await expect(w.vault.connect(w.lp).fundInsurance(usdc(0.000001))).to.changeTokenBalances(
        w.usdc,
        [w.lp, w.vault],
        [-1n, 1n],
      );
      await expect(w.vault.connect(b).fundInsurance(usdc(500))).to.changeTokenBalances(
        w.usdc,
        [b, w.vault],
        [-usdc(500), usdc(500)],
      );
      const expected = (usdc(1_234.56) + 1n + usdc(500)) * SCALE;
      expect(await w.vault.insuranceBalance()).to.equal(expected);
      expect(await w.insurance.balanceWad()).to.equal(expected);
      // Funding insurance does not touch the pool or the funder's trading account.
      expect(await w.vault.poolBalance()).to.equal(10_000_000n * WAD);
      expect(await w.vault.quoteBalance(a.address)).to.equal(0n);
    });

    it("rejects a zero amount", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.vault.connect(w.traders[0]).fundInsurance(0)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
    });

    it("a trade credits the insurance fund with 20% of its fee (rounded down)", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(10_000));
      const size = 10n * WAD;
      const price = 3000n * WAD;
      const skewScale = 1_000_000n * WAD;
      // Empty book: fill = price × (1 + size / (2 × skewScale)), rounded up for a buy.
      const fill = price + ceilDiv(price * size, 2n * skewScale);
      // All taker (skew was zero): fee = size × 0.06% × fill, rounded up.
      const fee = ceilDiv(size * wad(0.0006) * fill, WAD * WAD);
      const insuranceShare = (fee * wad(0.2)) / WAD;
      await expect(w.vault.connect(t).trade(ETH_USD, size, ethers.MaxUint256))
        .to.emit(w.vault, "Traded")
        .withArgs(t.address, ETH_USD, size, fill, size, 0n, fee, 0n);
      expect(await w.vault.insuranceBalance()).to.equal(insuranceShare);
      expect(await w.vault.poolBalance()).to.equal(10_000_000n * WAD + fee - insuranceShare);
    });
  });

  describe("setTargetBalance", () => {
    it("sets the target and emits TargetBalanceSet", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.insurance.targetBalanceWad()).to.equal(0n);
      await expect(w.insurance.setTargetBalance(500n * WAD))
        .to.emit(w.insurance, "TargetBalanceSet")
        .withArgs(500n * WAD);
      expect(await w.insurance.targetBalanceWad()).to.equal(500n * WAD);
      // Back to zero is allowed.
      await expect(w.insurance.setTargetBalance(0n)).to.emit(w.insurance, "TargetBalanceSet").withArgs(0n);
    });

    it("rejects a target above $10 billion (TargetOutOfBounds) and accepts exactly $10 billion", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.insurance.MAX_TARGET_BALANCE()).to.equal(MAX_TARGET);
      await expect(w.insurance.setTargetBalance(MAX_TARGET + 1n))
        .to.be.revertedWithCustomError(w.insurance, "TargetOutOfBounds")
        .withArgs(MAX_TARGET + 1n, MAX_TARGET);
      await expect(w.insurance.setTargetBalance(ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.insurance, "TargetOutOfBounds")
        .withArgs(ethers.MaxUint256, MAX_TARGET);
      await expect(w.insurance.setTargetBalance(MAX_TARGET)).to.emit(w.insurance, "TargetBalanceSet");
      expect(await w.insurance.targetBalanceWad()).to.equal(MAX_TARGET);
    });

    it("rejects a no-op with NoChange", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.insurance.setTargetBalance(0n)).to.be.revertedWithCustomError(w.insurance, "NoChange");
      await w.insurance.setTargetBalance(42n * WAD);
      await expect(w.insurance.setTargetBalance(42n * WAD)).to.be.revertedWithCustomError(w.insurance, "NoChange");
    });

    it("only DEFAULT_ADMIN may set the target", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await expect(w.insurance.connect(t).setTargetBalance(1n))
        .to.be.revertedWithCustomError(w.insurance, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, DEFAULT_ADMIN);
      await expect(w.insurance.connect(w.liquidator).setTargetBalance(1n))
        .to.be.revertedWithCustomError(w.insurance, "AccessControlUnauthorizedAccount")
        .withArgs(w.liquidator.address, DEFAULT_ADMIN);
      expect(await w.insurance.targetBalanceWad()).to.equal(0n);
    });
  });

  describe("withdrawSurplus", () => {
    it("pays out up to the surplus above the target and emits SurplusWithdrawn and InsuranceWithdrawn", async () => {
      const w = await loadFixture(funded);
      const to = w.traders[5];
      await w.insurance.setTargetBalance(600n * WAD);
      // Surplus = 1000 − 600 = $400.
      await expect(w.insurance.withdrawSurplus(usdc(150), to.address))
        .to.emit(w.insurance, "SurplusWithdrawn")
        .withArgs(to.address, usdc(150))
        .and.to.emit(w.vault, "InsuranceWithdrawn")
        .withArgs(to.address, usdc(150) * SCALE);
      expect(await w.vault.insuranceBalance()).to.equal(850n * WAD);

      await expect(w.insurance.withdrawSurplus(usdc(250), to.address)).to.changeTokenBalances(
        w.usdc,
        [w.vault, to],
        [-usdc(250), usdc(250)],
      );
      expect(await w.vault.insuranceBalance()).to.equal(600n * WAD);
      expect(await w.insurance.balanceWad()).to.equal(600n * WAD);
      // Nothing left above the target.
      await expect(w.insurance.withdrawSurplus(1n, to.address))
        .to.be.revertedWithCustomError(w.insurance, "ExceedsSurplus")
        .withArgs(SCALE, 0n);
    });

    it("rejects a withdrawal above the surplus by one token unit (ExceedsSurplus)", async () => {
      const w = await loadFixture(funded);
      await w.insurance.setTargetBalance(600n * WAD);
      await expect(w.insurance.withdrawSurplus(usdc(400) + 1n, w.admin.address))
        .to.be.revertedWithCustomError(w.insurance, "ExceedsSurplus")
        .withArgs((usdc(400) + 1n) * SCALE, 400n * WAD);
      expect(await w.vault.insuranceBalance()).to.equal(1_000n * WAD);
      // Exactly the surplus is fine.
      await expect(w.insurance.withdrawSurplus(usdc(400), w.admin.address)).to.changeTokenBalance(
        w.usdc,
        w.admin,
        usdc(400),
      );
    });

    it("has no surplus while the balance is at or below the target", async () => {
      const w = await loadFixture(funded);
      await w.insurance.setTargetBalance(1_000n * WAD);
      await expect(w.insurance.withdrawSurplus(1n, w.admin.address))
        .to.be.revertedWithCustomError(w.insurance, "ExceedsSurplus")
        .withArgs(SCALE, 0n);
      await w.insurance.setTargetBalance(5_000n * WAD);
      await expect(w.insurance.withdrawSurplus(usdc(1), w.admin.address))
        .to.be.revertedWithCustomError(w.insurance, "ExceedsSurplus")
        .withArgs(WAD, 0n);
    });

    it("with a zero target the whole balance is surplus", async () => {
      const w = await loadFixture(funded);
      await expect(w.insurance.withdrawSurplus(usdc(1_000) + 1n, w.admin.address))
        .to.be.revertedWithCustomError(w.insurance, "ExceedsSurplus")
        .withArgs((usdc(1_000) + 1n) * SCALE, 1_000n * WAD);
      await w.insurance.withdrawSurplus(usdc(1_000), w.admin.address);
      expect(await w.vault.insuranceBalance()).to.equal(0n);
    });

    it("rejects a zero recipient, a zero amount, and non-admin callers", async () => {
      const w = await loadFixture(funded);
      const [t] = w.traders;
      await expect(w.insurance.withdrawSurplus(usdc(1), ethers.ZeroAddress)).to.be.revertedWithCustomError(
        w.insurance,
        "ZeroAddress",
      );
      await expect(w.insurance.withdrawSurplus(0n, t.address)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
      await expect(w.insurance.connect(t).withdrawSurplus(usdc(1), t.address))
        .to.be.revertedWithCustomError(w.insurance, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, DEFAULT_ADMIN);
      expect(await w.vault.insuranceBalance()).to.equal(1_000n * WAD);
    });
  });

  describe("sweepToken", () => {
    it("sends collateral the fund holds (from a collateral backstop) to the admin's recipient", async () => {
      const w: World = await loadFixture(deployWorld);
      const fund = await w.insurance.getAddress();
      await w.weth.mint(fund, 3n * WAD);
      const [desk] = w.traders;
      const before = await w.weth.balanceOf(desk.address);
      await expect(w.insurance.connect(w.admin).sweepToken(await w.weth.getAddress(), 2n * WAD, desk.address))
        .to.emit(w.insurance, "TokenSwept")
        .withArgs(await w.weth.getAddress(), desk.address, 2n * WAD);
      expect(await w.weth.balanceOf(desk.address)).to.equal(before + 2n * WAD);
      expect(await w.weth.balanceOf(fund)).to.equal(WAD);
    });

    it("never sweeps the quote token, a zero recipient, or for a non-admin", async () => {
      const w: World = await loadFixture(deployWorld);
      const [desk] = w.traders;
      const usdcAddr = await w.usdc.getAddress();
      await expect(w.insurance.connect(w.admin).sweepToken(usdcAddr, 1n, desk.address))
        .to.be.revertedWithCustomError(w.insurance, "CannotSweepQuote")
        .withArgs(usdcAddr);
      await expect(
        w.insurance.connect(w.admin).sweepToken(await w.weth.getAddress(), 1n, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(w.insurance, "ZeroAddress");
      await expect(
        w.insurance.connect(desk).sweepToken(await w.weth.getAddress(), 1n, desk.address),
      ).to.be.revertedWithCustomError(w.insurance, "AccessControlUnauthorizedAccount");
    });
  });

  describe("vault.insuranceWithdraw", () => {
    it("reverts NotInsuranceFund for any caller but the fund", async () => {
      const w = await loadFixture(funded);
      for (const caller of [w.admin, w.liquidator, w.lp, w.traders[0]]) {
        await expect(w.vault.connect(caller).insuranceWithdraw(usdc(1), caller.address))
          .to.be.revertedWithCustomError(w.vault, "NotInsuranceFund")
          .withArgs(caller.address);
      }
      expect(await w.vault.insuranceBalance()).to.equal(1_000n * WAD);
      expect(await w.vault.insuranceFund()).to.equal(await w.insurance.getAddress());
    });
  });

  describe("construction", () => {
    it("wires the vault and rejects zero addresses", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.insurance.vault()).to.equal(await w.vault.getAddress());
      const factory = await ethers.getContractFactory("InsuranceFund");
      await expect(factory.deploy(ethers.ZeroAddress, await w.vault.getAddress())).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(w.admin.address, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
    });
  });
});

import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { e8, ETH_USD, usdc, wad, WAD } from "../shared/local-world";
import type { MockFeeOnTransferToken } from "../../typechain-types";
import { type Ctx as ModelCtx, expectHealth, setupModel, tradeBoth, WEIGHT } from "../shared/vault-harness";

interface Ctx extends ModelCtx {
  usdcAddr: string;
  wethAddr: string;
  wbtcAddr: string;
  vaultAddr: string;
}

/** WAD scale of each token unit. */
const USDC_SCALE = 10n ** 12n;
const WBTC_SCALE = 10n ** 10n;

async function setup(): Promise<Ctx> {
  const ctx = await setupModel();
  const { w } = ctx;
  const [usdcAddr, wethAddr, wbtcAddr, vaultAddr] = await Promise.all(
    [w.usdc, w.weth, w.wbtc, w.vault].map((c) => c.getAddress()),
  );
  return { ...ctx, usdcAddr, wethAddr, wbtcAddr, vaultAddr };
}

/** A trader whose only deposit is 1 WETH, long 5 ETH paid from a negative quote balance. */
async function wethOnlyLong(ctx: Ctx): Promise<HardhatEthersSigner> {
  const [t] = ctx.w.traders;
  await ctx.w.vault.connect(t).deposit(ctx.wethAddr, WAD);
  ctx.m.creditVolatile(t.address, ctx.wethAddr, WAD);
  await tradeBoth(ctx, t, ETH_USD, wad(5));
  return t;
}

/** A trader with $1,000 of USDC, long 5 ETH. */
async function usdcLong(ctx: Ctx): Promise<HardhatEthersSigner> {
  const [t] = ctx.w.traders;
  await ctx.w.vault.connect(t).deposit(ctx.usdcAddr, usdc(1_000));
  ctx.m.creditQuote(t.address, wad(1_000));
  await tradeBoth(ctx, t, ETH_USD, wad(5));
  return t;
}

describe("PerpVault — collateral", () => {
  describe("deposits", () => {
    it("deposits USDC (6 decimals) into the WAD quote balance and moves the tokens", async () => {
      const { w, usdcAddr, vaultAddr } = await setup();
      const [t] = w.traders;
      const amount = 1_234_567_891n; // $1,234.567891
      const tx = w.vault.connect(t).deposit(usdcAddr, amount);
      await expect(tx).to.emit(w.vault, "Deposited").withArgs(t.address, usdcAddr, t.address, amount);
      await expect(tx).to.changeTokenBalances(w.usdc, [t.address, vaultAddr], [-amount, amount]);
      expect(await w.vault.quoteBalance(t.address)).to.equal(1_234_567_891_000_000_000_000n);
      // A second deposit accumulates.
      await w.vault.connect(t).deposit(usdcAddr, usdc(10));
      expect(await w.vault.quoteBalance(t.address)).to.equal(1_244_567_891n * USDC_SCALE);
      // Quote is not volatile collateral: it is counted in equity directly.
      const h = await w.vault.accountHealth(t.address);
      expect(h.collateralValueWad).to.equal(0n);
      expect(h.equityWad).to.equal(1_244_567_891n * USDC_SCALE);
    });

    it("deposits WETH (18 decimals) as volatile collateral", async () => {
      const { w, wethAddr, vaultAddr } = await setup();
      const [t] = w.traders;
      const amount = 1_500_000_000_000_000_001n;
      const tx = w.vault.connect(t).deposit(wethAddr, amount);
      await expect(tx).to.emit(w.vault, "Deposited").withArgs(t.address, wethAddr, t.address, amount);
      await expect(tx).to.changeTokenBalances(w.weth, [t.address, vaultAddr], [-amount, amount]);
      expect(await w.vault.collateralBalance(t.address, wethAddr)).to.equal(amount);
      expect((await w.vault.collateralConfig(wethAddr)).totalDepositedWad).to.equal(amount);
      expect(await w.vault.quoteBalance(t.address)).to.equal(0n);
    });

    it("deposits WBTC (8 decimals) scaled to WAD", async () => {
      const { w, wbtcAddr, vaultAddr } = await setup();
      const [t] = w.traders;
      const amount = 12_345_678n; // 0.12345678 WBTC
      const tx = w.vault.connect(t).deposit(wbtcAddr, amount);
      await expect(tx).to.emit(w.vault, "Deposited").withArgs(t.address, wbtcAddr, t.address, amount);
      await expect(tx).to.changeTokenBalances(w.wbtc, [t.address, vaultAddr], [-amount, amount]);
      expect(await w.vault.collateralBalance(t.address, wbtcAddr)).to.equal(123_456_780_000_000_000n);
      expect((await w.vault.collateralConfig(wbtcAddr)).totalDepositedWad).to.equal(amount * WBTC_SCALE);
      await w.vault.connect(t).deposit(wbtcAddr, 1n);
      expect(await w.vault.collateralBalance(t.address, wbtcAddr)).to.equal((amount + 1n) * WBTC_SCALE);
    });

    it("depositFor credits another account while the caller pays", async () => {
      const { w, usdcAddr, wethAddr, wbtcAddr, vaultAddr } = await setup();
      const [payer, beneficiary] = w.traders;
      const tx = w.vault.connect(payer).depositFor(beneficiary.address, usdcAddr, usdc(500));
      await expect(tx).to.emit(w.vault, "Deposited").withArgs(beneficiary.address, usdcAddr, payer.address, usdc(500));
      await expect(tx).to.changeTokenBalances(
        w.usdc,
        [payer.address, beneficiary.address, vaultAddr],
        [-usdc(500), 0n, usdc(500)],
      );
      await expect(w.vault.connect(payer).depositFor(beneficiary.address, wethAddr, 2n * WAD))
        .to.emit(w.vault, "Deposited")
        .withArgs(beneficiary.address, wethAddr, payer.address, 2n * WAD);
      await w.vault.connect(payer).depositFor(beneficiary.address, wbtcAddr, 3n * 10n ** 8n);
      expect(await w.vault.quoteBalance(beneficiary.address)).to.equal(wad(500));
      expect(await w.vault.collateralBalance(beneficiary.address, wethAddr)).to.equal(2n * WAD);
      expect(await w.vault.collateralBalance(beneficiary.address, wbtcAddr)).to.equal(3n * WAD);
      expect(await w.vault.quoteBalance(payer.address)).to.equal(0n);
      expect(await w.vault.collateralBalance(payer.address, wethAddr)).to.equal(0n);
      // The beneficiary, not the payer, can withdraw it.
      await expect(w.vault.connect(payer).withdraw(usdcAddr, usdc(500)))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(payer.address, usdcAddr, 0n, wad(500));
      await expect(w.vault.connect(beneficiary).withdraw(usdcAddr, usdc(500))).to.changeTokenBalance(
        w.usdc,
        beneficiary.address,
        usdc(500),
      );
    });
  });

  describe("withdrawals", () => {
    it("withdraws USDC: balance, tokens and event", async () => {
      const { w, usdcAddr, vaultAddr } = await setup();
      const [t] = w.traders;
      await w.vault.connect(t).deposit(usdcAddr, usdc(1000));
      const amount = 250_000_001n;
      const tx = w.vault.connect(t).withdraw(usdcAddr, amount);
      await expect(tx).to.emit(w.vault, "Withdrawn").withArgs(t.address, usdcAddr, t.address, amount);
      await expect(tx).to.changeTokenBalances(w.usdc, [t.address, vaultAddr], [amount, -amount]);
      expect(await w.vault.quoteBalance(t.address)).to.equal((usdc(1000) - amount) * USDC_SCALE);
      // The whole rest can go.
      await w.vault.connect(t).withdraw(usdcAddr, usdc(1000) - amount);
      expect(await w.vault.quoteBalance(t.address)).to.equal(0n);
    });

    it("withdraws WETH and WBTC: balances, totals, tokens and events", async () => {
      const { w, wethAddr, wbtcAddr, vaultAddr } = await setup();
      const [t] = w.traders;
      await w.vault.connect(t).deposit(wethAddr, 3n * WAD);
      await w.vault.connect(t).deposit(wbtcAddr, 2n * 10n ** 8n);

      const wethOut = 1_250_000_000_000_000_000n;
      let tx = w.vault.connect(t).withdraw(wethAddr, wethOut);
      await expect(tx).to.emit(w.vault, "Withdrawn").withArgs(t.address, wethAddr, t.address, wethOut);
      await expect(tx).to.changeTokenBalances(w.weth, [t.address, vaultAddr], [wethOut, -wethOut]);
      expect(await w.vault.collateralBalance(t.address, wethAddr)).to.equal(3n * WAD - wethOut);
      expect((await w.vault.collateralConfig(wethAddr)).totalDepositedWad).to.equal(3n * WAD - wethOut);

      const wbtcOut = 50_000_001n; // 0.50000001 WBTC
      tx = w.vault.connect(t).withdraw(wbtcAddr, wbtcOut);
      await expect(tx).to.emit(w.vault, "Withdrawn").withArgs(t.address, wbtcAddr, t.address, wbtcOut);
      await expect(tx).to.changeTokenBalances(w.wbtc, [t.address, vaultAddr], [wbtcOut, -wbtcOut]);
      expect(await w.vault.collateralBalance(t.address, wbtcAddr)).to.equal((2n * 10n ** 8n - wbtcOut) * WBTC_SCALE);
      expect((await w.vault.collateralConfig(wbtcAddr)).totalDepositedWad).to.equal(
        (2n * 10n ** 8n - wbtcOut) * WBTC_SCALE,
      );
    });

    it("withdrawing a volatile balance in full removes it from the margin value", async () => {
      const { w, wethAddr, wbtcAddr } = await setup();
      const [t] = w.traders;
      await w.vault.connect(t).deposit(wethAddr, 2n * WAD);
      await w.vault.connect(t).deposit(wbtcAddr, 10n ** 8n);
      // 2 × 3000 × 0.85 + 1 × 60000 × 0.85
      expect((await w.vault.accountHealth(t.address)).collateralValueWad).to.equal(wad(5100) + wad(51_000));
      await w.vault.connect(t).withdraw(wethAddr, 2n * WAD);
      expect(await w.vault.collateralBalance(t.address, wethAddr)).to.equal(0n);
      expect((await w.vault.accountHealth(t.address)).collateralValueWad).to.equal(wad(51_000));
      await w.vault.connect(t).withdraw(wbtcAddr, 10n ** 8n);
      const h = await w.vault.accountHealth(t.address);
      expect(h.collateralValueWad).to.equal(0n);
      expect(h.equityWad).to.equal(0n);
    });
  });

  describe("errors", () => {
    it("reverts ZeroAmount for zero deposits and withdrawals", async () => {
      const { w, usdcAddr, wethAddr } = await setup();
      const [t, u] = w.traders;
      await expect(w.vault.connect(t).deposit(usdcAddr, 0n)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
      await expect(w.vault.connect(t).deposit(wethAddr, 0n)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
      await expect(w.vault.connect(t).depositFor(u.address, usdcAddr, 0n)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAmount",
      );
      await expect(w.vault.connect(t).withdraw(usdcAddr, 0n)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
      await expect(w.vault.connect(t).withdraw(wethAddr, 0n)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
    });

    it("reverts UnknownCollateral for a token that is not listed", async () => {
      const { w } = await setup();
      const [t, u] = w.traders;
      const stranger = await (await ethers.getContractFactory("MockERC20")).deploy("Other", "OTH", 18);
      const addr = await stranger.getAddress();
      await stranger.mint(t.address, WAD);
      await stranger.connect(t).approve(await w.vault.getAddress(), WAD);
      await expect(w.vault.connect(t).deposit(addr, WAD))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(addr);
      await expect(w.vault.connect(t).depositFor(u.address, addr, WAD))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(addr);
      await expect(w.vault.connect(t).withdraw(addr, WAD))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(addr);
      expect(await stranger.balanceOf(t.address)).to.equal(WAD);
    });

    it("reverts InsufficientBalance when withdrawing more USDC than the quote balance", async () => {
      const { w, usdcAddr } = await setup();
      const [t] = w.traders;
      await w.vault.connect(t).deposit(usdcAddr, usdc(100));
      await expect(w.vault.connect(t).withdraw(usdcAddr, usdc(100) + 1n))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(t.address, usdcAddr, wad(100), (usdc(100) + 1n) * USDC_SCALE);
    });

    it("reports a zero balance in InsufficientBalance when the quote balance is negative", async () => {
      const ctx = await setup();
      const { w, usdcAddr, wethAddr } = ctx;
      const [t] = w.traders;
      // Margin in WETH only: the trading fee takes the quote balance below zero.
      await w.vault.connect(t).deposit(wethAddr, WAD);
      ctx.m.creditVolatile(t.address, wethAddr, WAD);
      await tradeBoth(ctx, t, ETH_USD, wad(1));
      expect(await w.vault.quoteBalance(t.address)).to.equal(ctx.m.quoteOf(t.address));
      expect(ctx.m.quoteOf(t.address)).to.be.lessThan(0n);
      await expect(w.vault.connect(t).withdraw(usdcAddr, 1n))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(t.address, usdcAddr, 0n, USDC_SCALE);
    });

    it("reverts InsufficientBalance when withdrawing more WETH or WBTC than deposited", async () => {
      const { w, wethAddr, wbtcAddr } = await setup();
      const [t] = w.traders;
      await w.vault.connect(t).deposit(wethAddr, WAD);
      await w.vault.connect(t).deposit(wbtcAddr, 10n ** 7n);
      await expect(w.vault.connect(t).withdraw(wethAddr, WAD + 1n))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(t.address, wethAddr, WAD, WAD + 1n);
      await expect(w.vault.connect(t).withdraw(wbtcAddr, 10n ** 7n + 1n))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(t.address, wbtcAddr, 10n ** 7n * WBTC_SCALE, (10n ** 7n + 1n) * WBTC_SCALE);
    });

    it("reverts DepositCapExceeded when total deposits would pass the cap (across accounts)", async () => {
      const { w, wethAddr, wbtcAddr } = await setup();
      const [a, b] = w.traders;
      await expect(w.vault.connect(w.admin).setCollateralParams(wethAddr, WEIGHT, 10n * WAD))
        .to.emit(w.vault, "CollateralParamsSet")
        .withArgs(wethAddr, WEIGHT, 10n * WAD);
      await w.vault.connect(a).deposit(wethAddr, 6n * WAD);
      await expect(w.vault.connect(b).deposit(wethAddr, 4n * WAD + 1n))
        .to.be.revertedWithCustomError(w.vault, "DepositCapExceeded")
        .withArgs(wethAddr, 10n * WAD + 1n, 10n * WAD);
      // Up to the cap exactly is fine.
      await w.vault.connect(b).deposit(wethAddr, 4n * WAD);
      expect((await w.vault.collateralConfig(wethAddr)).totalDepositedWad).to.equal(10n * WAD);
      await expect(w.vault.connect(a).depositFor(b.address, wethAddr, 1n))
        .to.be.revertedWithCustomError(w.vault, "DepositCapExceeded")
        .withArgs(wethAddr, 10n * WAD + 1n, 10n * WAD);
      // A withdrawal frees room under the cap.
      await w.vault.connect(a).withdraw(wethAddr, WAD);
      await w.vault.connect(b).deposit(wethAddr, WAD);

      // The cap is in WAD for an 8-decimal token too.
      await w.vault.connect(w.admin).setCollateralParams(wbtcAddr, WEIGHT, wad(1.5));
      await w.vault.connect(a).deposit(wbtcAddr, 10n ** 8n);
      await expect(w.vault.connect(b).deposit(wbtcAddr, 5n * 10n ** 7n + 1n))
        .to.be.revertedWithCustomError(w.vault, "DepositCapExceeded")
        .withArgs(wbtcAddr, wad(1.5) + WBTC_SCALE, wad(1.5));
    });

    it("reverts AccountInLiquidation on withdrawals of a flagged account", async () => {
      const { w, usdcAddr, wethAddr } = await setup();
      const [t] = w.traders;
      await w.vault.connect(t).deposit(usdcAddr, usdc(100));
      await w.vault.connect(t).deposit(wethAddr, WAD);
      await w.vault.connect(w.liquidator).setInLiquidation(t.address, true);
      expect(await w.vault.isInLiquidation(t.address)).to.equal(true);
      await expect(w.vault.connect(t).withdraw(usdcAddr, usdc(1)))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(t.address);
      await expect(w.vault.connect(t).withdraw(wethAddr, 1n))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(t.address);
      // Deposits stay open (they can only help), and withdrawals resume after release.
      await w.vault.connect(t).deposit(usdcAddr, usdc(1));
      await w.vault.connect(w.liquidator).setInLiquidation(t.address, false);
      await expect(w.vault.connect(t).withdraw(usdcAddr, usdc(101))).to.changeTokenBalance(
        w.usdc,
        t.address,
        usdc(101),
      );
    });

    it("reverts ZeroAddress for depositFor(address(0))", async () => {
      const { w, usdcAddr } = await setup();
      const [t] = w.traders;
      await expect(w.vault.connect(t).depositFor(ethers.ZeroAddress, usdcAddr, usdc(1))).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAddress",
      );
    });

    it("rejects a fee-on-transfer token with FeeOnTransferToken(token, expected, received)", async () => {
      const { w } = await setup();
      const [t] = w.traders;
      const token = (await (
        await ethers.getContractFactory("MockFeeOnTransferToken")
      ).deploy()) as unknown as MockFeeOnTransferToken;
      const addr = await token.getAddress();
      await w.oracle.connect(w.admin).setFeed(addr, await w.ethFeed.getAddress(), 3600, ethers.ZeroAddress, 0, 0);
      await w.vault.connect(w.admin).listCollateral(addr, wad(0.5), 1_000_000n * WAD);
      await token.mint(t.address, 1_000n * WAD);
      await token.connect(t).approve(await w.vault.getAddress(), ethers.MaxUint256);
      const amount = 100n * WAD;
      await expect(w.vault.connect(t).deposit(addr, amount))
        .to.be.revertedWithCustomError(w.vault, "FeeOnTransferToken")
        .withArgs(addr, amount, amount - amount / 100n);
      expect(await token.balanceOf(t.address)).to.equal(1_000n * WAD);
      expect(await w.vault.collateralBalance(t.address, addr)).to.equal(0n);
    });
  });

  describe("margin", () => {
    it("values WETH and WBTC at oracle price × 0.85 in accountHealth", async () => {
      const ctx = await setup();
      const { w, m, wethAddr, wbtcAddr } = ctx;
      const [t] = w.traders;
      const wethAmt = 1_234_567_891_234_567_891n;
      const wbtcAmt = 1_234_567n; // 0.01234567 WBTC
      await w.vault.connect(t).deposit(wethAddr, wethAmt);
      await w.vault.connect(t).deposit(wbtcAddr, wbtcAmt);
      await w.ethFeed.setAnswer(e8(3123.45678901));
      await w.btcFeed.setAnswer(e8(61_234.98765432));
      const ethPx = 312_345_678_901n * 10n ** 10n;
      const btcPx = 6_123_498_765_432n * 10n ** 10n;
      // floor(floor(balance × price) × weight), each asset separately.
      const expected =
        (((wethAmt * ethPx) / WAD) * WEIGHT) / WAD + (((wbtcAmt * WBTC_SCALE * btcPx) / WAD) * WEIGHT) / WAD;
      const h = await w.vault.accountHealth(t.address);
      expect(h.collateralValueWad).to.equal(expected);
      expect(h.equityWad).to.equal(expected);
      expect(h.initialMarginWad).to.equal(0n);
      // Cross-check with the model.
      m.setPrice("ETH", ethPx);
      m.setPrice("BTC", btcPx);
      m.creditVolatile(t.address, wethAddr, wethAmt);
      m.creditVolatile(t.address, wbtcAddr, wbtcAmt * WBTC_SCALE);
      expect(m.health(t.address, BigInt(await time.latest())).collateralValue).to.equal(expected);
    });

    it("blocks a USDC withdrawal that would leave equity below IM, allows one that keeps it at IM", async () => {
      const ctx = await setup();
      const { w, m, usdcAddr } = ctx;
      const t = await usdcLong(ctx);

      const next = BigInt(await time.latest()) + 30n;
      const h = m.health(t.address, next);
      // IM = 5% × 5 × 3000 + $5 buffer.
      expect(h.initialMargin).to.equal(wad(755));
      // The largest USDC amount that keeps equity ≥ IM.
      const maxOut = (h.equity - h.initialMargin) / USDC_SCALE;
      expect(maxOut).to.be.greaterThan(usdc(200));

      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).withdraw(usdcAddr, maxOut + 1n))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, h.equity - (maxOut + 1n) * USDC_SCALE, h.initialMargin);

      // One second later (funding moved equity by a few wei): the maximum at that time goes through.
      const next2 = next + 1n;
      const h2 = m.health(t.address, next2);
      const maxOut2 = (h2.equity - h2.initialMargin) / USDC_SCALE;
      await time.setNextBlockTimestamp(next2);
      await expect(w.vault.connect(t).withdraw(usdcAddr, maxOut2))
        .to.emit(w.vault, "Withdrawn")
        .withArgs(t.address, usdcAddr, t.address, maxOut2);
      m.creditQuote(t.address, -maxOut2 * USDC_SCALE);
      const after = m.health(t.address, next2);
      expect(after.equity - after.initialMargin).to.be.lessThan(USDC_SCALE);
      expect(after.equity).to.be.greaterThanOrEqual(BigInt(after.initialMargin));
      expectHealth(await w.vault.accountHealth(t.address), after);
      expect(await w.vault.quoteBalance(t.address)).to.equal(m.quoteOf(t.address));
    });

    it("counts WETH at price × 0.85 toward IM: withdrawing too much of it reverts, a smaller amount succeeds", async () => {
      const ctx = await setup();
      const { w, m, wethAddr } = ctx;
      const t = await wethOnlyLong(ctx);

      let next = BigInt(await time.latest()) + 10n;
      const h = m.health(t.address, next);
      expect(h.collateralValue).to.equal(wad(2550)); // 1 × 3000 × 0.85
      expectHealth(await w.vault.accountHealth(t.address), m.health(t.address, BigInt(await time.latest())));

      // Keeping 0.2 WETH ($510 of margin) is not enough for IM $755.
      const tooMuch = wad(0.8);
      const m1 = m.clone();
      m1.creditVolatile(t.address, wethAddr, -tooMuch);
      const h1 = m1.health(t.address, next);
      expect(h1.equity).to.be.lessThan(BigInt(h1.initialMargin));
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).withdraw(wethAddr, tooMuch))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, h1.equity, h1.initialMargin);

      // Keeping 0.5 WETH ($1,275) is.
      next += 5n;
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).withdraw(wethAddr, wad(0.5))).to.changeTokenBalance(w.weth, t.address, wad(0.5));
      m.creditVolatile(t.address, wethAddr, -wad(0.5));
      expect(await w.vault.collateralBalance(t.address, wethAddr)).to.equal(wad(0.5));
      expectHealth(await w.vault.accountHealth(t.address), m.health(t.address, next));
    });

    it("with no position but a quote debt, withdrawing collateral is still margin-checked: all of it reverts, half succeeds", async () => {
      const ctx = await setup();
      const { w, m, wethAddr } = ctx;
      const t = await wethOnlyLong(ctx);
      await tradeBoth(ctx, t, ETH_USD, -wad(5)); // closed: the fees and the spread leave a debt
      const debt = await w.vault.quoteBalance(t.address);
      expect(debt).to.be.lessThan(0n);
      expect(debt).to.equal(m.quoteOf(t.address));

      // Taking all the WETH would leave the debt uncovered.
      const next = BigInt(await time.latest()) + 10n;
      const m1 = m.clone();
      m1.creditVolatile(t.address, wethAddr, -WAD);
      const h1 = m1.health(t.address, next);
      expect(h1.equity).to.be.lessThan(0n);
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).withdraw(wethAddr, WAD))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, h1.equity, h1.initialMargin);

      // Half of it ($1,275 of margin) still covers the debt.
      await expect(w.vault.connect(t).withdraw(wethAddr, wad(0.5))).to.changeTokenBalance(w.weth, t.address, wad(0.5));
      expect(await w.vault.collateralBalance(t.address, wethAddr)).to.equal(wad(0.5));
      expect(await w.vault.quoteBalance(t.address)).to.equal(debt);
    });

    it("allows withdrawing everything once the position is closed", async () => {
      const ctx = await setup();
      const { w, m, usdcAddr } = ctx;
      const t = await usdcLong(ctx);
      await tradeBoth(ctx, t, ETH_USD, -wad(5));
      const bal = await w.vault.quoteBalance(t.address);
      expect(bal).to.equal(m.quoteOf(t.address));
      const all = bal / USDC_SCALE;
      await expect(w.vault.connect(t).withdraw(usdcAddr, all)).to.changeTokenBalance(w.usdc, t.address, all);
      expect(await w.vault.quoteBalance(t.address)).to.equal(bal % USDC_SCALE);
    });
  });
});

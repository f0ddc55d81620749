import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { BTC_USD, deployWorld, ETH_USD, setEthPrice, usdc, WAD, wad, type World } from "../shared/local-world";

const SCALE = 10n ** 12n; // USDC units → WAD
const SKEW_SCALE = 1_000_000n * WAD; // ETH-USD
const TAKER = wad(0.0006);
const INSURANCE_SHARE = wad(0.2);
const LIQUIDATOR_ROLE = ethers.id("LIQUIDATOR_ROLE");

const divFloor = (a: bigint, d: bigint): bigint => {
  const q = a / d;
  return a % d !== 0n && a < 0n !== d < 0n ? q - 1n : q;
};
const divCeil = (a: bigint, d: bigint): bigint => {
  const q = a / d;
  return a % d !== 0n && a < 0n === d < 0n ? q + 1n : q;
};

/** Buy fill on an ETH book with skew `skew`: oracle × (1 + (skew + delta/2) / skewScale), rounded up. */
const buyFill = (price: bigint, skew: bigint, delta: bigint): bigint =>
  price + divCeil(price * (2n * skew + delta), 2n * SKEW_SCALE);
/** Taker fee (the trade grows |skew|), rounded up. */
const takerFee = (delta: bigint, fill: bigint): bigint => divCeil(delta * TAKER * fill, WAD * WAD);
const insuranceCut = (fee: bigint): bigint => (fee * INSURANCE_SHARE) / WAD;

/** The fixture with ETH funding velocity zero, so that no funding is settled in these tests. */
async function baseWorld(): Promise<World> {
  const w = await deployWorld();
  const p = await w.vault.marketParams(ETH_USD);
  await w.vault.setMarketParams(ETH_USD, {
    oracleAsset: p.oracleAsset,
    makerFeeWad: p.makerFeeWad,
    takerFeeWad: p.takerFeeWad,
    maxFundingVelocityWad: 0n,
    maxOiPoolRatioWad: p.maxOiPoolRatioWad,
    skewScaleWad: p.skewScaleWad,
  });
  return w;
}

const A_SIZE = 10n * WAD;
const A_ENTRY = buyFill(3000n * WAD, 0n, A_SIZE);
const A_FEE = takerFee(A_SIZE, A_ENTRY);

/** Trader A ($10,000) long 10 ETH from a flat book; trader B holds $1,000; C holds nothing. */
async function positionWorld() {
  const w = await baseWorld();
  const [a, b, c] = w.traders;
  const usdcAddr = await w.usdc.getAddress();
  await w.vault.connect(a).deposit(usdcAddr, usdc(10_000));
  await w.vault.connect(a).trade(ETH_USD, A_SIZE, ethers.MaxUint256);
  await w.vault.connect(b).deposit(usdcAddr, usdc(1_000));
  return { w, a, b, c };
}

/** Trader D with 1.5 WETH and 0.12345678 WBTC as collateral and nothing else. */
async function collateralWorld() {
  const w = await baseWorld();
  const d = w.traders[3];
  await w.vault.connect(d).deposit(w.weth, 15n * 10n ** 17n);
  await w.vault.connect(d).deposit(w.wbtc, 12_345_678n);
  return { w, d };
}

const D_SIZE = 5n * WAD;
const D_ENTRY = buyFill(3000n * WAD, 0n, D_SIZE);
const D_FEE = takerFee(D_SIZE, D_ENTRY);
const CRASH = 2500n * WAD;

/**
 * Trader D: $1,000, long 5 ETH, then ETH crashes to $2,500 and the liquidator closes the whole
 * position against the pool at $2,500: the loss exceeds the collateral.
 */
async function shortfallWorld() {
  const w = await baseWorld();
  const d = w.traders[3];
  await w.vault.connect(d).deposit(await w.usdc.getAddress(), usdc(1_000));
  await w.vault.connect(d).trade(ETH_USD, D_SIZE, ethers.MaxUint256);
  await setEthPrice(w, 2_500);
  await w.vault.connect(w.liquidator).setInLiquidation(d.address, true);
  await w.vault.connect(w.liquidator).liquidatePosition(d.address, ETH_USD, -D_SIZE, CRASH, ethers.ZeroAddress);
  return { w, d };
}

describe("PerpVault liquidator entry points", () => {
  describe("role", () => {
    it("every entry point rejects callers without LIQUIDATOR_ROLE, admin included", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      expect(await w.vault.LIQUIDATOR_ROLE()).to.equal(LIQUIDATOR_ROLE);
      expect(await w.vault.hasRole(LIQUIDATOR_ROLE, w.liquidator.address)).to.equal(true);
      const callers: HardhatEthersSigner[] = [w.admin, b, w.lp];
      for (const caller of callers) {
        const v = w.vault.connect(caller);
        const calls = [
          () => v.setInLiquidation(a.address, true),
          () => v.liquidatePosition(a.address, ETH_USD, -WAD, 3000n * WAD, ethers.ZeroAddress),
          () => v.seizeCollateral(a.address, w.weth, WAD, caller.address),
          () => v.transferQuote(a.address, caller.address, WAD),
          () => v.payInsurance(a.address, WAD),
          () => v.settleShortfall(a.address),
        ];
        for (const call of calls) {
          await expect(call())
            .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, LIQUIDATOR_ROLE);
        }
      }
      // Nothing moved.
      expect((await w.vault.getPosition(a.address, ETH_USD)).sizeWad).to.equal(A_SIZE);
      expect(await w.vault.isInLiquidation(a.address)).to.equal(false);
    });
  });

  describe("setInLiquidation", () => {
    it("freezes trades and withdrawals of the account, and releases them", async () => {
      const { w, a } = await loadFixture(positionWorld);
      const usdcAddr = await w.usdc.getAddress();
      await expect(w.vault.connect(w.liquidator).setInLiquidation(a.address, true))
        .to.emit(w.vault, "LiquidationFlagSet")
        .withArgs(a.address, true);
      expect(await w.vault.isInLiquidation(a.address)).to.equal(true);
      await expect(w.vault.connect(a).trade(ETH_USD, -WAD, 0n))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(a.address);
      await expect(w.vault.connect(a).withdraw(usdcAddr, usdc(1)))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(a.address);
      await expect(w.vault.connect(w.liquidator).setInLiquidation(a.address, false))
        .to.emit(w.vault, "LiquidationFlagSet")
        .withArgs(a.address, false);
      await expect(w.vault.connect(a).trade(ETH_USD, -WAD, 0n)).to.emit(w.vault, "Traded");
    });
  });

  describe("liquidatePosition", () => {
    it("closes a slice against the pool: realises (price − entry) × slice, OI falls, the pool takes the opposite", async () => {
      const { w, a } = await loadFixture(positionWorld);
      const price = 2_900n * WAD;
      const slice = -4n * WAD;
      const realized = divFloor(4n * WAD * (price - A_ENTRY), WAD);
      expect(realized).to.equal(-(400n * WAD + 6n * 10n ** 16n)); // 4 × −100.015
      const quote0 = 10_000n * WAD - A_FEE;
      const pool0 = 10_000_000n * WAD + A_FEE - insuranceCut(A_FEE);
      expect(await w.vault.quoteBalance(a.address)).to.equal(quote0);
      expect(await w.vault.poolBalance()).to.equal(pool0);

      const liq = w.vault.connect(w.liquidator);
      expect(await liq.liquidatePosition.staticCall(a.address, ETH_USD, slice, price, ethers.ZeroAddress)).to.equal(
        realized,
      );
      await expect(liq.liquidatePosition(a.address, ETH_USD, slice, price, ethers.ZeroAddress))
        .to.emit(w.vault, "PositionLiquidated")
        .withArgs(a.address, ETH_USD, slice, price, ethers.ZeroAddress, realized);

      expect(await w.vault.quoteBalance(a.address)).to.equal(quote0 + realized);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized);
      const pos = await w.vault.getPosition(a.address, ETH_USD);
      expect(pos.sizeWad).to.equal(6n * WAD);
      expect(pos.entryPriceWad).to.equal(A_ENTRY);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(6n * WAD);
      expect(st.oiShortWad).to.equal(0n);
      // Insurance is untouched by a liquidation slice.
      expect(await w.vault.insuranceBalance()).to.equal(insuranceCut(A_FEE));
    });

    it("a slice closed above entry pays the account from the pool; the last slice closes the position", async () => {
      const { w, a } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      const price = 3_123_450_000_000_000_000_001n; // $3123.45 + 1 wei
      const realized = divFloor(10n * WAD * (price - A_ENTRY), WAD);
      expect(realized).to.equal(1_234_350n * 10n ** 15n + 10n); // 10 × (123.435 + 1 wei)
      const pool0 = await w.vault.poolBalance();
      const quote0 = await w.vault.quoteBalance(a.address);
      await liq.liquidatePosition(a.address, ETH_USD, -A_SIZE, price, ethers.ZeroAddress);
      expect(await w.vault.quoteBalance(a.address)).to.equal(quote0 + realized);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized);
      expect((await w.vault.getPosition(a.address, ETH_USD)).sizeWad).to.equal(0n);
      expect((await w.vault.getPosition(a.address, ETH_USD)).entryPriceWad).to.equal(0n);
      expect(await w.vault.accountMarkets(a.address)).to.deep.equal([]);
      expect((await w.vault.marketState(ETH_USD)).oiLongWad).to.equal(0n);
    });

    it("settles the account's accrued funding apart from the realised PnL", async () => {
      const w = await loadFixture(deployWorld); // funding velocity 3/day
      const [a] = w.traders;
      await w.vault.connect(a).deposit(await w.usdc.getAddress(), usdc(10_000));
      await w.vault.connect(a).trade(ETH_USD, A_SIZE, ethers.MaxUint256);
      const t0 = BigInt(await time.latest());
      const quote0 = await w.vault.quoteBalance(a.address);
      const pool0 = await w.vault.poolBalance();
      await time.increase(86_400);
      await setEthPrice(w, 3_000);
      const price = 2_950n * WAD;
      const tx = await w.vault
        .connect(w.liquidator)
        .liquidatePosition(a.address, ETH_USD, -A_SIZE, price, ethers.ZeroAddress);
      const block = await ethers.provider.getBlock((await tx.wait())!.blockNumber);
      const elapsed = BigInt(block!.timestamp) - t0;
      // Rate drifts at 3/day × skew / skewScale; the index accrues the average rate × price × dt.
      const velocity = (((A_SIZE * WAD) / SKEW_SCALE) * 3n * WAD) / WAD;
      const rate = (velocity * elapsed) / 86_400n;
      const index = ((rate / 2n) * 3_000n * WAD * elapsed) / (WAD * 86_400n);
      const fundingPaid = divCeil(A_SIZE * index, WAD);
      const realized = divFloor(A_SIZE * (price - A_ENTRY), WAD);
      expect(fundingPaid).to.be.greaterThan(0n);
      await expect(tx)
        .to.emit(w.vault, "PositionLiquidated")
        .withArgs(a.address, ETH_USD, -A_SIZE, price, ethers.ZeroAddress, realized);
      expect(await w.vault.quoteBalance(a.address)).to.equal(quote0 + realized - fundingPaid);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized + fundingPaid);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.fundingIndexWad).to.equal(index);
      expect(st.fundingRateWad).to.equal(rate);
    });

    it("into another account: B takes the slice at the price, OI is unchanged", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      const price = 2_900n * WAD;
      const slice = -4n * WAD;
      const realized = divFloor(4n * WAD * (price - A_ENTRY), WAD);
      const quoteA = await w.vault.quoteBalance(a.address);
      const quoteB = await w.vault.quoteBalance(b.address);
      const pool0 = await w.vault.poolBalance();

      await expect(w.vault.connect(w.liquidator).liquidatePosition(a.address, ETH_USD, slice, price, b.address))
        .to.emit(w.vault, "PositionLiquidated")
        .withArgs(a.address, ETH_USD, slice, price, b.address, realized);

      const posA = await w.vault.getPosition(a.address, ETH_USD);
      const posB = await w.vault.getPosition(b.address, ETH_USD);
      expect(posA.sizeWad).to.equal(6n * WAD);
      expect(posB.sizeWad).to.equal(4n * WAD);
      expect(posB.entryPriceWad).to.equal(price);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(A_SIZE);
      expect(st.oiShortWad).to.equal(0n);
      expect(await w.vault.accountMarkets(b.address)).to.deep.equal([ETH_USD]);
      // A realises its loss against the pool; B opens at the price and pays no fee.
      expect(await w.vault.quoteBalance(a.address)).to.equal(quoteA + realized);
      expect(await w.vault.quoteBalance(b.address)).to.equal(quoteB);
      expect(await w.vault.poolBalance()).to.equal(pool0 - realized);
      // B is marked at the oracle: 4 × (3000 − 2900) of unrealised profit.
      const h = await w.vault.accountHealth(b.address);
      expect(h.unrealizedPnlWad).to.equal(400n * WAD);
      expect(h.initialMarginWad).to.equal(605n * WAD); // 12,000 × 5% + $5
    });

    it("the receiving account must hold IM afterwards (Undercollateralized)", async () => {
      const { w, a, c } = await loadFixture(positionWorld);
      // C has no collateral: equity = 4 × (3000 − 2900) = 400 < IM = 12,000 × 5% + 5 = 605.
      await expect(
        w.vault.connect(w.liquidator).liquidatePosition(a.address, ETH_USD, -4n * WAD, 2_900n * WAD, c.address),
      )
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(c.address, 400n * WAD, 605n * WAD);
      expect((await w.vault.getPosition(a.address, ETH_USD)).sizeWad).to.equal(A_SIZE);
      // With $205 deposited, C meets IM exactly.
      await w.vault.connect(c).deposit(await w.usdc.getAddress(), usdc(205));
      await expect(
        w.vault.connect(w.liquidator).liquidatePosition(a.address, ETH_USD, -4n * WAD, 2_900n * WAD, c.address),
      ).to.emit(w.vault, "PositionLiquidated");
    });

    it("the receiving account must not be in liquidation", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      await w.vault.connect(w.liquidator).setInLiquidation(b.address, true);
      await expect(w.vault.connect(w.liquidator).liquidatePosition(a.address, ETH_USD, -WAD, 2_900n * WAD, b.address))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(b.address);
    });

    it("rejects a zero slice, a slice in the wrong direction and a slice larger than the position", async () => {
      const { w, a, c } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      const price = 3000n * WAD;
      // Zero; wrong direction (same sign as the long); larger than the position.
      for (const slice of [0n, WAD, A_SIZE + 1n, -A_SIZE - 1n, -11n * WAD]) {
        await expect(liq.liquidatePosition(a.address, ETH_USD, slice, price, ethers.ZeroAddress), `slice ${slice}`)
          .to.be.revertedWithCustomError(w.vault, "InvalidLiquidationSlice")
          .withArgs(a.address, ETH_USD, A_SIZE, slice);
      }
      // No position at all.
      await expect(liq.liquidatePosition(c.address, ETH_USD, -WAD, price, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(w.vault, "InvalidLiquidationSlice")
        .withArgs(c.address, ETH_USD, 0n, -WAD);
      await expect(liq.liquidatePosition(c.address, ETH_USD, WAD, price, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(w.vault, "InvalidLiquidationSlice")
        .withArgs(c.address, ETH_USD, 0n, WAD);
      // No position in that market.
      await expect(liq.liquidatePosition(a.address, BTC_USD, -WAD, 60_000n * WAD, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(w.vault, "InvalidLiquidationSlice")
        .withArgs(a.address, BTC_USD, 0n, -WAD);
    });

    it("for a short, the slice must be positive", async () => {
      const { w, b } = await loadFixture(positionWorld);
      await w.vault.connect(b).trade(ETH_USD, -2n * WAD, 0n);
      const liq = w.vault.connect(w.liquidator);
      await expect(liq.liquidatePosition(b.address, ETH_USD, -WAD, 3000n * WAD, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(w.vault, "InvalidLiquidationSlice")
        .withArgs(b.address, ETH_USD, -2n * WAD, -WAD);
      const entry = (await w.vault.getPosition(b.address, ETH_USD)).entryPriceWad;
      const price = 3_010n * WAD;
      // Short: realised = −1 × (price − entry).
      const realized = divFloor(-WAD * (price - entry), WAD);
      await expect(liq.liquidatePosition(b.address, ETH_USD, WAD, price, ethers.ZeroAddress))
        .to.emit(w.vault, "PositionLiquidated")
        .withArgs(b.address, ETH_USD, WAD, price, ethers.ZeroAddress, realized);
      expect(realized).to.be.lessThan(0n);
      expect((await w.vault.getPosition(b.address, ETH_USD)).sizeWad).to.equal(-WAD);
      expect((await w.vault.marketState(ETH_USD)).oiShortWad).to.equal(WAD);
    });

    it("rejects moving a position into itself (SelfTransfer), a zero price and an unknown market", async () => {
      const { w, a } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      await expect(liq.liquidatePosition(a.address, ETH_USD, -WAD, 3000n * WAD, a.address))
        .to.be.revertedWithCustomError(w.vault, "SelfTransfer")
        .withArgs(a.address);
      await expect(
        liq.liquidatePosition(a.address, ETH_USD, -WAD, 0n, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
      const unknown = ethers.encodeBytes32String("SOL-USD");
      await expect(liq.liquidatePosition(a.address, unknown, -WAD, 3000n * WAD, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(w.vault, "UnknownMarket")
        .withArgs(unknown);
    });
  });

  describe("seizeCollateral", () => {
    it("sends WETH to the recipient, exactly as asked (18 decimals)", async () => {
      const { w, d } = await loadFixture(collateralWorld);
      const to = w.liquidator;
      const amountWad = 4n * 10n ** 17n + 7n;
      const total0 = (await w.vault.collateralConfig(w.weth)).totalDepositedWad;
      const liq = w.vault.connect(w.liquidator);
      expect(await liq.seizeCollateral.staticCall(d.address, w.weth, amountWad, to.address)).to.equal(amountWad);
      await expect(liq.seizeCollateral(d.address, w.weth, amountWad, to.address))
        .to.emit(w.vault, "CollateralSeized")
        .withArgs(d.address, await w.weth.getAddress(), amountWad, to.address);
      expect(await w.weth.balanceOf(to.address)).to.equal(amountWad);
      expect(await w.vault.collateralBalance(d.address, w.weth)).to.equal(15n * 10n ** 17n - amountWad);
      expect((await w.vault.collateralConfig(w.weth)).totalDepositedWad).to.equal(total0 - amountWad);
    });

    it("sends WBTC rounded down to whole satoshis, and debits exactly what was sent", async () => {
      const { w, d } = await loadFixture(collateralWorld);
      const to = w.traders[6];
      const wbtcBefore = await w.wbtc.balanceOf(to.address);
      const amountWad = 50_000_012_345_678_901n; // 0.050000012345678901 BTC
      const sats = amountWad / 10n ** 10n;
      expect(sats).to.equal(5_000_001n);
      const liq = w.vault.connect(w.liquidator);
      expect(await liq.seizeCollateral.staticCall(d.address, w.wbtc, amountWad, to.address)).to.equal(sats);
      await expect(liq.seizeCollateral(d.address, w.wbtc, amountWad, to.address))
        .to.emit(w.vault, "CollateralSeized")
        .withArgs(d.address, await w.wbtc.getAddress(), sats, to.address);
      expect((await w.wbtc.balanceOf(to.address)) - wbtcBefore).to.equal(sats);
      expect(await w.vault.collateralBalance(d.address, w.wbtc)).to.equal((12_345_678n - sats) * 10n ** 10n);
      // Less than one satoshi rounds to nothing.
      await expect(liq.seizeCollateral(d.address, w.wbtc, 10n ** 10n - 1n, to.address)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAmount",
      );
    });

    it("seizing all of a collateral removes it from the account's value", async () => {
      const { w, d } = await loadFixture(collateralWorld);
      const liq = w.vault.connect(w.liquidator);
      await liq.seizeCollateral(d.address, w.weth, 15n * 10n ** 17n, w.liquidator.address);
      expect(await w.vault.collateralBalance(d.address, w.weth)).to.equal(0n);
      // Only WBTC remains: 0.12345678 × 60,000 × 0.85, rounded down per step.
      const btcValue = (((12_345_678n * 10n ** 10n * 60_000n * WAD) / WAD) * wad(0.85)) / WAD;
      expect((await w.vault.accountHealth(d.address)).collateralValueWad).to.equal(btcValue);
    });

    it("refuses the quote token (UnknownCollateral) and unlisted tokens", async () => {
      const { w, d } = await loadFixture(collateralWorld);
      const liq = w.vault.connect(w.liquidator);
      const usdcAddr = await w.usdc.getAddress();
      await w.vault.connect(d).deposit(usdcAddr, usdc(100));
      await expect(liq.seizeCollateral(d.address, usdcAddr, WAD, w.liquidator.address))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(usdcAddr);
      const other = ethers.Wallet.createRandom().address;
      await expect(liq.seizeCollateral(d.address, other, WAD, w.liquidator.address))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(other);
      expect(await w.vault.quoteBalance(d.address)).to.equal(100n * WAD);
    });

    it("refuses more than the balance (InsufficientBalance) and a zero recipient", async () => {
      const { w, d } = await loadFixture(collateralWorld);
      const liq = w.vault.connect(w.liquidator);
      const balance = 15n * 10n ** 17n;
      await expect(liq.seizeCollateral(d.address, w.weth, balance + 1n, w.liquidator.address))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(d.address, await w.weth.getAddress(), balance, balance + 1n);
      // WBTC: the check is on the rounded amount.
      await expect(liq.seizeCollateral(d.address, w.wbtc, 12_345_679n * 10n ** 10n + 5n, w.liquidator.address))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(d.address, await w.wbtc.getAddress(), 12_345_678n * 10n ** 10n, 12_345_679n * 10n ** 10n);
      await expect(liq.seizeCollateral(d.address, w.weth, WAD, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAddress",
      );
    });
  });

  describe("transferQuote and payInsurance", () => {
    it("transferQuote moves quote balance between accounts", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      const qa = await w.vault.quoteBalance(a.address);
      const qb = await w.vault.quoteBalance(b.address);
      const amount = 300n * WAD + 1n;
      await expect(w.vault.connect(w.liquidator).transferQuote(a.address, b.address, amount))
        .to.emit(w.vault, "QuoteTransferred")
        .withArgs(a.address, b.address, amount);
      expect(await w.vault.quoteBalance(a.address)).to.equal(qa - amount);
      expect(await w.vault.quoteBalance(b.address)).to.equal(qb + amount);
    });

    it("transferQuote never overdraws a payer that is not in liquidation (InsufficientBalance)", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      const qa = await w.vault.quoteBalance(a.address);
      await expect(liq.transferQuote(a.address, b.address, qa + 1n))
        .to.be.revertedWithCustomError(w.vault, "InsufficientBalance")
        .withArgs(a.address, await w.usdc.getAddress(), qa, qa + 1n);
      // `a` holds a position: a payment out of its margin is a withdrawal and must keep IM.
      await expect(liq.transferQuote(a.address, b.address, qa)).to.be.revertedWithCustomError(
        w.vault,
        "Undercollateralized",
      );
      const h = await w.vault.accountHealth(a.address);
      const free = h.equityWad - BigInt(h.initialMarginWad);
      expect(free).to.be.greaterThan(0n);
      await liq.transferQuote(a.address, b.address, free / 2n);
      expect(await w.vault.quoteBalance(a.address)).to.equal(qa - free / 2n);
    });

    it("setInLiquidation nests: each freeze needs its own release", async () => {
      const { w, a } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      await liq.setInLiquidation(a.address, true);
      await liq.setInLiquidation(a.address, true);
      await liq.setInLiquidation(a.address, false);
      expect(await w.vault.isInLiquidation(a.address)).to.equal(true);
      await expect(liq.setInLiquidation(a.address, false))
        .to.emit(w.vault, "LiquidationFlagSet")
        .withArgs(a.address, false);
      expect(await w.vault.isInLiquidation(a.address)).to.equal(false);
    });

    it("transferQuote rejects a self-transfer, a zero recipient and a zero amount", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      await expect(liq.transferQuote(a.address, a.address, WAD))
        .to.be.revertedWithCustomError(w.vault, "SelfTransfer")
        .withArgs(a.address);
      await expect(liq.transferQuote(a.address, ethers.ZeroAddress, WAD)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAddress",
      );
      await expect(liq.transferQuote(a.address, b.address, 0n)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
    });

    it("payInsurance moves quote balance to the insurance fund", async () => {
      const { w, a } = await loadFixture(positionWorld);
      const qa = await w.vault.quoteBalance(a.address);
      const ins = await w.vault.insuranceBalance();
      expect(ins).to.equal(insuranceCut(A_FEE));
      const amount = 50n * WAD + 3n;
      await expect(w.vault.connect(w.liquidator).payInsurance(a.address, amount))
        .to.emit(w.vault, "InsurancePaid")
        .withArgs(a.address, amount);
      expect(await w.vault.quoteBalance(a.address)).to.equal(qa - amount);
      expect(await w.vault.insuranceBalance()).to.equal(ins + amount);
      expect(await w.insurance.balanceWad()).to.equal(ins + amount);
      await expect(w.vault.connect(w.liquidator).payInsurance(a.address, 0n)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAmount",
      );
    });
  });

  describe("settleShortfall", () => {
    // Expected ledger after the crash, computed from the trade and the liquidation.
    const quoteAfterCrash = 1_000n * WAD - D_FEE + divFloor(D_SIZE * (CRASH - D_ENTRY), WAD);
    const insuranceAfterTrade = insuranceCut(D_FEE);
    const poolAfterCrash = 10_000_000n * WAD + D_FEE - insuranceAfterTrade - divFloor(D_SIZE * (CRASH - D_ENTRY), WAD);

    it("the crash leaves the account with a negative quote balance and no position", async () => {
      const { w, d } = await loadFixture(shortfallWorld);
      expect(quoteAfterCrash).to.be.lessThan(0n);
      expect(await w.vault.quoteBalance(d.address)).to.equal(quoteAfterCrash);
      expect(await w.vault.accountMarkets(d.address)).to.deep.equal([]);
      expect(await w.vault.poolBalance()).to.equal(poolAfterCrash);
      expect(await w.vault.insuranceBalance()).to.equal(insuranceAfterTrade);
    });

    it("insurance pays first, the rest is socialised to the pool (BadDebt, ShortfallSettled)", async () => {
      const { w, d } = await loadFixture(shortfallWorld);
      const shortfall = -quoteAfterCrash;
      const fromInsurance = insuranceAfterTrade;
      const socialized = shortfall - fromInsurance;
      expect(socialized).to.be.greaterThan(0n);
      const value0 = await w.vault.poolValue();
      const assets0 = await w.pool.totalAssets();
      expect(value0).to.equal(poolAfterCrash);
      expect(assets0).to.equal(poolAfterCrash / SCALE);

      const liq = w.vault.connect(w.liquidator);
      const [fi, so] = await liq.settleShortfall.staticCall(d.address);
      expect(fi).to.equal(fromInsurance);
      expect(so).to.equal(socialized);
      await expect(liq.settleShortfall(d.address))
        .to.emit(w.vault, "BadDebt")
        .withArgs(d.address, socialized)
        .and.to.emit(w.vault, "ShortfallSettled")
        .withArgs(d.address, shortfall, fromInsurance, socialized);

      expect(await w.vault.quoteBalance(d.address)).to.equal(0n);
      expect(await w.vault.insuranceBalance()).to.equal(0n);
      expect(await w.vault.poolBalance()).to.equal(poolAfterCrash - socialized);
      expect(await w.vault.poolValue()).to.equal(value0 - socialized);
      // Both amounts are whole micro-dollars here, so totalAssets falls by exactly the socialised amount.
      expect(socialized % SCALE).to.equal(0n);
      expect(poolAfterCrash % SCALE).to.equal(0n);
      expect(await w.pool.totalAssets()).to.equal(assets0 - socialized / SCALE);
      // Settled: a second call finds nothing to settle.
      await expect(liq.settleShortfall(d.address))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(d.address);
    });

    it("a well-funded insurance fund covers the whole shortfall: no bad debt, the pool is untouched", async () => {
      const { w, d } = await loadFixture(shortfallWorld);
      await w.vault.connect(w.traders[7]).fundInsurance(usdc(5_000));
      const shortfall = -quoteAfterCrash;
      const insurance0 = insuranceAfterTrade + 5_000n * WAD;
      const assets0 = await w.pool.totalAssets();
      await expect(w.vault.connect(w.liquidator).settleShortfall(d.address))
        .to.emit(w.vault, "ShortfallSettled")
        .withArgs(d.address, shortfall, shortfall, 0n)
        .and.not.to.emit(w.vault, "BadDebt");
      expect(await w.vault.insuranceBalance()).to.equal(insurance0 - shortfall);
      expect(await w.vault.poolBalance()).to.equal(poolAfterCrash);
      expect(await w.pool.totalAssets()).to.equal(assets0);
      expect(await w.vault.quoteBalance(d.address)).to.equal(0n);
    });

    it("an empty insurance fund socialises everything", async () => {
      const { w, d } = await loadFixture(shortfallWorld);
      // Drain the fee share first (target 0: all of it is surplus; 1.8000045 → 1.800004 in USDC units).
      const cut = insuranceAfterTrade / SCALE;
      await w.insurance.withdrawSurplus(cut, w.admin.address);
      const left = insuranceAfterTrade - cut * SCALE;
      expect(await w.vault.insuranceBalance()).to.equal(left);
      const shortfall = -quoteAfterCrash;
      await expect(w.vault.connect(w.liquidator).settleShortfall(d.address))
        .to.emit(w.vault, "BadDebt")
        .withArgs(d.address, shortfall - left)
        .and.to.emit(w.vault, "ShortfallSettled")
        .withArgs(d.address, shortfall, left, shortfall - left);
      expect(await w.vault.poolBalance()).to.equal(poolAfterCrash - (shortfall - left));
    });

    it("refuses an account that still has a position (ShortfallNotSettleable)", async () => {
      const { w, a, b } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      // Push A's quote balance below zero while it still holds the position (only an account in
      // liquidation can be charged into a negative balance).
      const qa = await w.vault.quoteBalance(a.address);
      await liq.setInLiquidation(a.address, true);
      await liq.transferQuote(a.address, b.address, qa + WAD);
      await liq.setInLiquidation(a.address, false);
      expect(await w.vault.quoteBalance(a.address)).to.equal(-WAD);
      await expect(liq.settleShortfall(a.address))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(a.address);
    });

    it("refuses an account that still has volatile collateral, until it is seized", async () => {
      const { w, d } = await loadFixture(collateralWorld);
      const liq = w.vault.connect(w.liquidator);
      const b = w.traders[1];
      await liq.setInLiquidation(d.address, true);
      await liq.transferQuote(d.address, b.address, 100n * WAD);
      await liq.setInLiquidation(d.address, false);
      expect(await w.vault.quoteBalance(d.address)).to.equal(-100n * WAD);
      await expect(liq.settleShortfall(d.address))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(d.address);
      await liq.seizeCollateral(d.address, w.weth, 15n * 10n ** 17n, w.liquidator.address);
      await expect(liq.settleShortfall(d.address))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(d.address);
      await liq.seizeCollateral(d.address, w.wbtc, 12_345_678n * 10n ** 10n, w.liquidator.address);
      await expect(liq.settleShortfall(d.address))
        .to.emit(w.vault, "ShortfallSettled")
        .withArgs(d.address, 100n * WAD, 0n, 100n * WAD)
        .and.to.emit(w.vault, "BadDebt")
        .withArgs(d.address, 100n * WAD);
    });

    it("refuses an account whose quote balance is zero or positive", async () => {
      const { w, b, c } = await loadFixture(positionWorld);
      const liq = w.vault.connect(w.liquidator);
      expect(await w.vault.quoteBalance(c.address)).to.equal(0n);
      await expect(liq.settleShortfall(c.address))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(c.address);
      expect(await w.vault.quoteBalance(b.address)).to.equal(1_000n * WAD);
      await expect(liq.settleShortfall(b.address))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(b.address);
      await expect(liq.settleShortfall(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(w.vault, "ShortfallNotSettleable")
        .withArgs(ethers.ZeroAddress);
    });
  });
});

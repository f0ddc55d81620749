import { expect } from "chai";
import { ethers } from "hardhat";
import { setBalance } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployWorld, ETH_USD, setEthPrice, usdc, WAD, wad, type World } from "../shared/local-world";

const SCALE = 10n ** 12n; // USDC units → WAD
const OFFSET = 10n ** 6n; // virtual shares: 10^DECIMALS_OFFSET
const SKEW_SCALE = 1_000_000n * WAD; // ETH-USD
const TAKER = wad(0.0006);
const MAKER = wad(0.0002);
const INSURANCE_SHARE = wad(0.2);
const RESERVE_RATIO = wad(0.25);

// ------------------------------------------------------------------ independent maths

const divFloor = (a: bigint, d: bigint): bigint => {
  const q = a / d;
  return a % d !== 0n && a < 0n !== d < 0n ? q - 1n : q;
};
const divCeil = (a: bigint, d: bigint): bigint => {
  const q = a / d;
  return a % d !== 0n && a < 0n === d < 0n ? q + 1n : q;
};
const absB = (x: bigint): bigint => (x < 0n ? -x : x);

/** Fill on the premium curve, rounded against the trader. */
function fillPrice(price: bigint, skew: bigint, delta: bigint): bigint {
  const num = price * (2n * skew + delta);
  const den = 2n * SKEW_SCALE;
  return price + (delta > 0n ? divCeil(num, den) : divFloor(num, den));
}

/** Maker part (reducing |skew|) at the maker rate, the rest at the taker rate, rounded up. */
function tradeFee(skew: bigint, delta: bigint, fill: bigint): bigint {
  let maker = 0n;
  if ((skew > 0n && delta < 0n) || (skew < 0n && delta > 0n)) {
    maker = absB(delta) < absB(skew) ? absB(delta) : absB(skew);
  }
  const taker = absB(delta) - maker;
  return divCeil((maker * MAKER + taker * TAKER) * fill, WAD * WAD);
}

// ERC-4626 with virtual shares/assets (OpenZeppelin, offset 6).
const toShares = (assets: bigint, supply: bigint, total: bigint, up = false): bigint =>
  up ? divCeil(assets * (supply + OFFSET), total + 1n) : (assets * (supply + OFFSET)) / (total + 1n);
const toAssets = (shares: bigint, supply: bigint, total: bigint, up = false): bigint =>
  up ? divCeil(shares * (total + 1n), supply + OFFSET) : (shares * (total + 1n)) / (supply + OFFSET);

interface Opened {
  size: bigint;
  entry: bigint;
}

/**
 * Opens positions one after the other on an ETH book that starts flat, at an oracle price of
 * `price`; returns each entry and the pool's net gain (fees less the insurance share).
 */
async function openAll(
  w: World,
  trades: { trader: HardhatEthersSigner; size: bigint; collateral: bigint }[],
  price: bigint,
): Promise<{ opened: Opened[]; poolGain: bigint }> {
  let skew = 0n;
  let poolGain = 0n;
  const opened: Opened[] = [];
  const usdcAddr = await w.usdc.getAddress();
  for (const { trader, size, collateral } of trades) {
    if (collateral > 0n) await w.vault.connect(trader).deposit(usdcAddr, collateral);
    const fill = fillPrice(price, skew, size);
    const fee = tradeFee(skew, size, fill);
    await expect(w.vault.connect(trader).trade(ETH_USD, size, size > 0n ? ethers.MaxUint256 : 0n))
      .to.emit(w.vault, "Traded")
      .withArgs(trader.address, ETH_USD, size, fill, size, 0n, fee, 0n);
    poolGain += fee - (fee * INSURANCE_SHARE) / WAD;
    skew += size;
    opened.push({ size, entry: fill });
  }
  return { opened, poolGain };
}

/**
 * Traders' unrealised PnL against the pool, marked at the exit price of the whole skew,
 * price × (1 + skew / 2·skewScale), rounded up (pool value rounds down): at the oracle, plus the
 * premium that closing the skew would pay the traders back, ⌈⌈|skew| × price⌉ × |skew| / 2S⌉.
 */
const tradersPnl = (opened: Opened[], price: bigint): bigint => {
  const skew = absB(opened.reduce((acc, p) => acc + p.size, 0n));
  const exitPremium = divCeil(divCeil(skew * price, WAD) * skew, 2n * SKEW_SCALE);
  return (
    divCeil(
      opened.reduce((acc, p) => acc + p.size * (price - p.entry), 0n),
      WAD,
    ) + exitPremium
  );
};
const minB = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** The fixture with ETH funding velocity set to zero, so that pool value is time-independent. */
async function noFundingWorld(): Promise<World> {
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

/** A pool whose share price is no longer 1:1e6: a round trip left fees in it. */
async function seasonedWorld(): Promise<World> {
  const w = await noFundingWorld();
  const [t] = w.traders;
  await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(200_000));
  await w.vault.connect(t).trade(ETH_USD, 777n * WAD + 123n, ethers.MaxUint256);
  await w.vault.connect(t).trade(ETH_USD, -(777n * WAD + 123n), 0n);
  return w;
}

/** A bare stack (no markets) on a given quote token: router, engine, vault, pool, insurance fund. */
async function deployStack(quote: string) {
  const [admin] = await ethers.getSigners();
  const router = await (await ethers.getContractFactory("OracleRouter")).deploy(admin.address);
  const engine = await (await ethers.getContractFactory("StaticRiskEngine")).deploy(admin.address);
  const vaultLogic = await (await ethers.getContractFactory("VaultLogic")).deploy();
  const vaultAdmin = await (await ethers.getContractFactory("VaultAdmin")).deploy();
  const vaultFactory = await ethers.getContractFactory("PerpVault", {
    libraries: { VaultLogic: await vaultLogic.getAddress(), VaultAdmin: await vaultAdmin.getAddress() },
  });
  const vault = await vaultFactory.deploy(admin.address, router, engine, quote);
  const pool = await (await ethers.getContractFactory("LiquidityPool")).deploy(quote, vault, "Bulwark LP", "bLP");
  const insurance = await (await ethers.getContractFactory("InsuranceFund")).deploy(admin.address, vault);
  await vault.initialize(pool, insurance);
  return { vault, pool, insurance };
}

/** A fresh, empty pool on a fresh 6-decimal USDC, with an attacker and a victim holding $2M each. */
async function emptyPool() {
  const [, attacker, victim] = await ethers.getSigners();
  const token = await (await ethers.getContractFactory("MockERC20")).deploy("USD Coin", "USDC", 6);
  const stack = await deployStack(await token.getAddress());
  for (const s of [attacker, victim]) {
    await token.mint(s.address, usdc(2_000_000));
    await token.connect(s).approve(await stack.pool.getAddress(), ethers.MaxUint256);
  }
  return { ...stack, token, attacker, victim };
}

describe("LiquidityPool", () => {
  describe("metadata", () => {
    it("is a 12-decimal share of USDC held by the vault; the seeded LP has 1e6 shares per unit", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.pool.decimals()).to.equal(12n);
      expect(await w.pool.DECIMALS_OFFSET()).to.equal(6n);
      expect(await w.pool.asset()).to.equal(await w.usdc.getAddress());
      expect(await w.pool.vault()).to.equal(await w.vault.getAddress());
      expect(await w.vault.pool()).to.equal(await w.pool.getAddress());
      // $10M seeded: 1e13 units × 1e6 virtual-share ratio.
      expect(await w.pool.totalSupply()).to.equal(usdc(10_000_000) * OFFSET);
      expect(await w.pool.balanceOf(w.lp.address)).to.equal(usdc(10_000_000) * OFFSET);
      expect(await w.pool.totalAssets()).to.equal(usdc(10_000_000));
      expect(await w.vault.poolBalance()).to.equal(10_000_000n * WAD);
      // The pool contract itself holds no tokens: they sit in the vault.
      expect(await w.usdc.balanceOf(await w.pool.getAddress())).to.equal(0n);
      expect(await w.usdc.balanceOf(await w.vault.getAddress())).to.equal(usdc(10_000_000));
    });
  });

  describe("ERC-4626 flows", () => {
    it("seasoned pool: totalAssets equals the vault ledger and the share price is no longer round", async () => {
      const w = await loadFixture(seasonedWorld);
      // Round trip of 777 ETH + 123 wei: open at fill1, close at fill2 with skew = size.
      const size = 777n * WAD + 123n;
      const price = 3000n * WAD;
      const fill1 = fillPrice(price, 0n, size);
      const fee1 = tradeFee(0n, size, fill1);
      const fill2 = fillPrice(price, size, -size);
      const fee2 = tradeFee(size, -size, fill2);
      const realized = divFloor(size * (fill2 - fill1), WAD);
      const gain = (f: bigint) => f - (f * INSURANCE_SHARE) / WAD;
      const balance = 10_000_000n * WAD + gain(fee1) + gain(fee2) - realized;
      expect(await w.vault.poolBalance()).to.equal(balance);
      expect(await w.vault.poolValue()).to.equal(balance);
      expect(await w.pool.totalAssets()).to.equal(balance / SCALE);
      expect(balance % SCALE).to.not.equal(0n);
    });

    it("deposit pulls USDC from the LP into the vault and mints floor(assets × (S + 1e6) / (A + 1)) shares", async () => {
      const w = await loadFixture(seasonedWorld);
      const assets = usdc(1_234_567.891234);
      const supply = await w.pool.totalSupply();
      const total = await w.pool.totalAssets();
      const shares = toShares(assets, supply, total);
      expect(await w.pool.previewDeposit(assets)).to.equal(shares);
      const balance0 = await w.vault.poolBalance();

      await expect(w.pool.connect(w.lp).deposit(assets, w.lp.address)).to.changeTokenBalances(
        w.usdc,
        [w.lp, w.vault, w.pool],
        [-assets, assets, 0n],
      );
      expect(await w.pool.balanceOf(w.lp.address)).to.equal(supply + shares);
      expect(await w.vault.poolBalance()).to.equal(balance0 + assets * SCALE);
      expect(await w.pool.totalAssets()).to.equal((balance0 + assets * SCALE) / SCALE);
    });

    it("deposit emits Deposit and PoolDeposited and can credit another receiver", async () => {
      const w = await loadFixture(seasonedWorld);
      const receiver = w.traders[7];
      const assets = usdc(50_000);
      const shares = toShares(assets, await w.pool.totalSupply(), await w.pool.totalAssets());
      await expect(w.pool.connect(w.lp).deposit(assets, receiver.address))
        .to.emit(w.pool, "Deposit")
        .withArgs(w.lp.address, receiver.address, assets, shares)
        .and.to.emit(w.vault, "PoolDeposited")
        .withArgs(assets * SCALE);
      expect(await w.pool.balanceOf(receiver.address)).to.equal(shares);
    });

    it("mint pulls ceil(shares × (A + 1) / (S + 1e6)) USDC", async () => {
      const w = await loadFixture(seasonedWorld);
      const shares = 5n * 10n ** 17n + 3n;
      const supply = await w.pool.totalSupply();
      const total = await w.pool.totalAssets();
      const assets = toAssets(shares, supply, total, true);
      expect(await w.pool.previewMint(shares)).to.equal(assets);
      const balance0 = await w.vault.poolBalance();
      await expect(w.pool.connect(w.lp).mint(shares, w.lp.address))
        .to.emit(w.pool, "Deposit")
        .withArgs(w.lp.address, w.lp.address, assets, shares);
      expect(await w.pool.totalSupply()).to.equal(supply + shares);
      expect(await w.vault.poolBalance()).to.equal(balance0 + assets * SCALE);
      expect(await w.usdc.balanceOf(w.lp.address)).to.equal(usdc(90_000_000) - assets);
    });

    it("withdraw burns ceil(assets × (S + 1e6) / (A + 1)) shares and pays from the vault", async () => {
      const w = await loadFixture(seasonedWorld);
      const assets = usdc(2_500_000.000001);
      const supply = await w.pool.totalSupply();
      const total = await w.pool.totalAssets();
      const shares = toShares(assets, supply, total, true);
      expect(await w.pool.previewWithdraw(assets)).to.equal(shares);
      const balance0 = await w.vault.poolBalance();

      await expect(w.pool.connect(w.lp).withdraw(assets, w.lp.address, w.lp.address))
        .to.emit(w.pool, "Withdraw")
        .withArgs(w.lp.address, w.lp.address, w.lp.address, assets, shares)
        .and.to.emit(w.vault, "PoolWithdrawn")
        .withArgs(w.lp.address, assets * SCALE);
      expect(await w.pool.totalSupply()).to.equal(supply - shares);
      expect(await w.vault.poolBalance()).to.equal(balance0 - assets * SCALE);
      expect(await w.usdc.balanceOf(w.lp.address)).to.equal(usdc(90_000_000) + assets);
    });

    it("redeem pays floor(shares × (A + 1) / (S + 1e6)) USDC", async () => {
      const w = await loadFixture(seasonedWorld);
      const shares = 1_000_000n * 10n ** 12n + 999_999n;
      const supply = await w.pool.totalSupply();
      const total = await w.pool.totalAssets();
      const assets = toAssets(shares, supply, total);
      expect(await w.pool.previewRedeem(shares)).to.equal(assets);
      const balance0 = await w.vault.poolBalance();
      const receiver = w.traders[6];
      await expect(w.pool.connect(w.lp).redeem(shares, receiver.address, w.lp.address)).to.changeTokenBalances(
        w.usdc,
        [w.vault, receiver, w.lp],
        [-assets, assets, 0n],
      );
      expect(await w.pool.balanceOf(w.lp.address)).to.equal(supply - shares);
      expect(await w.vault.poolBalance()).to.equal(balance0 - assets * SCALE);
    });

    it("a third party needs an allowance on the shares to withdraw for the owner", async () => {
      const w = await loadFixture(deployWorld);
      const spender = w.traders[3];
      const shares = usdc(100) * OFFSET;
      await expect(w.pool.connect(spender).redeem(shares, spender.address, w.lp.address))
        .to.be.revertedWithCustomError(w.pool, "ERC20InsufficientAllowance")
        .withArgs(spender.address, 0n, shares);
      await w.pool.connect(w.lp).approve(spender.address, shares);
      await expect(w.pool.connect(spender).withdraw(usdc(100), spender.address, w.lp.address)).to.changeTokenBalance(
        w.usdc,
        spender,
        usdc(100),
      );
      expect(await w.pool.allowance(w.lp.address, spender.address)).to.equal(0n);
    });
  });

  describe("withdrawals against the open-interest reserve", () => {
    async function reservedWorld() {
      const w = await noFundingWorld();
      const trades = w.traders.slice(0, 4).map((trader) => ({ trader, size: 800n * WAD, collateral: usdc(1_000_000) }));
      const { opened, poolGain } = await openAll(w, trades, 3000n * WAD);
      return { w, opened, poolGain };
    }

    it("reserves 25% of max(long, short) notional; the vault's free liquidity is min(balance, value) − reserve", async () => {
      const { w, opened, poolGain } = await loadFixture(reservedWorld);
      const balance = 10_000_000n * WAD + poolGain;
      expect(await w.vault.poolBalance()).to.equal(balance);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(3_200n * WAD);
      expect(st.oiShortWad).to.equal(0n);

      // 3,200 ETH × $3,000 × 25% = $2.4M reserved. Traders bought above the oracle, but marked at
      // the exit price the premium they paid is owed back to them at the close: pool value is the
      // balance less rounding, never the balance plus the premium.
      const reserved = (3_200n * 3_000n * WAD * RESERVE_RATIO) / WAD;
      expect(reserved).to.equal(2_400_000n * WAD);
      const value = balance - tradersPnl(opened, 3_000n * WAD);
      expect(await w.vault.poolValue()).to.equal(value);
      expect(value).to.be.within(balance - 10n ** 6n, balance);
      const free = minB(balance, value) - reserved;
      expect(await w.vault.poolFreeLiquidity()).to.equal(free);
      // The LP owns far more than is free.
      expect(await w.pool.previewRedeem(await w.pool.balanceOf(w.lp.address))).to.be.greaterThan(free / SCALE);
      // maxRedeem is the free liquidity in shares, rounded down.
      const supply = await w.pool.totalSupply();
      const total = await w.pool.totalAssets();
      expect(await w.pool.maxRedeem(w.lp.address)).to.equal(toShares(free / SCALE, supply, total));
      // An account with no shares can withdraw nothing.
      expect(await w.pool.maxWithdraw(w.traders[7].address)).to.equal(0n);
      expect(await w.pool.maxRedeem(w.traders[7].address)).to.equal(0n);
    });

    it("maxWithdraw(lp) equals the free liquidity in token units, and all of it can be withdrawn", async () => {
      const { w, poolGain } = await loadFixture(reservedWorld);
      const free = 10_000_000n * WAD + poolGain - 2_400_000n * WAD;
      const max = free / SCALE;
      expect(await w.vault.poolFreeLiquidity()).to.equal(free);
      expect(await w.pool.maxWithdraw(w.lp.address)).to.equal((await w.vault.poolFreeLiquidity()) / SCALE);
      expect(await w.pool.maxWithdraw(w.lp.address)).to.equal(max);
      await expect(w.pool.connect(w.lp).withdraw(max, w.lp.address, w.lp.address)).to.changeTokenBalance(
        w.usdc,
        w.lp,
        max,
      );
      // Only dust below one token unit remains free.
      expect(await w.vault.poolFreeLiquidity()).to.equal(free - max * SCALE);
      expect(await w.pool.maxWithdraw(w.lp.address)).to.equal(0n);
    });

    it("a withdrawal above the free liquidity reverts ERC4626ExceededMaxWithdraw (redeem: ERC4626ExceededMaxRedeem)", async () => {
      const { w, poolGain } = await loadFixture(reservedWorld);
      const free = 10_000_000n * WAD + poolGain - 2_400_000n * WAD;
      const max = free / SCALE;
      const maxShares = await w.pool.maxRedeem(w.lp.address);
      await expect(w.pool.connect(w.lp).redeem(maxShares + 1n, w.lp.address, w.lp.address))
        .to.be.revertedWithCustomError(w.pool, "ERC4626ExceededMaxRedeem")
        .withArgs(w.lp.address, maxShares + 1n, maxShares);
      await expect(w.pool.connect(w.lp).withdraw(max + 1n, w.lp.address, w.lp.address))
        .to.be.revertedWithCustomError(w.pool, "ERC4626ExceededMaxWithdraw")
        .withArgs(w.lp.address, max + 1n, max);
    });

    it("withdrawals below the free liquidity succeed and never touch the reserve", async () => {
      const { w, poolGain } = await loadFixture(reservedWorld);
      const balance = 10_000_000n * WAD + poolGain;
      const free = balance - 2_400_000n * WAD;
      const max = free / SCALE;
      const first = max - usdc(1_000);
      await expect(w.pool.connect(w.lp).withdraw(first, w.lp.address, w.lp.address)).to.changeTokenBalances(
        w.usdc,
        [w.vault, w.lp],
        [-first, first],
      );
      expect(await w.vault.poolBalance()).to.equal(balance - first * SCALE);
      expect(await w.vault.poolFreeLiquidity()).to.equal(free - first * SCALE);
      // Redeem what is left free (in shares, rounded down).
      const shares = await w.pool.maxRedeem(w.lp.address);
      const out = await w.pool.previewRedeem(shares);
      expect(out).to.be.lte(usdc(1_000));
      expect(out).to.be.gte(usdc(1_000) - 1n);
      await w.pool.connect(w.lp).redeem(shares, w.lp.address, w.lp.address);
      // What remains is the reserve plus less than two token units.
      const left = await w.vault.poolBalance();
      expect(left - 2_400_000n * WAD).to.be.lt(2n * SCALE);
      expect(left).to.be.gte(2_400_000n * WAD);
      await expect(w.pool.connect(w.lp).withdraw(usdc(2), w.lp.address, w.lp.address)).to.be.revertedWithCustomError(
        w.pool,
        "ERC4626ExceededMaxWithdraw",
      );
    });

    it("the vault itself refuses to pay the pool more than its free liquidity (InsufficientPoolLiquidity)", async () => {
      const { w, poolGain } = await loadFixture(reservedWorld);
      const free = 10_000_000n * WAD + poolGain - 2_400_000n * WAD;
      const max = free / SCALE;
      const poolAddr = await w.pool.getAddress();
      await setBalance(poolAddr, 10n ** 18n);
      const asPool = w.vault.connect(await ethers.getImpersonatedSigner(poolAddr));
      await expect(asPool.poolWithdraw(max + 1n, w.lp.address))
        .to.be.revertedWithCustomError(w.vault, "InsufficientPoolLiquidity")
        .withArgs((max + 1n) * SCALE, free);
      await expect(asPool.poolWithdraw(max, w.lp.address))
        .to.emit(w.vault, "PoolWithdrawn")
        .withArgs(w.lp.address, max * SCALE);
      expect(await w.vault.poolFreeLiquidity()).to.equal(free - max * SCALE);
      await expect(asPool.poolDeposit(0n)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
      await expect(asPool.poolWithdraw(0n, w.lp.address)).to.be.revertedWithCustomError(w.vault, "ZeroAmount");
    });

    it("the reserve tracks the larger side and the price", async () => {
      const { w, opened, poolGain } = await loadFixture(reservedWorld);
      // A short of 1,000 ETH does not change max(long, short) = 3,200.
      const [, , , , s] = w.traders;
      await w.vault.connect(s).deposit(await w.usdc.getAddress(), usdc(1_000_000));
      const fill = fillPrice(3000n * WAD, 3_200n * WAD, -1_000n * WAD);
      const fee = tradeFee(3_200n * WAD, -1_000n * WAD, fill); // all maker: reduces |skew|
      expect(fee).to.equal(divCeil(1_000n * WAD * MAKER * fill, WAD * WAD));
      await w.vault.connect(s).trade(ETH_USD, -1_000n * WAD, 0n);
      const balance = 10_000_000n * WAD + poolGain + fee - (fee * INSURANCE_SHARE) / WAD;
      expect(await w.vault.poolBalance()).to.equal(balance);
      const value0 = balance - tradersPnl([...opened, { size: -1_000n * WAD, entry: fill }], 3_000n * WAD);
      expect(await w.vault.poolValue()).to.equal(value0);
      expect(await w.vault.poolFreeLiquidity()).to.equal(minB(balance, value0) - 2_400_000n * WAD);

      // ETH to $3,100 (+3.33%): reserve = 3,200 × 3,100 × 25%, and longs are now in profit, so
      // the pool's value may be below its balance: free = min(balance, value) − reserve.
      await setEthPrice(w, 3_100);
      const reserve = (3_200n * 3_100n * WAD * RESERVE_RATIO) / WAD;
      const value = await w.vault.poolValue();
      const liquid = value < balance ? value : balance;
      expect(value).to.be.lessThan(balance);
      expect(await w.vault.poolFreeLiquidity()).to.equal(liquid - reserve);
    });
  });

  describe("totalAssets follows traders' unrealised PnL", () => {
    async function openBook() {
      const w = await noFundingWorld();
      const [a, b, c] = w.traders;
      const { opened, poolGain } = await openAll(
        w,
        [
          { trader: a, size: 1_000n * WAD, collateral: usdc(500_000) },
          { trader: b, size: 600n * WAD, collateral: usdc(500_000) },
          { trader: c, size: -400n * WAD, collateral: usdc(500_000) },
        ],
        3000n * WAD,
      );
      return { w, opened, poolGain };
    }

    it("at the entry oracle price, totalAssets = floor((balance − traders' PnL) / 1e12)", async () => {
      const { w, opened, poolGain } = await loadFixture(openBook);
      const balance = 10_000_000n * WAD + poolGain;
      expect(await w.vault.poolBalance()).to.equal(balance);
      const value = balance - tradersPnl(opened, 3000n * WAD);
      expect(await w.vault.poolValue()).to.equal(value);
      expect(await w.pool.totalAssets()).to.equal(value / SCALE);
    });

    it("rises when the price moves against the net-long traders, and falls when it moves for them", async () => {
      const { w, opened, poolGain } = await loadFixture(openBook);
      const balance = 10_000_000n * WAD + poolGain;
      const lpShares = await w.pool.balanceOf(w.lp.address);
      const assets0 = await w.pool.totalAssets();
      const lpValue0 = await w.pool.convertToAssets(lpShares);

      // Net long 1,200 ETH; −$300 → the pool gains ≈ $360,000 (and the exit premium of the skew,
      // 1,200² × price / 2S ≈ $2,000, moves with the price by ≈ $216).
      await setEthPrice(w, 2_700);
      const down = balance - tradersPnl(opened, 2_700n * WAD);
      expect(await w.vault.poolValue()).to.equal(down);
      expect(await w.pool.totalAssets()).to.equal(down / SCALE);
      expect(down / SCALE - assets0).to.be.closeTo(usdc(360_000), usdc(300));
      expect(await w.pool.convertToAssets(lpShares)).to.be.greaterThan(lpValue0);
      // Realised balance is unchanged: only the valuation moved.
      expect(await w.vault.poolBalance()).to.equal(balance);

      // +$300 → the pool loses ≈ $360,000.
      await setEthPrice(w, 3_300);
      const up = balance - tradersPnl(opened, 3_300n * WAD);
      expect(await w.vault.poolValue()).to.equal(up);
      expect(await w.pool.totalAssets()).to.equal(up / SCALE);
      expect(assets0 - up / SCALE).to.be.closeTo(usdc(360_000), usdc(300));
      expect(await w.pool.convertToAssets(lpShares)).to.be.lessThan(lpValue0);
    });

    it("a depositor after a pool gain gets proportionally fewer shares", async () => {
      const { w, opened, poolGain } = await loadFixture(openBook);
      await setEthPrice(w, 2_700);
      const total = (10_000_000n * WAD + poolGain - tradersPnl(opened, 2_700n * WAD)) / SCALE;
      const supply = await w.pool.totalSupply();
      const assets = usdc(1_000_000);
      const shares = toShares(assets, supply, total);
      expect(shares).to.be.lessThan(assets * OFFSET);
      await expect(w.pool.connect(w.lp).deposit(assets, w.lp.address))
        .to.emit(w.pool, "Deposit")
        .withArgs(w.lp.address, w.lp.address, assets, shares);
    });
  });

  describe("share inflation", () => {
    it("a first depositor's donation cannot steal a later deposit", async () => {
      const { pool, vault, token, attacker, victim } = await loadFixture(emptyPool);
      const poolAddr = await pool.getAddress();
      const vaultAddr = await vault.getAddress();
      const attackerStart = await token.balanceOf(attacker.address);

      // 1 unit → 1e6 shares (virtual offset).
      await pool.connect(attacker).deposit(1n, attacker.address);
      expect(await pool.balanceOf(attacker.address)).to.equal(OFFSET);
      // Donations straight to the vault and to the pool.
      await token.connect(attacker).transfer(vaultAddr, usdc(1_000_000));
      await token.connect(attacker).transfer(poolAddr, usdc(999_999.999999));
      // totalAssets reads the vault's ledger: the donation is invisible.
      expect(await pool.totalAssets()).to.equal(1n);
      expect(await vault.poolBalance()).to.equal(SCALE);

      const deposit = usdc(10_000);
      const expectedShares = toShares(deposit, OFFSET, 1n);
      expect(expectedShares).to.equal(deposit * OFFSET);
      await expect(pool.connect(victim).deposit(deposit, victim.address))
        .to.emit(pool, "Deposit")
        .withArgs(victim.address, victim.address, deposit, expectedShares);
      const victimShares = await pool.balanceOf(victim.address);
      const victimValue = await pool.previewRedeem(victimShares);
      expect(victimValue).to.be.gte(deposit - 1n);
      expect(victimValue).to.be.lte(deposit);

      // Victim exits whole.
      await pool.connect(victim).redeem(victimShares, victim.address, victim.address);
      expect(await token.balanceOf(victim.address)).to.be.gte(usdc(2_000_000) - 1n);
      // Attacker exits with at most their unit back and has lost the donations.
      const attackerShares = await pool.balanceOf(attacker.address);
      const attackerOut = await pool.previewRedeem(attackerShares);
      expect(attackerOut).to.be.lte(1n);
      if (attackerOut > 0n) await pool.connect(attacker).redeem(attackerShares, attacker.address, attacker.address);
      expect(await token.balanceOf(attacker.address)).to.be.lte(attackerStart - usdc(2_000_000) + 1n);
      expect(await pool.totalAssets()).to.be.lte(1n);
    });

    it("on the live pool, donations move neither totalAssets nor the share price", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      const total = await w.pool.totalAssets();
      const preview = await w.pool.previewDeposit(usdc(1_000));
      const price = await w.pool.convertToAssets(10n ** 12n);
      await w.usdc.connect(t).transfer(await w.vault.getAddress(), usdc(500_000));
      await w.usdc.connect(t).transfer(await w.pool.getAddress(), usdc(500_000));
      expect(await w.pool.totalAssets()).to.equal(total);
      expect(await w.pool.previewDeposit(usdc(1_000))).to.equal(preview);
      expect(await w.pool.convertToAssets(10n ** 12n)).to.equal(price);
      expect(await w.vault.poolBalance()).to.equal(10_000_000n * WAD);
      // The donated tokens cannot be withdrawn by LPs: maxWithdraw is bounded by the ledger.
      expect(await w.pool.maxWithdraw(w.lp.address)).to.equal(usdc(10_000_000));
    });
  });

  describe("construction and access", () => {
    it("rejects a fee-on-transfer quote token (FeeOnTransferToken)", async () => {
      const [, lp] = await ethers.getSigners();
      const fot = await (await ethers.getContractFactory("MockFeeOnTransferToken")).deploy();
      const { pool, vault } = await deployStack(await fot.getAddress());
      expect(await pool.decimals()).to.equal(24n); // 18 + 6
      await fot.mint(lp.address, 1_000n * WAD);
      await fot.connect(lp).approve(await pool.getAddress(), ethers.MaxUint256);
      const assets = 100n * WAD;
      await expect(pool.connect(lp).deposit(assets, lp.address))
        .to.be.revertedWithCustomError(pool, "FeeOnTransferToken")
        .withArgs(await fot.getAddress(), assets, assets - assets / 100n);
      await expect(pool.connect(lp).mint(10n ** 20n, lp.address)).to.be.revertedWithCustomError(
        pool,
        "FeeOnTransferToken",
      );
      expect(await pool.totalSupply()).to.equal(0n);
      expect(await vault.poolBalance()).to.equal(0n);
      // The vault rejects it for trader deposits too.
      await fot.connect(lp).approve(await vault.getAddress(), ethers.MaxUint256);
      await expect(vault.connect(lp).deposit(await fot.getAddress(), assets))
        .to.be.revertedWithCustomError(vault, "FeeOnTransferToken")
        .withArgs(await fot.getAddress(), assets, assets - assets / 100n);
    });

    it("rejects an asset that is not the vault's quote token (AssetMismatch) and a zero vault", async () => {
      const w = await loadFixture(deployWorld);
      const factory = await ethers.getContractFactory("LiquidityPool");
      await expect(factory.deploy(await w.weth.getAddress(), await w.vault.getAddress(), "x", "x"))
        .to.be.revertedWithCustomError(factory, "AssetMismatch")
        .withArgs(await w.weth.getAddress(), await w.usdc.getAddress());
      await expect(
        factory.deploy(await w.usdc.getAddress(), ethers.ZeroAddress, "x", "x"),
      ).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });

    it("vault.poolDeposit and vault.poolWithdraw revert NotPool for anyone but the pool", async () => {
      const w = await loadFixture(deployWorld);
      for (const caller of [w.admin, w.lp, w.liquidator, w.traders[0]]) {
        await expect(w.vault.connect(caller).poolDeposit(usdc(1)))
          .to.be.revertedWithCustomError(w.vault, "NotPool")
          .withArgs(caller.address);
        await expect(w.vault.connect(caller).poolWithdraw(usdc(1), caller.address))
          .to.be.revertedWithCustomError(w.vault, "NotPool")
          .withArgs(caller.address);
      }
      expect(await w.vault.poolBalance()).to.equal(10_000_000n * WAD);
    });
  });
});

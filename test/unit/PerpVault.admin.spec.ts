import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { BTC_USD, deployWorld, e8, ETH_USD, usdc, WAD, wad, type World } from "../shared/local-world";

const b32 = (s: string): string => ethers.encodeBytes32String(s);
const SOL_USD = b32("SOL-USD");
const DEFAULT_ADMIN = ethers.ZeroHash;
const RISK_ADMIN = ethers.id("RISK_ADMIN_ROLE");
const MAX_UINT128 = 2n ** 128n - 1n;

// VaultAdmin / PerpVault bounds.
const MAX_FEE = wad(0.01);
const MAX_FUNDING_VELOCITY = 10n * WAD;
const MIN_OI_POOL_RATIO = wad(0.01);
const MAX_OI_POOL_RATIO = 10n * WAD;
const MIN_SKEW_SCALE = WAD;
const MAX_SKEW_SCALE = 10n ** 30n;
const MAX_COLLATERAL_WEIGHT = wad(0.95);
const MAX_INSURANCE_FEE_SHARE = wad(0.5);
const MAX_RESERVE_RATIO = WAD;
const MAX_LIQUIDATION_BUFFER = 1_000n * WAD;

const asTuple = (p: {
  oracleAsset: string;
  makerFeeWad: bigint;
  takerFeeWad: bigint;
  maxFundingVelocityWad: bigint;
  maxOiPoolRatioWad: bigint;
  skewScaleWad: bigint;
}) => [p.oracleAsset, p.makerFeeWad, p.takerFeeWad, p.maxFundingVelocityWad, p.maxOiPoolRatioWad, p.skewScaleWad];

/** The fixture plus a SOL token with a $150 feed on the router and SOL-USD ratios on the engine. */
async function solWorld() {
  const w = await deployWorld();
  const sol = await (await ethers.getContractFactory("MockERC20")).deploy("Solana", "SOL", 18);
  const solFeed = await (await ethers.getContractFactory("MockAggregator")).deploy(8, "SOL / USD", e8(150));
  await w.oracle.setFeed(sol, solFeed, 3_600, ethers.ZeroAddress, 0, 0);
  await w.risk.setRatios(SOL_USD, wad(0.1), wad(0.05));
  const params = {
    oracleAsset: await sol.getAddress(),
    makerFeeWad: wad(0.0001),
    takerFeeWad: wad(0.0005),
    maxFundingVelocityWad: 2n * WAD,
    maxOiPoolRatioWad: wad(0.5),
    skewScaleWad: 10_000_000n * WAD,
  };
  return { w, sol, solFeed, params };
}

async function currentParams(w: World, market: string) {
  const p = await w.vault.marketParams(market);
  return {
    oracleAsset: p.oracleAsset,
    makerFeeWad: p.makerFeeWad,
    takerFeeWad: p.takerFeeWad,
    maxFundingVelocityWad: p.maxFundingVelocityWad,
    maxOiPoolRatioWad: p.maxOiPoolRatioWad,
    skewScaleWad: p.skewScaleWad,
  };
}

async function deployVaultFactory() {
  const vaultLogic = await (await ethers.getContractFactory("VaultLogic")).deploy();
  const vaultAdmin = await (await ethers.getContractFactory("VaultAdmin")).deploy();
  return ethers.getContractFactory("PerpVault", {
    libraries: { VaultLogic: await vaultLogic.getAddress(), VaultAdmin: await vaultAdmin.getAddress() },
  });
}

describe("PerpVault admin", () => {
  describe("listMarket", () => {
    it("lists a market, emits MarketListed and starts its funding clock", async () => {
      const { w, params } = await loadFixture(solWorld);
      const tx = w.vault.listMarket(SOL_USD, params);
      await expect(tx).to.emit(w.vault, "MarketListed").withArgs(SOL_USD, 2, asTuple(params));
      const ts = await time.latest();
      expect(await w.vault.marketIds()).to.deep.equal([ETH_USD, BTC_USD, SOL_USD]);
      expect(asTuple(await currentParams(w, SOL_USD))).to.deep.equal(asTuple(params));
      const st = await w.vault.marketState(SOL_USD);
      expect(st.lastFundingTime).to.equal(BigInt(ts));
      expect(st.oiLongWad).to.equal(0n);
      expect(st.fundingIndexWad).to.equal(0n);

      // The market trades: fill = 150 × (1 + 10 / (2 × 1e7)).
      const [t] = w.traders;
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(1_000));
      const ceilDiv = (a: bigint, d: bigint): bigint => (a + d - 1n) / d;
      const fill = 150n * WAD + ceilDiv(150n * WAD * 10n * WAD, 2n * params.skewScaleWad);
      const fee = ceilDiv(10n * WAD * params.takerFeeWad * fill, WAD * WAD);
      await expect(w.vault.connect(t).trade(SOL_USD, 10n * WAD, ethers.MaxUint256))
        .to.emit(w.vault, "Traded")
        .withArgs(t.address, SOL_USD, 10n * WAD, fill, 10n * WAD, 0n, fee, 0n);
    });

    it("rejects a market already listed", async () => {
      const { w, params } = await loadFixture(solWorld);
      await expect(w.vault.listMarket(ETH_USD, params))
        .to.be.revertedWithCustomError(w.vault, "MarketAlreadyListed")
        .withArgs(ETH_USD);
      await w.vault.listMarket(SOL_USD, params);
      await expect(w.vault.listMarket(SOL_USD, params))
        .to.be.revertedWithCustomError(w.vault, "MarketAlreadyListed")
        .withArgs(SOL_USD);
    });

    it("rejects each bounded field out of bounds with ParamOutOfBounds(name, value, min, max)", async () => {
      const { w, params } = await loadFixture(solWorld);
      const cases: [keyof typeof params, bigint, string, bigint, bigint][] = [
        ["makerFeeWad", MAX_FEE + 1n, "makerFee", 0n, MAX_FEE],
        ["takerFeeWad", MAX_FEE + 1n, "takerFee", 0n, MAX_FEE],
        ["maxFundingVelocityWad", MAX_FUNDING_VELOCITY + 1n, "maxFundingVelocity", 0n, MAX_FUNDING_VELOCITY],
        ["maxOiPoolRatioWad", MIN_OI_POOL_RATIO - 1n, "maxOiPoolRatio", MIN_OI_POOL_RATIO, MAX_OI_POOL_RATIO],
        ["maxOiPoolRatioWad", MAX_OI_POOL_RATIO + 1n, "maxOiPoolRatio", MIN_OI_POOL_RATIO, MAX_OI_POOL_RATIO],
        ["skewScaleWad", MIN_SKEW_SCALE - 1n, "skewScale", MIN_SKEW_SCALE, MAX_SKEW_SCALE],
        ["skewScaleWad", MAX_SKEW_SCALE + 1n, "skewScale", MIN_SKEW_SCALE, MAX_SKEW_SCALE],
        ["skewScaleWad", 0n, "skewScale", MIN_SKEW_SCALE, MAX_SKEW_SCALE],
      ];
      for (const [field, value, name, min, max] of cases) {
        await expect(w.vault.listMarket(SOL_USD, { ...params, [field]: value }), `${field}=${value}`)
          .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
          .withArgs(b32(name), value, min, max);
      }
      expect(await w.vault.marketIds()).to.have.length(2);
    });

    it("accepts every bound exactly", async () => {
      const { w, params } = await loadFixture(solWorld);
      const edge = {
        ...params,
        makerFeeWad: MAX_FEE,
        takerFeeWad: MAX_FEE,
        maxFundingVelocityWad: MAX_FUNDING_VELOCITY,
        maxOiPoolRatioWad: MIN_OI_POOL_RATIO,
        skewScaleWad: MAX_SKEW_SCALE,
      };
      await expect(w.vault.listMarket(SOL_USD, edge)).to.emit(w.vault, "MarketListed");
      const other = b32("SOL-USD-2");
      await w.risk.setRatios(other, wad(0.1), wad(0.05));
      const low = {
        ...params,
        makerFeeWad: 0n,
        takerFeeWad: 0n,
        maxFundingVelocityWad: 0n,
        maxOiPoolRatioWad: MAX_OI_POOL_RATIO,
        skewScaleWad: MIN_SKEW_SCALE,
      };
      await expect(w.vault.listMarket(other, low)).to.emit(w.vault, "MarketListed").withArgs(other, 3, asTuple(low));
    });

    it("rejects a zero oracle asset", async () => {
      const { w, params } = await loadFixture(solWorld);
      await expect(
        w.vault.listMarket(SOL_USD, { ...params, oracleAsset: ethers.ZeroAddress }),
      ).to.be.revertedWithCustomError(w.vault, "ZeroAddress");
    });

    it("requires the oracle to price the asset", async () => {
      const { w, params, solFeed, sol } = await loadFixture(solWorld);
      const unpriced = ethers.Wallet.createRandom().address;
      await expect(w.vault.listMarket(SOL_USD, { ...params, oracleAsset: unpriced }))
        .to.be.revertedWithCustomError(w.oracle, "FeedNotSet")
        .withArgs(unpriced);
      await solFeed.setAnswer(0);
      await expect(w.vault.listMarket(SOL_USD, params))
        .to.be.revertedWithCustomError(w.oracle, "NonPositivePrice")
        .withArgs(await sol.getAddress(), await solFeed.getAddress(), 0);
      expect(await w.vault.marketIds()).to.have.length(2);
    });

    it("requires the risk engine to answer for the market", async () => {
      const { w, params } = await loadFixture(solWorld);
      const noRatios = b32("DOGE-USD");
      await expect(w.vault.listMarket(noRatios, params))
        .to.be.revertedWithCustomError(w.risk, "RatiosNotSet")
        .withArgs(noRatios);
      await expect(w.vault.marketParams(noRatios))
        .to.be.revertedWithCustomError(w.vault, "UnknownMarket")
        .withArgs(noRatios);
    });

    it("caps the number of markets at 64 (TooManyMarkets)", async () => {
      const { w, params } = await loadFixture(solWorld);
      for (let i = 2; i < 64; i++) {
        const id = b32(`M${i}`);
        await w.risk.setRatios(id, wad(0.1), wad(0.05));
        await w.vault.listMarket(id, params);
      }
      expect(await w.vault.marketIds()).to.have.length(64);
      await expect(w.vault.listMarket(SOL_USD, params))
        .to.be.revertedWithCustomError(w.vault, "TooManyMarkets")
        .withArgs(64);
    });

    it("is RISK_ADMIN only", async () => {
      const { w, params } = await loadFixture(solWorld);
      const [t] = w.traders;
      await expect(w.vault.connect(t).listMarket(SOL_USD, params))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, RISK_ADMIN);
      await expect(w.vault.connect(w.liquidator).listMarket(SOL_USD, params))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(w.liquidator.address, RISK_ADMIN);
      // A dedicated risk admin (without DEFAULT_ADMIN) may.
      await w.vault.grantRole(RISK_ADMIN, t.address);
      await expect(w.vault.connect(t).listMarket(SOL_USD, params)).to.emit(w.vault, "MarketListed");
    });
  });

  describe("setMarketParams", () => {
    it("replaces the parameters and emits MarketParamsSet", async () => {
      const w = await loadFixture(deployWorld);
      const p = await currentParams(w, ETH_USD);
      expect(asTuple(p)).to.deep.equal([
        await w.weth.getAddress(),
        wad(0.0002),
        wad(0.0006),
        3n * WAD,
        WAD,
        1_000_000n * WAD,
      ]);
      const next = { ...p, takerFeeWad: wad(0.001), skewScaleWad: 2_000_000n * WAD };
      await expect(w.vault.setMarketParams(ETH_USD, next))
        .to.emit(w.vault, "MarketParamsSet")
        .withArgs(ETH_USD, asTuple(next));
      expect(asTuple(await currentParams(w, ETH_USD))).to.deep.equal(asTuple(next));
    });

    it("rejects a no-op with NoChange", async () => {
      const w = await loadFixture(deployWorld);
      const p = await currentParams(w, ETH_USD);
      await expect(w.vault.setMarketParams(ETH_USD, p)).to.be.revertedWithCustomError(w.vault, "NoChange");
      await expect(w.vault.setMarketParams(BTC_USD, await currentParams(w, BTC_USD))).to.be.revertedWithCustomError(
        w.vault,
        "NoChange",
      );
    });

    it("rejects an unknown market", async () => {
      const w = await loadFixture(deployWorld);
      const p = await currentParams(w, ETH_USD);
      await expect(w.vault.setMarketParams(SOL_USD, p))
        .to.be.revertedWithCustomError(w.vault, "UnknownMarket")
        .withArgs(SOL_USD);
    });

    it("checks the same bounds as listing", async () => {
      const w = await loadFixture(deployWorld);
      const p = await currentParams(w, ETH_USD);
      await expect(w.vault.setMarketParams(ETH_USD, { ...p, takerFeeWad: MAX_FEE + 1n }))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("takerFee"), MAX_FEE + 1n, 0n, MAX_FEE);
      await expect(w.vault.setMarketParams(ETH_USD, { ...p, maxOiPoolRatioWad: 0n }))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("maxOiPoolRatio"), 0n, MIN_OI_POOL_RATIO, MAX_OI_POOL_RATIO);
      await expect(
        w.vault.setMarketParams(ETH_USD, { ...p, oracleAsset: ethers.ZeroAddress }),
      ).to.be.revertedWithCustomError(w.vault, "ZeroAddress");
    });

    it("a new oracle asset must be priced by the oracle", async () => {
      const w = await loadFixture(deployWorld);
      const p = await currentParams(w, ETH_USD);
      const unpriced = ethers.Wallet.createRandom().address;
      await expect(w.vault.setMarketParams(ETH_USD, { ...p, oracleAsset: unpriced }))
        .to.be.revertedWithCustomError(w.oracle, "FeedNotSet")
        .withArgs(unpriced);
      const wbtc = await w.wbtc.getAddress();
      await expect(w.vault.setMarketParams(ETH_USD, { ...p, oracleAsset: wbtc })).to.emit(w.vault, "MarketParamsSet");
      expect((await w.vault.marketParams(ETH_USD)).oracleAsset).to.equal(wbtc);
    });

    it("accrues funding under the old parameters before the new ones apply", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(100_000));
      await w.vault.connect(t).trade(ETH_USD, 100n * WAD, ethers.MaxUint256);
      const t0 = BigInt(await time.latest());
      await time.increase(86_400);
      await w.ethFeed.setAnswer(e8(3000)); // keep the feed fresh
      const p = await currentParams(w, ETH_USD);
      await w.vault.setMarketParams(ETH_USD, { ...p, maxFundingVelocityWad: 0n });
      const t1 = BigInt(await time.latest());
      const elapsed = t1 - t0;
      // Old velocity 3/day at skew 100 / 1e6: rate drifts 3e-4 per day.
      const velocity = (((100n * WAD * WAD) / (1_000_000n * WAD)) * 3n * WAD) / WAD;
      const rate = (velocity * elapsed) / 86_400n;
      const index = (((0n + rate) / 2n) * 3000n * WAD * elapsed) / (WAD * 86_400n);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.lastFundingTime).to.equal(t1);
      expect(st.fundingRateWad).to.equal(rate);
      expect(st.fundingIndexWad).to.equal(index);
      expect(rate).to.be.greaterThan(0n);
      // With velocity 0 from now on, the rate stays where it was.
      await time.increase(86_400);
      await w.ethFeed.setAnswer(e8(3000));
      const [rateNow] = await w.vault.currentFunding(ETH_USD);
      expect(rateNow).to.equal(rate);
    });

    it("is RISK_ADMIN only", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      const p = await currentParams(w, ETH_USD);
      await expect(w.vault.connect(t).setMarketParams(ETH_USD, { ...p, makerFeeWad: 0n }))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, RISK_ADMIN);
    });
  });

  describe("listCollateral", () => {
    async function linkWorld() {
      const w = await deployWorld();
      const link = await (await ethers.getContractFactory("MockERC20")).deploy("Chainlink", "LINK", 18);
      const feed = await (await ethers.getContractFactory("MockAggregator")).deploy(8, "LINK / USD", e8(15));
      await w.oracle.setFeed(link, feed, 3_600, ethers.ZeroAddress, 0, 0);
      return { w, link, feed };
    }

    it("lists a collateral, emits CollateralListed and accepts deposits up to the cap", async () => {
      const { w, link } = await loadFixture(linkWorld);
      const linkAddr = await link.getAddress();
      await expect(w.vault.listCollateral(link, wad(0.5), 1_000n * WAD))
        .to.emit(w.vault, "CollateralListed")
        .withArgs(linkAddr, 3, wad(0.5), 1_000n * WAD);
      const cfg = await w.vault.collateralConfig(link);
      expect(cfg.token).to.equal(linkAddr);
      expect(cfg.weightWad).to.equal(wad(0.5));
      expect(cfg.decimals).to.equal(18n);
      expect(cfg.index).to.equal(3n);
      expect(cfg.capWad).to.equal(1_000n * WAD);
      expect(cfg.totalDepositedWad).to.equal(0n);
      // Quote first; WETH and WBTC in deployment order (either); the new token last.
      const tokens = await w.vault.collateralTokens();
      expect(tokens).to.have.length(4);
      expect(tokens[0]).to.equal(await w.usdc.getAddress());
      expect([...tokens.slice(1, 3)].sort()).to.deep.equal(
        [await w.weth.getAddress(), await w.wbtc.getAddress()].sort(),
      );
      expect(tokens[3]).to.equal(linkAddr);

      const [t] = w.traders;
      await link.mint(t.address, 2_000n * WAD);
      await link.connect(t).approve(await w.vault.getAddress(), ethers.MaxUint256);
      await w.vault.connect(t).deposit(link, 1_000n * WAD);
      expect(await w.vault.collateralBalance(t.address, link)).to.equal(1_000n * WAD);
      // $15 × 1,000 × 50% = $7,500 of collateral value.
      expect((await w.vault.accountHealth(t.address)).collateralValueWad).to.equal(7_500n * WAD);
      await expect(w.vault.connect(t).deposit(link, 1n))
        .to.be.revertedWithCustomError(w.vault, "DepositCapExceeded")
        .withArgs(linkAddr, 1_000n * WAD + 1n, 1_000n * WAD);
    });

    it("rejects a token already listed, the quote token included", async () => {
      const { w } = await loadFixture(linkWorld);
      for (const token of [await w.weth.getAddress(), await w.wbtc.getAddress(), await w.usdc.getAddress()]) {
        await expect(w.vault.listCollateral(token, wad(0.5), WAD))
          .to.be.revertedWithCustomError(w.vault, "CollateralAlreadyListed")
          .withArgs(token);
      }
    });

    it("rejects a token with more than 18 decimals", async () => {
      const { w, feed } = await loadFixture(linkWorld);
      const t19 = await (await ethers.getContractFactory("MockERC20")).deploy("Nineteen", "N19", 19);
      await w.oracle.setFeed(t19, feed, 3_600, ethers.ZeroAddress, 0, 0);
      await expect(w.vault.listCollateral(t19, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.vault, "UnsupportedDecimals")
        .withArgs(await t19.getAddress(), 19);
    });

    it("rejects weight 0, weight above 0.95 and cap 0 (ParamOutOfBounds)", async () => {
      const { w, link } = await loadFixture(linkWorld);
      await expect(w.vault.listCollateral(link, 0n, WAD))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("collateralWeight"), 0n, 1n, MAX_COLLATERAL_WEIGHT);
      await expect(w.vault.listCollateral(link, MAX_COLLATERAL_WEIGHT + 1n, WAD))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("collateralWeight"), MAX_COLLATERAL_WEIGHT + 1n, 1n, MAX_COLLATERAL_WEIGHT);
      await expect(w.vault.listCollateral(link, wad(0.5), 0n))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("collateralCap"), 0n, 1n, MAX_UINT128);
      // Bounds themselves are fine.
      await expect(w.vault.listCollateral(link, MAX_COLLATERAL_WEIGHT, 1n))
        .to.emit(w.vault, "CollateralListed")
        .withArgs(await link.getAddress(), 3, MAX_COLLATERAL_WEIGHT, 1n);
    });

    it("rejects the zero address and a token the oracle cannot price", async () => {
      const { w } = await loadFixture(linkWorld);
      await expect(w.vault.listCollateral(ethers.ZeroAddress, wad(0.5), WAD)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAddress",
      );
      const unpriced = await (await ethers.getContractFactory("MockERC20")).deploy("X", "X", 18);
      await expect(w.vault.listCollateral(unpriced, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.oracle, "FeedNotSet")
        .withArgs(await unpriced.getAddress());
    });

    it("caps the number of collateral assets at 32, quote included (TooManyCollaterals)", async () => {
      const { w, feed } = await loadFixture(linkWorld);
      const factory = await ethers.getContractFactory("MockERC20");
      for (let i = 3; i < 32; i++) {
        const token = await factory.deploy(`T${i}`, `T${i}`, 18);
        await w.oracle.setFeed(token, feed, 3_600, ethers.ZeroAddress, 0, 0);
        await w.vault.listCollateral(token, wad(0.5), WAD);
      }
      expect(await w.vault.collateralTokens()).to.have.length(32);
      const extra = await factory.deploy("T32", "T32", 18);
      await w.oracle.setFeed(extra, feed, 3_600, ethers.ZeroAddress, 0, 0);
      await expect(w.vault.listCollateral(extra, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.vault, "TooManyCollaterals")
        .withArgs(32);
    });

    it("is RISK_ADMIN only", async () => {
      const { w, link } = await loadFixture(linkWorld);
      const [t] = w.traders;
      await expect(w.vault.connect(t).listCollateral(link, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, RISK_ADMIN);
    });
  });

  describe("setCollateralParams", () => {
    it("changes weight and cap and emits CollateralParamsSet", async () => {
      const w = await loadFixture(deployWorld);
      const weth = await w.weth.getAddress();
      const index = (await w.vault.collateralConfig(weth)).index;
      await expect(w.vault.setCollateralParams(weth, wad(0.9), 50_000n * WAD))
        .to.emit(w.vault, "CollateralParamsSet")
        .withArgs(weth, wad(0.9), 50_000n * WAD);
      const cfg = await w.vault.collateralConfig(weth);
      expect(cfg.weightWad).to.equal(wad(0.9));
      expect(cfg.capWad).to.equal(50_000n * WAD);
      expect(cfg.index).to.equal(index);
      expect(cfg.decimals).to.equal(18n);
      // The new weight values collateral: 10 WETH × $3000 × 0.9.
      const [t] = w.traders;
      await w.vault.connect(t).deposit(weth, 10n * WAD);
      expect((await w.vault.accountHealth(t.address)).collateralValueWad).to.equal(27_000n * WAD);
    });

    it("rejects a no-op with NoChange", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.vault.setCollateralParams(w.weth, wad(0.85), 100_000n * WAD)).to.be.revertedWithCustomError(
        w.vault,
        "NoChange",
      );
      await expect(w.vault.setCollateralParams(w.wbtc, wad(0.85), 5_000n * WAD)).to.be.revertedWithCustomError(
        w.vault,
        "NoChange",
      );
    });

    it("rejects the quote token and unlisted tokens (UnknownCollateral)", async () => {
      const w = await loadFixture(deployWorld);
      const usdcAddr = await w.usdc.getAddress();
      await expect(w.vault.setCollateralParams(usdcAddr, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(usdcAddr);
      const other = ethers.Wallet.createRandom().address;
      await expect(w.vault.setCollateralParams(other, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.vault, "UnknownCollateral")
        .withArgs(other);
    });

    it("checks the bounds", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.vault.setCollateralParams(w.weth, 0n, WAD))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("collateralWeight"), 0n, 1n, MAX_COLLATERAL_WEIGHT);
      await expect(w.vault.setCollateralParams(w.weth, WAD, WAD))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("collateralWeight"), WAD, 1n, MAX_COLLATERAL_WEIGHT);
      await expect(w.vault.setCollateralParams(w.weth, wad(0.5), 0n))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("collateralCap"), 0n, 1n, MAX_UINT128);
    });

    it("is RISK_ADMIN only", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await expect(w.vault.connect(t).setCollateralParams(w.weth, wad(0.5), WAD))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, RISK_ADMIN);
    });
  });

  describe("setGlobalParams", () => {
    it("holds the deployed values and rejects re-setting them (NoChange)", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.vault.insuranceFeeShareWad()).to.equal(wad(0.2));
      expect(await w.vault.reserveRatioWad()).to.equal(wad(0.25));
      expect(await w.vault.liquidationBufferWad()).to.equal(5n * WAD);
      await expect(w.vault.setGlobalParams(wad(0.2), wad(0.25), 5n * WAD)).to.be.revertedWithCustomError(
        w.vault,
        "NoChange",
      );
    });

    it("sets the parameters, bounds included, and emits GlobalParamsSet", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.vault.setGlobalParams(MAX_INSURANCE_FEE_SHARE, MAX_RESERVE_RATIO, MAX_LIQUIDATION_BUFFER))
        .to.emit(w.vault, "GlobalParamsSet")
        .withArgs(MAX_INSURANCE_FEE_SHARE, MAX_RESERVE_RATIO, MAX_LIQUIDATION_BUFFER);
      expect(await w.vault.insuranceFeeShareWad()).to.equal(MAX_INSURANCE_FEE_SHARE);
      expect(await w.vault.reserveRatioWad()).to.equal(MAX_RESERVE_RATIO);
      expect(await w.vault.liquidationBufferWad()).to.equal(MAX_LIQUIDATION_BUFFER);
      await expect(w.vault.setGlobalParams(0n, 0n, 0n))
        .to.emit(w.vault, "GlobalParamsSet")
        .withArgs(0n, 0n, 0n);
      // Changing only one of the three is a change.
      await expect(w.vault.setGlobalParams(0n, 0n, 1n))
        .to.emit(w.vault, "GlobalParamsSet")
        .withArgs(0n, 0n, 1n);
    });

    it("rejects each parameter above its bound (ParamOutOfBounds)", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.vault.setGlobalParams(MAX_INSURANCE_FEE_SHARE + 1n, wad(0.25), 5n * WAD))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("insuranceFeeShare"), MAX_INSURANCE_FEE_SHARE + 1n, 0n, MAX_INSURANCE_FEE_SHARE);
      await expect(w.vault.setGlobalParams(wad(0.2), MAX_RESERVE_RATIO + 1n, 5n * WAD))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("reserveRatio"), MAX_RESERVE_RATIO + 1n, 0n, MAX_RESERVE_RATIO);
      await expect(w.vault.setGlobalParams(wad(0.2), wad(0.25), MAX_LIQUIDATION_BUFFER + 1n))
        .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
        .withArgs(b32("liquidationBuffer"), MAX_LIQUIDATION_BUFFER + 1n, 0n, MAX_LIQUIDATION_BUFFER);
      expect(await w.vault.reserveRatioWad()).to.equal(wad(0.25));
    });

    it("is RISK_ADMIN only", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await expect(w.vault.connect(t).setGlobalParams(0n, 0n, 0n))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, RISK_ADMIN);
    });
  });

  describe("setRiskEngine", () => {
    it("replaces the engine and emits RiskEngineSet", async () => {
      const w = await loadFixture(deployWorld);
      const engine = await (await ethers.getContractFactory("StaticRiskEngine")).deploy(w.admin.address);
      await engine.setRatios(ETH_USD, wad(0.2), wad(0.1));
      // An engine that does not know every listed market (BTC-USD) is refused.
      await expect(w.vault.setRiskEngine(engine))
        .to.be.revertedWithCustomError(engine, "RatiosNotSet")
        .withArgs(BTC_USD);
      await engine.setRatios(BTC_USD, wad(0.2), wad(0.1));
      await expect(w.vault.setRiskEngine(engine))
        .to.emit(w.vault, "RiskEngineSet")
        .withArgs(await engine.getAddress());
      expect(await w.vault.riskEngine()).to.equal(await engine.getAddress());
      // Margin now follows the new engine: 10 ETH at $3000 × 20% + $5 buffer.
      const [t] = w.traders;
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(10_000));
      await w.vault.connect(t).trade(ETH_USD, 10n * WAD, ethers.MaxUint256);
      expect((await w.vault.accountHealth(t.address)).initialMarginWad).to.equal(6_005n * WAD);
    });

    it("rejects the zero address and the current engine", async () => {
      const w = await loadFixture(deployWorld);
      await expect(w.vault.setRiskEngine(ethers.ZeroAddress)).to.be.revertedWithCustomError(w.vault, "ZeroAddress");
      await expect(w.vault.setRiskEngine(w.risk)).to.be.revertedWithCustomError(w.vault, "NoChange");
    });

    it("is DEFAULT_ADMIN only (RISK_ADMIN is not enough)", async () => {
      const w = await loadFixture(deployWorld);
      const [t] = w.traders;
      await w.vault.grantRole(RISK_ADMIN, t.address);
      const engine = await (await ethers.getContractFactory("StaticRiskEngine")).deploy(w.admin.address);
      await expect(w.vault.connect(t).setRiskEngine(engine))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, DEFAULT_ADMIN);
      expect(await w.vault.riskEngine()).to.equal(await w.risk.getAddress());
    });
  });

  describe("initialize and construction", () => {
    it("the deployed vault is initialised once (AlreadyInitialized), by DEFAULT_ADMIN only", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.vault.pool()).to.equal(await w.pool.getAddress());
      expect(await w.vault.insuranceFund()).to.equal(await w.insurance.getAddress());
      await expect(w.vault.initialize(w.traders[0].address, w.traders[1].address)).to.be.revertedWithCustomError(
        w.vault,
        "AlreadyInitialized",
      );
      const [t] = w.traders;
      await expect(w.vault.connect(t).initialize(t.address, t.address))
        .to.be.revertedWithCustomError(w.vault, "AccessControlUnauthorizedAccount")
        .withArgs(t.address, DEFAULT_ADMIN);
      expect(await w.vault.pool()).to.equal(await w.pool.getAddress());
    });

    it("a fresh vault rejects zero addresses, then initialises and emits PoolAndInsuranceSet", async () => {
      const w = await loadFixture(deployWorld);
      const factory = await deployVaultFactory();
      const vault = await factory.deploy(w.admin.address, w.oracle, w.risk, w.usdc);
      const [a, b] = w.traders;
      await expect(vault.initialize(ethers.ZeroAddress, b.address)).to.be.revertedWithCustomError(vault, "ZeroAddress");
      await expect(vault.initialize(a.address, ethers.ZeroAddress)).to.be.revertedWithCustomError(vault, "ZeroAddress");
      await expect(vault.initialize(a.address, b.address))
        .to.emit(vault, "PoolAndInsuranceSet")
        .withArgs(a.address, b.address);
      await expect(vault.initialize(a.address, b.address)).to.be.revertedWithCustomError(vault, "AlreadyInitialized");
      // The quote token is collateral index 0 with weight 1.
      const cfg = await vault.collateralConfig(w.usdc);
      expect(cfg.index).to.equal(0n);
      expect(cfg.weightWad).to.equal(WAD);
      expect(cfg.decimals).to.equal(6n);
      expect(cfg.capWad).to.equal(MAX_UINT128);
    });

    it("the constructor rejects zero addresses and a quote token with more than 18 decimals", async () => {
      const w = await loadFixture(deployWorld);
      const factory = await deployVaultFactory();
      const a = w.admin.address;
      await expect(factory.deploy(ethers.ZeroAddress, w.oracle, w.risk, w.usdc)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(a, ethers.ZeroAddress, w.risk, w.usdc)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(a, w.oracle, ethers.ZeroAddress, w.usdc)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(a, w.oracle, w.risk, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      const t19 = await (await ethers.getContractFactory("MockERC20")).deploy("Nineteen", "N19", 19);
      await expect(factory.deploy(a, w.oracle, w.risk, t19))
        .to.be.revertedWithCustomError(factory, "UnsupportedDecimals")
        .withArgs(await t19.getAddress(), 19);
    });

    it("grants DEFAULT_ADMIN and RISK_ADMIN to the admin, and nothing to anyone else", async () => {
      const w = await loadFixture(deployWorld);
      expect(await w.vault.RISK_ADMIN_ROLE()).to.equal(RISK_ADMIN);
      expect(await w.vault.hasRole(DEFAULT_ADMIN, w.admin.address)).to.equal(true);
      expect(await w.vault.hasRole(RISK_ADMIN, w.admin.address)).to.equal(true);
      for (const s of [w.liquidator, w.lp, ...w.traders]) {
        expect(await w.vault.hasRole(DEFAULT_ADMIN, s.address)).to.equal(false);
        expect(await w.vault.hasRole(RISK_ADMIN, s.address)).to.equal(false);
      }
    });
  });
});

import hre, { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import BulwarkCore from "../../deploy/modules/BulwarkCore";
import BulwarkLocal, { ETH_USD, BTC_USD } from "../../deploy/modules/BulwarkLocal";
import type {
  AuctionHouse,
  CircuitBreaker,
  InsuranceFund,
  LiquidityPool,
  MockAggregator,
  MockERC20,
  OracleRouter,
  PerpVault,
  StaticRiskEngine,
  StairstepExponentialDecrease,
} from "../../typechain-types";

export { ETH_USD, BTC_USD };
export const WAD = 10n ** 18n;
export const PARAMETERS = "deploy/parameters/local.json";

/** WAD from a decimal number (6 decimal places of precision). */
export const wad = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
/** USDC units (6 decimals) from dollars. */
export const usdc = (x: number): bigint => BigInt(Math.round(x * 1e6));
/** Chainlink 8-decimal answer from a USD price. */
export const e8 = (x: number): bigint => BigInt(Math.round(x * 1e8));

export interface World {
  vault: PerpVault;
  pool: LiquidityPool;
  insurance: InsuranceFund;
  oracle: OracleRouter;
  risk: StaticRiskEngine;
  auction: AuctionHouse;
  breaker: CircuitBreaker;
  curve: StairstepExponentialDecrease;
  usdc: MockERC20;
  weth: MockERC20;
  wbtc: MockERC20;
  ethFeed: MockAggregator;
  btcFeed: MockAggregator;
  admin: HardhatEthersSigner;
  liquidator: HardhatEthersSigner;
  lp: HardhatEthersSigner;
  traders: HardhatEthersSigner[];
}

/** What a local Ignition deployment returns (`BulwarkLocal` or a module built on it). */
interface LocalDeployment {
  vault: Addressable;
  pool: Addressable;
  insuranceFund: Addressable;
  oracleRouter: Addressable;
  riskEngine: Addressable;
  auctionHouse: Addressable;
  circuitBreaker: Addressable;
  curve: Addressable;
  usdc: Addressable;
  weth: Addressable;
  wbtc: Addressable;
  ethFeed: Addressable;
  btcFeed: Addressable;
}
type Addressable = { getAddress(): Promise<string> };

/**
 * Typed contracts for a local deployment, with LIQUIDATOR_ROLE granted to a test signer, $10M in
 * the pool and $1M USDC, 1,000 WETH and 50 WBTC (approved to the vault) for each of 8 traders.
 */
export async function seedWorld(deployed: LocalDeployment): Promise<World> {
  const at = async (c: Addressable) => c.getAddress();
  const [admin, liquidator, lp, ...traders] = await ethers.getSigners();
  const w: World = {
    vault: await ethers.getContractAt("PerpVault", await at(deployed.vault)),
    pool: await ethers.getContractAt("LiquidityPool", await at(deployed.pool)),
    insurance: await ethers.getContractAt("InsuranceFund", await at(deployed.insuranceFund)),
    oracle: await ethers.getContractAt("OracleRouter", await at(deployed.oracleRouter)),
    risk: await ethers.getContractAt("StaticRiskEngine", await at(deployed.riskEngine)),
    auction: await ethers.getContractAt("AuctionHouse", await at(deployed.auctionHouse)),
    breaker: await ethers.getContractAt("CircuitBreaker", await at(deployed.circuitBreaker)),
    curve: await ethers.getContractAt("StairstepExponentialDecrease", await at(deployed.curve)),
    usdc: await ethers.getContractAt("MockERC20", await at(deployed.usdc)),
    weth: await ethers.getContractAt("MockERC20", await at(deployed.weth)),
    wbtc: await ethers.getContractAt("MockERC20", await at(deployed.wbtc)),
    ethFeed: await ethers.getContractAt("MockAggregator", await at(deployed.ethFeed)),
    btcFeed: await ethers.getContractAt("MockAggregator", await at(deployed.btcFeed)),
    admin,
    liquidator,
    lp,
    traders: traders.slice(0, 8),
  };

  await w.vault.grantRole(await w.vault.LIQUIDATOR_ROLE(), liquidator.address);
  const vaultAddr = await w.vault.getAddress();
  const poolAddr = await w.pool.getAddress();

  await w.usdc.mint(lp.address, usdc(100_000_000));
  await w.usdc.connect(lp).approve(poolAddr, ethers.MaxUint256);
  await w.pool.connect(lp).deposit(usdc(10_000_000), lp.address);

  for (const t of w.traders) {
    await w.usdc.mint(t.address, usdc(1_000_000));
    await w.weth.mint(t.address, 1_000n * WAD);
    await w.wbtc.mint(t.address, 50n * 10n ** 8n);
    await w.usdc.connect(t).approve(vaultAddr, ethers.MaxUint256);
    await w.weth.connect(t).approve(vaultAddr, ethers.MaxUint256);
    await w.wbtc.connect(t).approve(vaultAddr, ethers.MaxUint256);
  }
  return w;
}

/**
 * Deploys the local stack through the same Ignition module and parameter file a user deploys
 * with, then seeds it (`seedWorld`). Use with `loadFixture`.
 */
export async function deployWorld(): Promise<World> {
  return seedWorld(await hre.ignition.deploy(BulwarkLocal, { parameters: PARAMETERS, displayUi: false }));
}

/** Sets the ETH/USD mock feed (fresh timestamp). */
export async function setEthPrice(w: World, usd: number): Promise<void> {
  await w.ethFeed.setAnswer(e8(usd));
}

/** Sets the BTC/USD mock feed (fresh timestamp). */
export async function setBtcPrice(w: World, usd: number): Promise<void> {
  await w.btcFeed.setAnswer(e8(usd));
}

/** A price bound that never binds: for buys the maximum, for sells zero. */
export const anyPrice = (sizeDeltaWad: bigint): bigint => (sizeDeltaWad > 0n ? ethers.MaxUint256 : 0n);

/**
 * Deposits `collateralUsd` USDC for `trader` and opens `sizeWad` (signed) in `market` with no
 * slippage bound.
 */
export async function openLeveraged(
  w: World,
  trader: HardhatEthersSigner,
  market: string,
  collateralUsd: number,
  sizeWad: bigint,
): Promise<void> {
  if (collateralUsd > 0) await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(collateralUsd));
  await w.vault.connect(trader).trade(market, sizeWad, anyPrice(sizeWad));
}

/**
 * The `BulwarkCore` module on an existing quote token, with WETH, an ETH/USD mock feed at $3,000
 * and the ETH-USD market listed (IMR 10%, MMR 5%, funding velocity zero). Nothing is deposited.
 */
export async function deployCoreOn(quote: Addressable) {
  const weth = await ethers.deployContract("MockERC20", ["Wrapped Ether", "WETH", 18]);
  const feed = await ethers.deployContract("MockAggregator", [8, "ETH / USD", e8(3_000)]);
  const core = await hre.ignition.deploy(BulwarkCore, {
    parameters: { BulwarkCore: { quoteToken: await quote.getAddress() } },
    displayUi: false,
  });
  const vault = await ethers.getContractAt("PerpVault", await core.vault.getAddress());
  const pool = await ethers.getContractAt("LiquidityPool", await core.pool.getAddress());
  const oracle = await ethers.getContractAt("OracleRouter", await core.oracleRouter.getAddress());
  const risk = await ethers.getContractAt("StaticRiskEngine", await core.riskEngine.getAddress());
  await oracle.setFeed(await weth.getAddress(), feed, 3600, ethers.ZeroAddress, 0, 0);
  await risk.setRatios(ETH_USD, wad(0.1), wad(0.05));
  await vault.listMarket(ETH_USD, {
    oracleAsset: await weth.getAddress(),
    makerFeeWad: wad(0.0002),
    takerFeeWad: wad(0.0006),
    maxFundingVelocityWad: 0n,
    maxOiPoolRatioWad: WAD,
    skewScaleWad: 1_000_000n * WAD,
  });
  return { weth, feed, vault, pool };
}

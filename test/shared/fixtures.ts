import hre, { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import BulwarkLocal, { ETH_USD, BTC_USD } from "../../deploy/modules/BulwarkLocal";
import type {
  AuctionHouse,
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

/**
 * Deploys the local stack through the same Ignition module and parameter file a user deploys
 * with, grants LIQUIDATOR_ROLE to a test signer, seeds the pool with $10M and gives every trader
 * $1M USDC, 1,000 WETH and 50 WBTC with approvals. Use with `loadFixture`.
 */
export async function deployWorld(): Promise<World> {
  const deployed = await hre.ignition.deploy(BulwarkLocal, { parameters: PARAMETERS, displayUi: false });
  const [admin, liquidator, lp, ...traders] = await ethers.getSigners();
  const w: World = {
    vault: await ethers.getContractAt("PerpVault", await deployed.vault.getAddress()),
    pool: await ethers.getContractAt("LiquidityPool", await deployed.pool.getAddress()),
    insurance: await ethers.getContractAt("InsuranceFund", await deployed.insuranceFund.getAddress()),
    oracle: await ethers.getContractAt("OracleRouter", await deployed.oracleRouter.getAddress()),
    risk: await ethers.getContractAt("StaticRiskEngine", await deployed.riskEngine.getAddress()),
    auction: await ethers.getContractAt("AuctionHouse", await deployed.auctionHouse.getAddress()),
    curve: await ethers.getContractAt("StairstepExponentialDecrease", await deployed.curve.getAddress()),
    usdc: await ethers.getContractAt("MockERC20", await deployed.usdc.getAddress()),
    weth: await ethers.getContractAt("MockERC20", await deployed.weth.getAddress()),
    wbtc: await ethers.getContractAt("MockERC20", await deployed.wbtc.getAddress()),
    ethFeed: await ethers.getContractAt("MockAggregator", await deployed.ethFeed.getAddress()),
    btcFeed: await ethers.getContractAt("MockAggregator", await deployed.btcFeed.getAddress()),
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

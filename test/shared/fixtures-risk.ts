import hre, { ethers } from "hardhat";
import BulwarkLocalDynamic from "../../deploy/modules/BulwarkLocalDynamic";
import type { RiskEngine } from "../../typechain-types";
import { usdc, WAD, type World } from "./fixtures";

export const DYNAMIC_PARAMETERS = "deploy/parameters/local-dynamic.json";

/**
 * The local world with the dynamic risk engine in force. `risk` is still the static engine that
 * `BulwarkLocal` deployed (now detached from the vault), so every helper written for `World`
 * works unchanged; `engine` is the `RiskEngine` the vault uses.
 */
export interface DynamicWorld extends World {
  engine: RiskEngine;
}

/**
 * Deploys the local stack through `BulwarkLocalDynamic` and `deploy/parameters/local-dynamic.json`
 * (the same module and file a user deploys with), then seeds it exactly like `deployWorld`:
 * LIQUIDATOR_ROLE to a test signer, $10M in the pool, and $1M USDC, 1,000 WETH and 50 WBTC with
 * approvals for each of 8 traders. Use with `loadFixture`.
 */
export async function deployDynamicWorld(): Promise<DynamicWorld> {
  const deployed = await hre.ignition.deploy(BulwarkLocalDynamic, {
    parameters: DYNAMIC_PARAMETERS,
    displayUi: false,
  });
  const [admin, liquidator, lp, ...traders] = await ethers.getSigners();
  const w: DynamicWorld = {
    vault: await ethers.getContractAt("PerpVault", await deployed.vault.getAddress()),
    pool: await ethers.getContractAt("LiquidityPool", await deployed.pool.getAddress()),
    insurance: await ethers.getContractAt("InsuranceFund", await deployed.insuranceFund.getAddress()),
    oracle: await ethers.getContractAt("OracleRouter", await deployed.oracleRouter.getAddress()),
    risk: await ethers.getContractAt("StaticRiskEngine", await deployed.riskEngine.getAddress()),
    engine: await ethers.getContractAt("RiskEngine", await deployed.engine.getAddress()),
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

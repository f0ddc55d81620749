/**
 * A first look at Bulwark: deploys the local stack with Ignition (in-process chain by default,
 * or `--network localhost`), funds an LP and two traders, opens leveraged positions, crashes the
 * ETH price and prints each account's equity, requirements and liquidation status.
 *
 *   npm run demo                          # in-process Hardhat network
 *   npx hardhat run scripts/demo.ts --network localhost
 */
import hre, { ethers } from "hardhat";
import BulwarkLocal, { ETH_USD } from "../deploy/modules/BulwarkLocal";

const WAD = 10n ** 18n;
const fmt = (wad: bigint, digits = 2): string => (Number(wad) / 1e18).toFixed(digits);

async function main(): Promise<void> {
  if (hre.network.name !== "hardhat") {
    // On a node, Ignition reuses the deployment `npm run deploy:local` made there: the demo's crash
    // moves that deployment's ETH oracle for every other user of the node (a keeper, a session).
    console.warn(
      `warning: on network "${hre.network.name}" the demo uses the node's BulwarkLocal deployment and ` +
        `moves its ETH oracle down to $2,800; anyone else using this node sees the crash`,
    );
  }
  const deployed = await hre.ignition.deploy(BulwarkLocal, {
    parameters: "deploy/parameters/local.json",
    displayUi: false,
  });
  const vault = await ethers.getContractAt("PerpVault", await deployed.vault.getAddress());
  const pool = await ethers.getContractAt("LiquidityPool", await deployed.pool.getAddress());
  const usdc = await ethers.getContractAt("MockERC20", await deployed.usdc.getAddress());
  const ethFeed = await ethers.getContractAt("MockAggregator", await deployed.ethFeed.getAddress());
  console.log(`network ${hre.network.name}: vault ${await vault.getAddress()}, pool ${await pool.getAddress()}`);

  const [, lp, alice, bob] = await ethers.getSigners();
  const usdcAddr = await usdc.getAddress();
  await (await usdc.mint(lp.address, 5_000_000n * 10n ** 6n)).wait();
  await (await usdc.connect(lp).approve(await pool.getAddress(), ethers.MaxUint256)).wait();
  await (await pool.connect(lp).deposit(5_000_000n * 10n ** 6n, lp.address)).wait();
  console.log(`LP deposited $5,000,000; pool value $${fmt(await vault.poolValue())}`);

  const traders = [
    { who: alice, name: "alice", collateral: 20_000n, size: 50n * WAD }, // ~7.5x long
    { who: bob, name: "bob", collateral: 10_000n, size: 60n * WAD }, // ~18x long
  ];
  for (const t of traders) {
    await (await usdc.mint(t.who.address, t.collateral * 10n ** 6n)).wait();
    await (await usdc.connect(t.who).approve(await vault.getAddress(), ethers.MaxUint256)).wait();
    await (await vault.connect(t.who).deposit(usdcAddr, t.collateral * 10n ** 6n)).wait();
    const fill = await vault.fillPrice(ETH_USD, t.size);
    await (await vault.connect(t.who).trade(ETH_USD, t.size, (fill * 1001n) / 1000n)).wait();
    console.log(`${t.name}: deposited $${t.collateral}, long ${fmt(t.size)} ETH at ~$${fmt(fill)}`);
  }

  for (const price of [3000, 2900, 2800]) {
    await (await ethFeed.setAnswer(BigInt(price) * 10n ** 8n)).wait();
    console.log(`\nETH = $${price}`);
    for (const t of traders) {
      const h = await vault.accountHealth(t.who.address);
      const [liquidatable] = await vault.isLiquidatable(t.who.address);
      console.log(
        `  ${t.name.padEnd(6)} equity $${fmt(h.equityWad).padStart(10)}  IM $${fmt(h.initialMarginWad).padStart(9)}` +
          `  MM $${fmt(h.maintenanceMarginWad).padStart(9)}  ${liquidatable ? "LIQUIDATABLE" : "healthy"}`,
      );
    }
  }
  console.log(`\npool value $${fmt(await vault.poolValue())}, insurance $${fmt(await vault.insuranceBalance())}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * Calling a deployed Bulwark from your own TypeScript: connect from the Ignition deployment of
 * the network you run on, then use the typed contracts (TypeChain) or the user-task helpers.
 *
 *   npx hardhat run scripts/call-from-ts.ts --network localhost
 */
import hre from "hardhat";
import { connect } from "../lib/client";
import { poolStatus, status } from "./lib/actions";

async function main(): Promise<void> {
  const b = await connect(hre); // deploy/deployments/chain-<chainId>/, or BULWARK_ADDRESSES
  const [me] = await hre.ethers.getSigners();

  // Typed contracts: b.vault is a TypeChain PerpVault.
  const ethUsd = b.markets.find((m) => m.name === "ETH-USD")!.id;
  const fill = await b.vault.fillPrice(ethUsd, 10n ** 18n);
  console.log(
    `vault ${await b.vault.getAddress()} on chain ${b.chainId}: 1 ETH buys at ${hre.ethers.formatUnits(fill, 18)}`,
  );

  // The same figures the `status` and `pool-status` tasks print.
  const s = await status(b, me.address);
  console.log(`${me.address}: equity $${s.equity}, MM $${s.maintenanceMargin}, positions ${s.positions.length}`);
  for (const p of s.positions) console.log(`  ${p.market} ${p.size} liquidation price ${p.liquidationPrice ?? "none"}`);
  const pool = await poolStatus(b);
  console.log(
    `pool value $${pool.poolValue}, share price ${pool.sharePrice} ${pool.quoteToken}, insurance $${pool.insuranceBalance}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

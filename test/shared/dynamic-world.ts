import hre, { ethers } from "hardhat";
import BulwarkLocalDynamic from "../../deploy/modules/BulwarkLocalDynamic";
import type { RiskEngine } from "../../typechain-types";
import { seedWorld, type World } from "./local-world";

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
 * (the same module and file a user deploys with), then seeds it exactly like `deployWorld`
 * (`seedWorld`). Use with `loadFixture`.
 */
export async function deployDynamicWorld(): Promise<DynamicWorld> {
  const deployed = await hre.ignition.deploy(BulwarkLocalDynamic, {
    parameters: DYNAMIC_PARAMETERS,
    displayUi: false,
  });
  const world = await seedWorld(deployed);
  return { ...world, engine: await ethers.getContractAt("RiskEngine", await deployed.engine.getAddress()) };
}

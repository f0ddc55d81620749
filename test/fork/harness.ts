/**
 * Fork harness. Local target (default): start a chain as a child process (`hardhat node`, or anvil
 * with CHAIN=anvil), deploy with the Ignition CLI, populate the pre-crash state, and remember the
 * populated block. External target: FORK_URL (optional FORK_BLOCK) and the deployment's addresses
 * from BULWARK_ADDRESSES or deploy/deployments/chain-<id>/. Either way the in-process Hardhat
 * network then forks the target at that block (`hardhat_reset` + one mined block, see
 * toolchain.md), and cascades run on the fork.
 */
import fs from "node:fs";
import { JsonRpcProvider } from "ethers";
import { reset } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { resolveAddresses } from "../../lib/deployment";
import { startNode, type LocalNode } from "../../lib/devnode";
import { addressOf, ignitionDeploy, ROOT, testDeploymentId, type Deployment } from "../scripts/cli";
import { populate, traders as populationOf } from "./population";

export interface ForkTarget {
  kind: "local" | "external";
  url: string;
  /** Block to fork at: the populated block (local), FORK_BLOCK or the latest (external). */
  block: number;
  vault: string;
  /** Accounts of the pre-crash population (local); discovered from events on the fork otherwise. */
  population: string[];
  node?: LocalNode;
  deployment?: Deployment;
  /** Wall-clock milliseconds: node start, Ignition deploy, populate. */
  timings: Record<string, number>;
  /** Stops the node and removes the deployment folder (local); nothing for external targets. */
  close(): Promise<void>;
}

/** Empty blocks mined on a local target after its populated block (see prepareTarget). */
const SAFE_DEPTH = "0x100";

export async function prepareTarget(): Promise<ForkTarget> {
  const url = process.env.FORK_URL;
  if (url) return externalTarget(url);
  const timings: Record<string, number> = {};
  let t = Date.now();
  const node = await startNode();
  timings.startNodeMs = Date.now() - t;
  let deployment: Deployment | undefined;
  const close = async (): Promise<void> => {
    if (deployment) fs.rmSync(deployment.dir, { recursive: true, force: true });
    await node.stop();
  };
  try {
    t = Date.now();
    deployment = await ignitionDeploy({
      module: "deploy/modules/BulwarkLocal.ts",
      parameters: "deploy/parameters/local.json",
      network: "localhost",
      chainId: node.chainId,
      deploymentId: testDeploymentId(`fork-${node.kind}`),
      env: { LOCALHOST_RPC_URL: node.url },
    });
    timings.deployMs = Date.now() - t;
    t = Date.now();
    // One request per HTTP call: ethers otherwise holds each request 10 ms to batch it with others.
    const provider = new JsonRpcProvider(node.url, undefined, {
      staticNetwork: true,
      cacheTimeout: -1,
      batchMaxCount: 1,
    });
    try {
      const admin = await provider.getSigner(0);
      const population = await populate(provider, admin, {
        vault: addressOf(deployment, "PerpVault"),
        pool: addressOf(deployment, "LiquidityPool"),
        usdc: addressOf(deployment, "USDC"),
        weth: addressOf(deployment, "WETH"),
      });
      timings.populateMs = Date.now() - t;
      const block = await provider.getBlockNumber();
      // Bury the populated block under empty blocks. An in-process fork caches the remote state
      // only at a block deep enough below the remote's tip to be safe from reorgs; at the tip it
      // fetches code, nonce, balance and storage again on every call (~40× slower cascades).
      // Empty blocks after it change nothing at the block the fork starts from.
      await provider.send(node.kind === "anvil" ? "anvil_mine" : "hardhat_mine", [SAFE_DEPTH]);
      return {
        kind: "local",
        url: node.url,
        block,
        vault: addressOf(deployment, "PerpVault"),
        population: population.map((p) => p.address),
        node,
        deployment,
        timings,
        close,
      };
    } finally {
      provider.destroy();
    }
  } catch (e) {
    await close();
    throw e;
  }
}

async function externalTarget(url: string): Promise<ForkTarget> {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true });
  try {
    const chainId = Number((await provider.getNetwork()).chainId);
    const block = process.env.FORK_BLOCK ? Number(process.env.FORK_BLOCK) : await provider.getBlockNumber();
    const { vault } = resolveAddresses({ chainId, root: ROOT });
    if ((await provider.getCode(vault, block)) === "0x") {
      throw new Error(`FORK_URL: no PerpVault at ${vault} on chain ${chainId} at block ${block}`);
    }
    return {
      kind: "external",
      url,
      block,
      vault,
      population: [], // discovered from the vault's events on the fork
      timings: {},
      close: async () => undefined,
    };
  } finally {
    provider.destroy();
  }
}

/**
 * Forks the in-process network at `block` of `url`, then mines one block so that the next call
 * does not hit "No known hardfork for execution on historical block" (toolchain.md).
 */
export async function forkAt(hre: HardhatRuntimeEnvironment, url: string, block: number): Promise<void> {
  await reset(url, block); // hardhat_reset with forking; also drops loadFixture snapshots
  await hre.network.provider.request({ method: "evm_mine", params: [] });
}

/** Returns the in-process network to a fresh, unforked chain (as other test files expect it). */
export async function unfork(): Promise<void> {
  await reset();
}

export { populationOf };

/**
 * The testnet path (acceptance 4), verified on a local node that stands in for Sepolia: a node
 * started with chain id 11155111, the `sepolia` network pointed at it through SEPOLIA_RPC_URL and
 * SEPOLIA_PRIVATE_KEY, and the exact deploy command of docs/deploy.md (same module, the testnet
 * parameter file). The tasks then find the deployment in deploy/deployments/chain-11155111/ with
 * no flag. The folder is removed afterwards (a pre-existing one is set aside and restored).
 */
import { expect } from "chai";
import fs from "node:fs";
import { JsonRpcProvider } from "ethers";
import { startNode, portInUse, type LocalNode } from "../../lib/devnode";
import { OracleRouter__factory, PerpVault__factory } from "../../typechain-types";
import type {
  DepositResult,
  LiquidatableResult,
  PoolStatusResult,
  StatusResult,
  TradeResult,
} from "../../scripts/lib/actions";
import { addressOf, hardhat, hardhatJson, ignitionDeploy, TEST_PRIVATE_KEY, type Deployment } from "./cli";

const SEPOLIA = 11155111;
/** Hardhat's (and anvil's) second well-known test account. */
const TEST_PRIVATE_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

describe("testnet path: the sepolia network and parameter file, on a local node with chain id 11155111", function () {
  let node: LocalNode;
  let dep: Deployment | undefined;
  let env: Record<string, string>;
  const folder = `${__dirname}/../../deploy/deployments/chain-${SEPOLIA}`;
  const aside = `${folder}.aside-${process.pid}`;

  before(async function () {
    if (fs.existsSync(folder)) fs.renameSync(folder, aside);
    node = await startNode({ chainId: SEPOLIA });
    env = { SEPOLIA_RPC_URL: node.url, SEPOLIA_PRIVATE_KEY: `${TEST_PRIVATE_KEY},${TEST_PRIVATE_KEY_1}` };
  });

  after(async function () {
    fs.rmSync(folder, { recursive: true, force: true });
    if (fs.existsSync(aside)) fs.renameSync(aside, folder);
    if (node) {
      await node.stop();
      expect(await portInUse(node.port)).to.equal(false);
    }
  });

  it("deploys with `ignition deploy … --parameters deploy/parameters/testnet.example.json --network sepolia`", async function () {
    dep = await ignitionDeploy({
      module: "deploy/modules/BulwarkLocal.ts",
      parameters: "deploy/parameters/testnet.example.json",
      network: "sepolia",
      chainId: SEPOLIA,
      env,
    });
    expect(dep.dir.endsWith(`chain-${SEPOLIA}`)).to.equal(true);
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, batchMaxCount: 1 });
    try {
      expect(Number((await provider.getNetwork()).chainId)).to.equal(SEPOLIA);
      const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
      expect(await vault.pool()).to.equal(addressOf(dep, "LiquidityPool"));
      // The testnet file's own values reached the chain: a one-day heartbeat for the mock feeds.
      const oracle = OracleRouter__factory.connect(addressOf(dep, "OracleRouter"), provider);
      expect((await oracle.feedOf(addressOf(dep, "WETH"))).primaryHeartbeat).to.equal(86_400n);
    } finally {
      provider.destroy();
    }
  });

  it("runs every user task with --network sepolia, finding the deployment by chain id", async function () {
    const net = ["--network", "sepolia"];
    const lp = await hardhatJson<DepositResult>(
      ["deposit", "--token", "USDC", "--amount", "500000", "--pool", "--mint", ...net],
      env,
    );
    expect(lp.target).to.equal("pool");
    const d = await hardhatJson<DepositResult>(
      ["deposit", "--token", "USDC", "--amount", "5000", "--mint", "--account", "1", ...net],
      env,
    );
    expect(d.balanceAfter).to.equal("5000");
    const t = await hardhatJson<TradeResult>(
      ["trade", "--market", "ETH-USD", "--size", "10", "--account", "1", ...net],
      env,
    );
    expect(t.newSize).to.equal("10");
    const s = await hardhatJson<StatusResult>(["status", "--account", "1", ...net], env);
    expect(s.positions[0].market).to.equal("ETH-USD");
    expect(Number(s.positions[0].liquidationPrice)).to.be.within(2_500, 3_000);
    const l = await hardhatJson<LiquidatableResult>(["liquidatable", "--all", ...net], env);
    expect(l.accountsScanned).to.equal(1);
    expect(l.liquidatable).to.deep.equal([]);
    const p = await hardhatJson<PoolStatusResult>(["pool-status", ...net], env);
    expect(p.markets[0].openLong).to.equal("10");
  });

  it("without SEPOLIA_RPC_URL, --network sepolia fails with a message naming the variable", async function () {
    const r = await hardhat(["pool-status", "--network", "sepolia"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("set SEPOLIA_RPC_URL");
  });
});

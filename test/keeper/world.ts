/**
 * The keeper tests' world on a real node: `hardhat node` (lib/devnode.ts), the local stack
 * deployed by `hardhat ignition deploy` as a user would (a throw-away deployment id), a
 * the deployment's CircuitBreaker, a Uniswap v3 WETH/USDC pool with a flash taker owned by the keeper, and a
 * population of leveraged traders. Blocks are mined by the test (automine off), 12 s apart.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, id as keccakId, type Signer } from "ethers";
import {
  AuctionHouse__factory,
  MockAggregator__factory,
  CircuitBreaker__factory,
  MockERC20__factory,
  PerpVault__factory,
  UniswapFlashTaker__factory,
  type AuctionHouse,
  type MockAggregator,
  type CircuitBreaker,
  type MockERC20,
  type PerpVault,
} from "../../typechain-types";
import type { LocalNode } from "../../lib/devnode";
import { deployPairWithLiquidity, FeeAmount } from "../shared/uniswap";

export const ETH_USD = "0x4554482d55534400000000000000000000000000000000000000000000000000";
export const WAD = 10n ** 18n;
export const CRASH_PRICE = 2_700;
const ROOT = path.resolve(__dirname, "..", "..");
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export const devWallet = (i: number, provider: JsonRpcProvider): HDNodeWallet =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${i}`).connect(provider);

export interface TraderSpec {
  wallet: Wallet;
  label: string;
  usdc: number;
  weth: bigint;
  size: bigint;
}

export interface KeeperWorld {
  node: LocalNode;
  provider: JsonRpcProvider;
  deploymentId: string;
  deploymentDir: string;
  addresses: Record<string, string>;
  admin: HDNodeWallet;
  keeper: HDNodeWallet;
  vault: PerpVault;
  auction: AuctionHouse;
  breaker: CircuitBreaker;
  ethFeed: MockAggregator;
  usdc: MockERC20;
  weth: MockERC20;
  flashTaker: string;
  traders: TraderSpec[];
}

export async function rpc<T = unknown>(provider: JsonRpcProvider, method: string, params: unknown[] = []): Promise<T> {
  return (await provider.send(method, params)) as T;
}

/** Mines one block 12 s after the previous one. */
export async function mine(provider: JsonRpcProvider): Promise<number> {
  await rpc(provider, "evm_increaseTime", [12]);
  await rpc(provider, "evm_mine", []);
  return Number(await rpc<string>(provider, "eth_blockNumber"));
}

/** Sends with automine off: the transaction is in the mempool until the next `mine`. */
export async function sendAndMine(provider: JsonRpcProvider, send: () => Promise<unknown>): Promise<number> {
  await send();
  return mine(provider);
}

/**
 * Deploys BulwarkLocal with Ignition to the node, as docs/keeper.md does, under a throw-away id;
 * `overrides` are BulwarkLocal module parameters added to deploy/parameters/local.json's.
 */
async function ignitionDeploy(
  node: LocalNode,
  deploymentId: string,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, string>> {
  let parameters = "deploy/parameters/local.json";
  if (Object.keys(overrides).length > 0) {
    const base = JSON.parse(fs.readFileSync(path.join(ROOT, parameters), "utf8")) as {
      BulwarkLocal: Record<string, unknown>;
    };
    parameters = path.join(ROOT, "deploy", "deployments", `${deploymentId}.parameters.json`);
    fs.mkdirSync(path.dirname(parameters), { recursive: true });
    fs.writeFileSync(parameters, JSON.stringify({ BulwarkLocal: { ...base.BulwarkLocal, ...overrides } }, null, 2));
  }
  try {
    await deployWith(node, deploymentId, parameters);
  } finally {
    if (parameters.endsWith(".parameters.json")) fs.rmSync(parameters, { force: true });
  }
  const file = path.join(ROOT, "deploy", "deployments", deploymentId, "deployed_addresses.json");
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
}

async function deployWith(node: LocalNode, deploymentId: string, parameters: string): Promise<void> {
  await promisify(execFile)(
    path.join(ROOT, "node_modules", ".bin", "hardhat"),
    [
      "ignition",
      "deploy",
      "deploy/modules/BulwarkLocal.ts",
      "--parameters",
      parameters,
      "--network",
      "localhost",
      "--deployment-id",
      deploymentId,
    ],
    { cwd: ROOT, env: { ...process.env, LOCALHOST_RPC_URL: node.url }, timeout: 180_000 },
  );
}

/**
 * 20 traders at ETH $3,000 with $10,000 each: 12 longs from 2× to 18× (those above ~8× fall
 * below maintenance at $2,700), 4 shorts at 5×, and 4 that post 10 WETH + $1,000 and go long
 * 80 ETH (negative equity at $2,700: a position lot, then a collateral lot of their WETH).
 */
function population(provider: JsonRpcProvider): TraderSpec[] {
  const out: TraderSpec[] = [];
  const wallet = (i: number) => new Wallet(keccakId(`bulwark keeper test trader ${i}`), provider);
  const sizeFor = (leverage: number) => (BigInt(Math.round(leverage * 10_000 * 1_000)) * WAD) / 3_000_000n;
  for (let i = 0; i < 12; i++) {
    const lev = 2 + (16 * i) / 11;
    out.push({ wallet: wallet(i), label: `long ${lev.toFixed(1)}x`, usdc: 10_000, weth: 0n, size: sizeFor(lev) });
  }
  for (let i = 12; i < 16; i++) {
    out.push({ wallet: wallet(i), label: "short 5x", usdc: 10_000, weth: 0n, size: -sizeFor(5) });
  }
  for (let i = 16; i < 20; i++) {
    out.push({ wallet: wallet(i), label: "weth-backed long 80", usdc: 1_000, weth: 10n * WAD, size: 80n * WAD });
  }
  return out;
}

/** This test process's throw-away Ignition deployment (removed by the spec's after hook). */
export const DEPLOYMENT_ID = `keeper-test-${process.pid}`;
export const DEPLOYMENT_DIR = path.join(ROOT, "deploy", "deployments", DEPLOYMENT_ID);

export interface WorldOptions {
  /** Ignition deployment id (default DEPLOYMENT_ID); the spec removes its folder afterwards. */
  deploymentId?: string;
  /** BulwarkLocal module parameters over deploy/parameters/local.json, e.g. `{ poolTakeover: true }`. */
  parameters?: Record<string, unknown>;
}

export async function buildWorld(node: LocalNode, opts: WorldOptions = {}): Promise<KeeperWorld> {
  const deploymentId = opts.deploymentId ?? DEPLOYMENT_ID;
  const deploymentDir = path.join(ROOT, "deploy", "deployments", deploymentId);
  fs.rmSync(deploymentDir, { recursive: true, force: true });
  const addresses = await ignitionDeploy(node, deploymentId, opts.parameters);
  const at = (name: string): string => {
    const hit = Object.entries(addresses).find(([k]) => k.endsWith(`#${name}`));
    if (!hit) throw new Error(`deployment has no ${name}`);
    return hit[1];
  };
  // One request per HTTP call: ethers otherwise holds each request 10 ms to batch it with others.
  const provider = new JsonRpcProvider(node.url, node.chainId, {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
  });
  const admin = devWallet(0, provider);
  const keeper = devWallet(7, provider);
  const vault = PerpVault__factory.connect(at("PerpVault"), admin);
  const auction = AuctionHouse__factory.connect(at("AuctionHouse"), admin);
  const usdc = MockERC20__factory.connect(at("USDC"), admin);
  const weth = MockERC20__factory.connect(at("WETH"), admin);
  const ethFeed = MockAggregator__factory.connect(at("EthUsdFeed"), admin);
  const vaultAddr = await vault.getAddress();

  // The deployment's own breaker; the admin (account 0) holds its GUARDIAN_ROLE.
  const breaker = CircuitBreaker__factory.connect(at("CircuitBreaker"), admin);

  // Liquidity: $10M in the pool.
  await (await usdc.mint(admin.address, 20_000_000n * 10n ** 6n)).wait();
  const pool = await vault.pool();
  await (await usdc.approve(pool, 10_000_000n * 10n ** 6n)).wait();
  const lp = (await import("../../typechain-types")).LiquidityPool__factory.connect(pool, admin);
  await (await lp.deposit(10_000_000n * 10n ** 6n, admin.address)).wait();

  // Uniswap v3 WETH/USDC at the crash price, deep, and a flash taker owned by the keeper.
  await (await weth.mint(admin.address, 5_000n * WAD)).wait();
  const { uni } = await deployPairWithLiquidity(
    admin as unknown as Signer,
    admin as unknown as Signer,
    {
      base: await weth.getAddress(),
      baseDecimals: 18,
      quote: await usdc.getAddress(),
      quoteDecimals: 6,
      fee: FeeAmount.LOW,
    },
    BigInt(CRASH_PRICE) * WAD,
    2_000,
    2_000n * WAD,
    5_400_000n * 10n ** 6n,
  );
  const taker = await new UniswapFlashTaker__factory(admin).deploy(
    keeper.address,
    await auction.getAddress(),
    vaultAddr,
    await uni.router.getAddress(),
  );
  await taker.waitForDeployment();

  // The keeper's capital for position lots: $2M in its vault account.
  await (await usdc.mint(keeper.address, 2_000_000n * 10n ** 6n)).wait();
  await (await usdc.connect(keeper).approve(vaultAddr, 2_000_000n * 10n ** 6n)).wait();
  await (await vault.connect(keeper).deposit(await usdc.getAddress(), 2_000_000n * 10n ** 6n)).wait();

  // The population: gas money, tokens, deposits, positions.
  const traders = population(provider);
  for (const t of traders) {
    await (await admin.sendTransaction({ to: t.wallet.address, value: WAD })).wait();
    await (await usdc.mint(t.wallet.address, BigInt(t.usdc) * 10n ** 6n)).wait();
    if (t.weth > 0n) await (await weth.mint(t.wallet.address, t.weth)).wait();
  }
  await Promise.all(
    traders.map(async (t) => {
      const v = vault.connect(t.wallet);
      await (await usdc.connect(t.wallet).approve(vaultAddr, BigInt(t.usdc) * 10n ** 6n)).wait();
      await (await v.deposit(await usdc.getAddress(), BigInt(t.usdc) * 10n ** 6n)).wait();
      if (t.weth > 0n) {
        await (await weth.connect(t.wallet).approve(vaultAddr, t.weth)).wait();
        await (await v.deposit(await weth.getAddress(), t.weth)).wait();
      }
    }),
  );
  // Trades one at a time: fills depend on the skew.
  for (const t of traders) {
    const limit = t.size > 0n ? 10n ** 30n : 0n;
    await (await vault.connect(t.wallet).trade(ETH_USD, t.size, limit)).wait();
  }
  return {
    node,
    provider,
    deploymentId,
    deploymentDir,
    addresses,
    admin,
    keeper,
    vault,
    auction,
    breaker,
    ethFeed,
    usdc,
    weth,
    flashTaker: await taker.getAddress(),
    traders,
  };
}

/**
 * A typed client for a deployed Bulwark stack: connects from the vault address, resolves tokens,
 * markets and accounts from user input, and turns reverts into one sentence in human units
 * (lib/errors). The user tasks in tasks/user.ts are thin wrappers over this module and
 * scripts/lib/actions.ts; import them from your own scripts too (`connect(hre)`).
 */
import { isAddress, decodeBytes32String } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type {
  AuctionHouse,
  IERC20Metadata,
  InsuranceFund,
  IOracleRouter,
  IRiskEngine,
  LiquidityPool,
  PerpVault,
} from "../typechain-types";
import { resolveAddresses, type DeploymentAddresses } from "./deployment";
import { BulwarkError, describeRevert, findRevertData } from "./errors";

export interface Token {
  address: string;
  symbol: string;
  decimals: number;
  contract: IERC20Metadata;
}

export interface Bulwark {
  hre: HardhatRuntimeEnvironment;
  chainId: number;
  addresses: DeploymentAddresses;
  vault: PerpVault;
  pool: LiquidityPool;
  insurance: InsuranceFund;
  engine: IRiskEngine;
  oracle: IOracleRouter;
  auctionHouse?: AuctionHouse;
  quote: Token;
  /** Every listed collateral, index 0 the quote token. */
  collaterals: Token[];
  /** Listed markets: name (e.g. "ETH-USD") and bytes32 id. */
  markets: { name: string; id: string }[];
}

export interface ConnectOptions {
  addresses?: string;
  deploymentId?: string;
}

/** Connects to the deployment of the network `hre` runs on (see resolveAddresses for the lookup). */
export async function connect(hre: HardhatRuntimeEnvironment, opts: ConnectOptions = {}): Promise<Bulwark> {
  const { ethers } = hre;
  let chainId: number;
  try {
    chainId = Number(await hre.network.provider.request({ method: "eth_chainId" }));
  } catch (e) {
    const url = "url" in hre.network.config ? ` at ${hre.network.config.url}` : "";
    throw new BulwarkError(
      `cannot reach network "${hre.network.name}"${url}: ${(e as Error).message.split("\n")[0]}` +
        (hre.network.name === "sepolia" ? " (set SEPOLIA_RPC_URL, see docs/deploy.md)" : ""),
    );
  }
  const addresses = resolveAddresses({
    chainId,
    addresses: opts.addresses,
    deploymentId: opts.deploymentId,
    root: hre.config.paths.root,
  });
  if ((await ethers.provider.getCode(addresses.vault)) === "0x") {
    // The in-process network starts empty on every command, so a deployment made to a node is
    // never there: that, not a restarted node, is the usual cause on `hardhat`.
    const hint =
      hre.network.name === "hardhat"
        ? `This command ran on the in-process network "hardhat", which starts empty every time: ` +
          `add --network localhost to use the node you deployed to.`
        : `Was the node restarted since the deployment? Deploy again, or point --addresses at the right deployment.`;
    throw new BulwarkError(
      `no contract at the vault address ${addresses.vault} on chain id ${chainId} (from ${addresses.source}). ${hint}`,
    );
  }
  const vault = await ethers.getContractAt("PerpVault", addresses.vault);
  const [poolAddr, insuranceAddr, engineAddr, oracleAddr, tokenAddrs, ids] = await Promise.all([
    vault.pool(),
    vault.insuranceFund(),
    vault.riskEngine(),
    vault.oracle(),
    vault.collateralTokens(),
    vault.marketIds(),
  ]);
  const collaterals = await Promise.all(tokenAddrs.map((a) => loadToken(hre, a)));
  return {
    hre,
    chainId,
    addresses,
    vault,
    pool: await ethers.getContractAt("LiquidityPool", poolAddr),
    insurance: await ethers.getContractAt("InsuranceFund", insuranceAddr),
    engine: await ethers.getContractAt("IRiskEngine", engineAddr),
    oracle: await ethers.getContractAt("IOracleRouter", oracleAddr),
    auctionHouse: addresses.auctionHouse
      ? await ethers.getContractAt("AuctionHouse", addresses.auctionHouse)
      : undefined,
    quote: collaterals[0],
    collaterals,
    markets: ids.map((id) => ({ name: decodeBytes32String(id), id })),
  };
}

async function loadToken(hre: HardhatRuntimeEnvironment, address: string): Promise<Token> {
  const contract = await hre.ethers.getContractAt("IERC20Metadata", address);
  const [symbol, decimals] = await Promise.all([contract.symbol(), contract.decimals()]);
  return { address, symbol, decimals: Number(decimals), contract };
}

/** A listed collateral by symbol (case-insensitive) or address. */
export function resolveToken(b: Bulwark, symbolOrAddress: string): Token {
  const listed = b.collaterals.map((t) => t.symbol).join(", ");
  const lower = symbolOrAddress.toLowerCase();
  if (isAddress(symbolOrAddress)) {
    const t = b.collaterals.find((c) => c.address.toLowerCase() === lower);
    if (!t) throw new BulwarkError(`token ${symbolOrAddress} is not a Bulwark collateral; listed: ${listed}`);
    return t;
  }
  const t = b.collaterals.find((c) => c.symbol.toLowerCase() === lower);
  if (!t) throw new BulwarkError(`unknown token "${symbolOrAddress}"; listed collaterals: ${listed}`);
  return t;
}

/** A listed market by name (case-insensitive, e.g. "eth-usd"). */
export function resolveMarket(b: Bulwark, name: string): { name: string; id: string } {
  const m = b.markets.find((x) => x.name.toLowerCase() === name.trim().toLowerCase());
  if (!m) {
    throw new BulwarkError(`unknown market "${name}"; listed markets: ${b.markets.map((x) => x.name).join(", ")}`);
  }
  return m;
}

/** The signer for `account`: an index into the network's accounts ("0", "3"), an address, or the first account. */
export async function resolveSigner(hre: HardhatRuntimeEnvironment, account?: string): Promise<HardhatEthersSigner> {
  const signers = await hre.ethers.getSigners();
  if (account === undefined || account === "") {
    if (signers.length === 0) {
      throw new BulwarkError(
        `network "${hre.network.name}" has no accounts: set its deployer key (see docs/deploy.md)`,
      );
    }
    return signers[0];
  }
  if (/^\d+$/.test(account)) {
    const i = Number(account);
    if (i >= signers.length) {
      throw new BulwarkError(`account index ${i} out of range: network "${hre.network.name}" has ${signers.length}`);
    }
    return signers[i];
  }
  if (!isAddress(account)) throw new BulwarkError(`account must be an index or an address: got "${account}"`);
  const known = signers.find((s) => s.address.toLowerCase() === account.toLowerCase());
  return known ?? hre.ethers.getSigner(account);
}

/** An address to read (status): an index into the accounts, an address, or the first account. */
export async function resolveAccount(hre: HardhatRuntimeEnvironment, account?: string): Promise<string> {
  if (account !== undefined && isAddress(account)) return hre.ethers.getAddress(account);
  return (await resolveSigner(hre, account)).address;
}

/** Names for the addresses a revert may carry: tokens by symbol, and the stack's contracts. */
export function addressNames(b: Bulwark): Record<string, string> {
  const names: Record<string, string> = {};
  for (const t of b.collaterals) names[t.address.toLowerCase()] = t.symbol;
  names[b.addresses.vault.toLowerCase()] = "the vault";
  if (b.addresses.auctionHouse) names[b.addresses.auctionHouse.toLowerCase()] = "the auction house";
  return names;
}

/**
 * Runs `fn`, turning a failure into a BulwarkError: a contract revert is decoded against every
 * Bulwark ABI into one sentence in human units (lib/errors: "trade reverted: 0x70…79C8 would be
 * undercollateralized: equity -$2,860.78 is below the $1,500.00 of margin required
 * (Undercollateralized)").
 */
export async function explainRevert<T>(b: Bulwark, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BulwarkError) throw e;
    const reverted = findRevertData(e) !== undefined;
    throw new BulwarkError(
      `${what} ${reverted ? "reverted" : "failed"}: ${describeRevert(e, { names: addressNames(b) })}`,
    );
  }
}

import { expect } from "chai";
import { ethers } from "hardhat";
import type { PerpVault } from "../../typechain-types";
import { WAD, type World } from "../shared/local-world";

/**
 * Shared checks of the attack catalog: exact token solvency of the vault (every token it holds
 * against every claim on its ledger) and an attacker's net worth.
 */

/** Every signer's address plus `extra` (contracts that hold vault balances), lower-case, unique. */
export async function accountsWith(extra: string[] = []): Promise<string[]> {
  const signers = await ethers.getSigners();
  return [...new Set([...signers.map((s) => s.address), ...extra].map((a) => a.toLowerCase()))];
}

export interface TokenLedger {
  token: string;
  /** The vault's token balance scaled to WAD. */
  heldWad: bigint;
  /** Σ of every claim on that token: accounts (and, for the quote token, pool and insurance). */
  owedWad: bigint;
}

/** Held and owed, per listed token (quote token first), for the accounts given. */
export async function ledgers(vault: PerpVault, accounts: string[]): Promise<TokenLedger[]> {
  const vaultAddr = await vault.getAddress();
  const tokens = await vault.collateralTokens();
  const out: TokenLedger[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const erc20 = await ethers.getContractAt("MockERC20", tokens[i]);
    const cfg = await vault.collateralConfig(tokens[i]);
    const scale = 10n ** (18n - BigInt(cfg.decimals));
    const heldWad = (await erc20.balanceOf(vaultAddr)) * scale;
    let owedWad = 0n;
    if (i === 0) {
      for (const a of accounts) owedWad += await vault.quoteBalance(a);
      owedWad += (await vault.poolBalance()) + BigInt(await vault.insuranceBalance());
    } else {
      for (const a of accounts) owedWad += await vault.collateralBalance(a, tokens[i]);
      // The vault's own record of deposits must agree with the sum over accounts.
      expect(cfg.totalDepositedWad, `totalDeposited of ${tokens[i]}`).to.equal(owedWad);
    }
    out.push({ token: tokens[i], heldWad, owedWad });
  }
  return out;
}

/**
 * Token solvency, exact: for every token the vault holds exactly what its ledger owes (plus what
 * was donated to it outside the ledger, `donatedWad` by token address).
 */
export async function expectSolvent(
  vault: PerpVault,
  extra: string[] = [],
  donatedWad: Record<string, bigint> = {},
): Promise<TokenLedger[]> {
  const result = await ledgers(vault, await accountsWith(extra));
  for (const l of result) {
    const donated = donatedWad[l.token.toLowerCase()] ?? 0n;
    expect(l.heldWad, `token ${l.token}: held vs owed + donated`).to.equal(l.owedWad + donated);
  }
  return result;
}

/**
 * Net worth in USD WAD of accounts that hold only USDC (in the wallet and the vault) and
 * positions: wallet USDC + vault equity at the oracle.
 */
export async function netWorth(w: World, accounts: string[]): Promise<bigint> {
  let sum = 0n;
  for (const a of accounts) {
    sum += (await w.usdc.balanceOf(a)) * 10n ** 12n;
    sum += (await w.vault.accountHealth(a)).equityWad;
  }
  return sum;
}

/** What the LPs and the insurance fund hold between them (pool value + insurance), USD WAD. */
export async function protocolValue(w: World): Promise<bigint> {
  return (await w.vault.poolValue()) + BigInt(await w.vault.insuranceBalance());
}

export const usd = (x: bigint): string => ethers.formatUnits(x, 18);
export { WAD };

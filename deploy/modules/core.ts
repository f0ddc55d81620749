import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type { ContractFuture, ModuleParameterRuntimeValue } from "@nomicfoundation/ignition-core";

type AddressLike = string | ContractFuture<string> | ModuleParameterRuntimeValue<string>;

/**
 * Deploys and wires the Bulwark contracts inside module `m`: oracle router, static risk engine,
 * the vault with its two linked libraries, the ERC-4626 liquidity pool and the insurance fund.
 * Shared by `BulwarkCore` (quote token given as an address) and `BulwarkLocal` (mock token).
 */
export function buildCore(m: IgnitionModuleBuilder, quoteToken: AddressLike) {
  const admin = m.getParameter("admin", m.getAccount(0));
  const lpName = m.getParameter("lpName", "Bulwark LP");
  const lpSymbol = m.getParameter("lpSymbol", "bLP");

  const oracleRouter = m.contract("OracleRouter", [admin]);
  const riskEngine = m.contract("StaticRiskEngine", [admin]);
  const vaultLogic = m.library("VaultLogic");
  const vaultAdmin = m.library("VaultAdmin");
  const vault = m.contract("PerpVault", [admin, oracleRouter, riskEngine, quoteToken], {
    libraries: { VaultLogic: vaultLogic, VaultAdmin: vaultAdmin },
  });
  const pool = m.contract("LiquidityPool", [quoteToken, vault, lpName, lpSymbol]);
  const insuranceFund = m.contract("InsuranceFund", [admin, vault]);
  const initialized = m.call(vault, "initialize", [pool, insuranceFund]);

  return { oracleRouter, riskEngine, vault, pool, insuranceFund, vaultLogic, vaultAdmin, initialized };
}

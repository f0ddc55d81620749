import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type { ContractFuture, ModuleParameterRuntimeValue } from "@nomicfoundation/ignition-core";

import {
  AUCTION_BREAKER_DEFAULTS,
  AUCTION_DEFAULTS as A,
  BREAKER_DEFAULTS,
  CURVE_DEFAULTS,
  THROTTLE_DEFAULTS,
} from "../../lib/params";

/**
 * Circuit-breaker parameters (`BREAKER_DEFAULTS`, docs/circuit-breakers.md explains each default):
 * module parameter `breaker<Name>` overrides `<name>`, e.g. `breakerCooldownSec`. The auction
 * house's breaker wiring is `AUCTION_BREAKER_DEFAULTS`. Both live in lib/params and are
 * re-exported here for the lab (sim/engine/world.ts).
 */
export { AUCTION_BREAKER_DEFAULTS, BREAKER_DEFAULTS };

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

  // Liquidation: a stairstep-exponential curve (the price steps down by `curveCutWad` every
  // `curveStepSec`) and the auction house, which needs the vault's LIQUIDATOR_ROLE.
  const curve = m.contract("StairstepExponentialDecrease", [
    m.getParameter("curveStepSec", Number(CURVE_DEFAULTS.stepSec)),
    m.getParameter("curveCutWad", CURVE_DEFAULTS.cutWad),
  ]);
  const auctionHouse = m.contract("AuctionHouse", [
    admin,
    vault,
    {
      curve,
      bufWad: m.getParameter("bufWad", A.bufWad),
      tailSec: m.getParameter("tailSec", Number(A.tailSec)),
      cuspWad: m.getParameter("cuspWad", A.cuspWad),
      floorWad: m.getParameter("floorWad", A.floorWad),
      dustWad: m.getParameter("dustWad", A.dustWad),
      penaltyWad: m.getParameter("penaltyWad", A.penaltyWad),
      chipWad: m.getParameter("chipWad", A.chipWad),
      tipWad: m.getParameter("tipWad", A.tipWad),
      rewardCapWad: m.getParameter("rewardCapWad", A.rewardCapWad),
      targetHealthWad: m.getParameter("targetHealthWad", A.targetHealthWad),
      maxResets: m.getParameter("maxResets", Number(A.maxResets)),
      instantMode: m.getParameter("instantMode", A.instantMode),
      poolTakeover: m.getParameter("poolTakeover", A.poolTakeover),
      instantBonusWad: m.getParameter("instantBonusWad", A.instantBonusWad),
    },
    {
      windowSec: m.getParameter("throttleWindowSec", Number(THROTTLE_DEFAULTS.windowSec)),
      globalCapacityWad: m.getParameter("globalCapacityWad", THROTTLE_DEFAULTS.globalCapacityWad),
      maxOutstandingWad: m.getParameter("maxOutstandingWad", THROTTLE_DEFAULTS.maxOutstandingWad),
    },
  ]);
  const liquidatorRole = m.staticCall(vault, "LIQUIDATOR_ROLE", [], 0, { id: "liquidatorRole" });
  const auctionWired = m.call(vault, "grantRole", [liquidatorRole, auctionHouse], { id: "grantLiquidatorToAuction" });

  // Circuit breakers (docs/circuit-breakers.md): the breaker mirrors its levels into the vault
  // (BREAKER_ROLE) and hears auction-health reports from the auction house (REPORTER_ROLE).
  const circuitBreaker = m.contract("CircuitBreaker", [
    admin,
    vault,
    Object.fromEntries(
      Object.entries(BREAKER_DEFAULTS).map(([k, v]) => [
        k,
        m.getParameter(`breaker${k[0].toUpperCase()}${k.slice(1)}`, v),
      ]),
    ),
  ]);
  const breakerRole = m.staticCall(vault, "BREAKER_ROLE", [], 0, { id: "breakerRole" });
  const breakerWired = m.call(vault, "grantRole", [breakerRole, circuitBreaker], { id: "grantBreakerToBreaker" });
  const reporterRole = m.staticCall(circuitBreaker, "REPORTER_ROLE", [], 0, { id: "reporterRole" });
  m.call(circuitBreaker, "grantRole", [reporterRole, auctionHouse], { id: "grantReporterToAuction" });
  const guardianRole = m.staticCall(circuitBreaker, "GUARDIAN_ROLE", [], 0, { id: "guardianRole" });
  m.call(circuitBreaker, "grantRole", [guardianRole, m.getParameter("guardian", m.getAccount(0))], {
    id: "grantGuardian",
  });
  m.call(auctionHouse, "setBreakerConfig", [
    {
      breaker: circuitBreaker,
      cautionCapacityBps: m.getParameter("breakerCautionCapacityBps", AUCTION_BREAKER_DEFAULTS.cautionCapacityBps),
      reportDiscountBps: m.getParameter("breakerReportDiscountBps", AUCTION_BREAKER_DEFAULTS.reportDiscountBps),
      reportMinNotionalWad: m.getParameter(
        "breakerReportMinNotionalWad",
        AUCTION_BREAKER_DEFAULTS.reportMinNotionalWad,
      ),
    },
  ]);

  return {
    oracleRouter,
    riskEngine,
    vault,
    pool,
    insuranceFund,
    vaultLogic,
    vaultAdmin,
    curve,
    auctionHouse,
    circuitBreaker,
    initialized,
    auctionWired,
    breakerWired,
  };
}

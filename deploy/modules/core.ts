import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import type { ContractFuture, ModuleParameterRuntimeValue } from "@nomicfoundation/ignition-core";

const WAD = 10n ** 18n;
const wad = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

/**
 * Circuit-breaker parameters (docs/circuit-breakers.md explains each default). Module parameter
 * `breaker<Name>` overrides `<name>`, e.g. `breakerCooldownSec`. The lab deploys the same values.
 */
export const BREAKER_DEFAULTS = {
  windowSec: 3600,
  band1Wad: wad(0.07),
  band2Wad: wad(0.13),
  band3Wad: wad(0.2),
  hysteresisWad: wad(0.3),
  cooldownSec: 900,
  maxPauseSec: 3600,
  oracleMaxAgeSec: 3900,
  oracleDeviationWad: wad(0.03),
  insuranceWindowSec: 86_400,
  insuranceDrawdownWad: wad(0.25),
  insuranceMinPeakWad: 100_000n * WAD,
  cautionImWad: wad(1.5),
  haltImWad: wad(1.25),
  guardianRearmSec: 86_400,
};

/** The auction house's breaker wiring (`setBreakerConfig`), besides the breaker's address. */
export const AUCTION_BREAKER_DEFAULTS = {
  cautionCapacityBps: 5_000,
  reportDiscountBps: 800,
  // Only takes (and backstops) of at least $10,000 of tab are reported: dust cannot hold a pause.
  reportMinNotionalWad: 10_000n * WAD,
};

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
    m.getParameter("curveStepSec", 12),
    m.getParameter("curveCutWad", wad(0.998)),
  ]);
  const auctionHouse = m.contract("AuctionHouse", [
    admin,
    vault,
    {
      curve,
      bufWad: m.getParameter("bufWad", wad(1)),
      tailSec: m.getParameter("tailSec", 1800),
      cuspWad: m.getParameter("cuspWad", wad(0.9)),
      floorWad: m.getParameter("floorWad", wad(0.85)),
      dustWad: m.getParameter("dustWad", 100n * WAD),
      penaltyWad: m.getParameter("penaltyWad", wad(0.01)),
      chipWad: m.getParameter("chipWad", wad(0.001)),
      tipWad: m.getParameter("tipWad", 5n * WAD),
      rewardCapWad: m.getParameter("rewardCapWad", 2_000n * WAD),
      targetHealthWad: m.getParameter("targetHealthWad", wad(1)),
      maxResets: m.getParameter("maxResets", 2),
      instantMode: m.getParameter("instantMode", false),
      poolTakeover: m.getParameter("poolTakeover", false),
      instantBonusWad: m.getParameter("instantBonusWad", wad(0.01)),
    },
    {
      windowSec: m.getParameter("throttleWindowSec", 3600),
      globalCapacityWad: m.getParameter("globalCapacityWad", 50_000_000n * WAD),
      maxOutstandingWad: m.getParameter("maxOutstandingWad", 50_000_000n * WAD),
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

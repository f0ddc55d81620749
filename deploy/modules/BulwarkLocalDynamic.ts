import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import BulwarkLocal, { BTC_USD, ETH_USD } from "./BulwarkLocal";

const usdWad = (usd: number): bigint => BigInt(usd) * 10n ** 18n;

/**
 * The local stack of `BulwarkLocal` with the dynamic `RiskEngine` in force: deploys the engine on
 * the same oracle router, configures ETH-USD and BTC-USD, and points the vault at it (the static
 * engine stays deployed but unused). Every number is a module parameter (module id
 * `BulwarkLocalDynamic`) with the default shown (fractions in basis points, USD in WAD); `deploy/parameters/local-dynamic.json` sets them
 * together with the `BulwarkLocal` section, so that one file deploys it all. The parameters and
 * the reasoning behind each default are in docs/risk-model.md.
 */
export default buildModule("BulwarkLocalDynamic", (m) => {
  const local = m.useModule(BulwarkLocal);
  const { oracleRouter, vault, weth, wbtc } = local;

  const admin = m.getParameter("admin", m.getAccount(0));
  const engine = m.contract("RiskEngine", [admin, oracleRouter, m.getParameter("hardFloorBps", 5_000)]);

  // Shared defaults; each market's volatility seed and depth differ.
  const shared = {
    volHalfLifeSec: m.getParameter("volHalfLifeSec", 14_400),
    liquidationHorizonSec: m.getParameter("liquidationHorizonSec", 3_600),
    smoothingHalfLifeSec: m.getParameter("smoothingHalfLifeSec", 180),
    volMultiplierBps: m.getParameter("volMultiplierBps", 30_000),
    maintenanceFractionBps: m.getParameter("maintenanceFractionBps", 7_000),
    maxMmrRisePerHourBps: m.getParameter("maxMmrRisePerHourBps", 100),
    impactFactorBps: m.getParameter("impactFactorBps", 100),
  };

  const configureEth = m.call(
    engine,
    "configureMarket",
    [
      ETH_USD,
      {
        ...shared,
        oracleAsset: weth,
        initialVolBps: m.getParameter("ethInitialVolBps", 8_000),
        baseImrBps: m.getParameter("ethBaseImrBps", 500),
        baseMmrBps: m.getParameter("ethBaseMmrBps", 250),
        depthUsdWad: m.getParameter("ethDepthUsdWad", usdWad(25_000_000)),
      },
    ],
    { id: "configureETH" },
  );
  const configureBtc = m.call(
    engine,
    "configureMarket",
    [
      BTC_USD,
      {
        ...shared,
        oracleAsset: wbtc,
        initialVolBps: m.getParameter("btcInitialVolBps", 6_000),
        baseImrBps: m.getParameter("btcBaseImrBps", 500),
        baseMmrBps: m.getParameter("btcBaseMmrBps", 250),
        depthUsdWad: m.getParameter("btcDepthUsdWad", usdWad(50_000_000)),
      },
    ],
    { id: "configureBTC" },
  );

  // Both markets must answer before the vault switches; `vault` comes from the submodule, so this
  // call also runs after every future of BulwarkLocal (listing included).
  m.call(vault, "setRiskEngine", [engine], { after: [configureEth, configureBtc] });

  return { ...local, engine };
});

import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { DYNAMIC_ENGINE_DEFAULTS as D } from "../../lib/params";
import BulwarkLocal, { BTC_USD, ETH_USD } from "./BulwarkLocal";

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
  const engine = m.contract("RiskEngine", [admin, oracleRouter, m.getParameter("hardFloorBps", D.hardFloorBps)]);

  // Shared defaults; each market's volatility seed and depth differ.
  const shared = {
    volHalfLifeSec: m.getParameter("volHalfLifeSec", D.shared.volHalfLifeSec),
    liquidationHorizonSec: m.getParameter("liquidationHorizonSec", D.shared.liquidationHorizonSec),
    smoothingHalfLifeSec: m.getParameter("smoothingHalfLifeSec", D.shared.smoothingHalfLifeSec),
    volMultiplierBps: m.getParameter("volMultiplierBps", D.shared.volMultiplierBps),
    maintenanceFractionBps: m.getParameter("maintenanceFractionBps", D.shared.maintenanceFractionBps),
    maxMmrRisePerHourBps: m.getParameter("maxMmrRisePerHourBps", D.shared.maxMmrRisePerHourBps),
    impactFactorBps: m.getParameter("impactFactorBps", D.shared.impactFactorBps),
  };

  const configureEth = m.call(
    engine,
    "configureMarket",
    [
      ETH_USD,
      {
        ...shared,
        oracleAsset: weth,
        initialVolBps: m.getParameter("ethInitialVolBps", D.eth.initialVolBps),
        baseImrBps: m.getParameter("ethBaseImrBps", D.eth.baseImrBps),
        baseMmrBps: m.getParameter("ethBaseMmrBps", D.eth.baseMmrBps),
        depthUsdWad: m.getParameter("ethDepthUsdWad", D.eth.depthUsdWad),
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
        initialVolBps: m.getParameter("btcInitialVolBps", D.btc.initialVolBps),
        baseImrBps: m.getParameter("btcBaseImrBps", D.btc.baseImrBps),
        baseMmrBps: m.getParameter("btcBaseMmrBps", D.btc.baseMmrBps),
        depthUsdWad: m.getParameter("btcDepthUsdWad", D.btc.depthUsdWad),
      },
    ],
    { id: "configureBTC" },
  );

  // Both markets must answer before the vault switches; `vault` comes from the submodule, so this
  // call also runs after every future of BulwarkLocal (listing included).
  m.call(vault, "setRiskEngine", [engine], { after: [configureEth, configureBtc] });

  return { ...local, engine };
});

import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import {
  FEED_HEARTBEAT_SEC,
  GLOBAL_DEFAULTS as G,
  LOCAL_MARKETS as L,
  MARKET_CAPACITY_DEFAULT_WAD,
  MARKET_DEFAULTS,
  STATIC_RATIOS_DEFAULTS as R,
} from "../../lib/params";
import { buildCore } from "./core";

const ZERO = "0x0000000000000000000000000000000000000000";

export const ETH_USD = "0x4554482d55534400000000000000000000000000000000000000000000000000"; // "ETH-USD"
export const BTC_USD = "0x4254432d55534400000000000000000000000000000000000000000000000000"; // "BTC-USD"

/**
 * A complete local stack: mock tokens (USDC 6 decimals, WETH 18, WBTC 8), Chainlink-style mock
 * feeds, the core contracts, two markets (ETH-USD, BTC-USD), volatile collateral, margin ratios
 * and global parameters. Every number is a module parameter (module id `BulwarkLocal`) with the
 * default shown; `deploy/parameters/local.json` sets them for a local node.
 */
export default buildModule("BulwarkLocal", (m) => {
  const usdc = m.contract("MockERC20", ["USD Coin", "USDC", 6], { id: "USDC" });
  const weth = m.contract("MockERC20", ["Wrapped Ether", "WETH", 18], { id: "WETH" });
  const wbtc = m.contract("MockERC20", ["Wrapped Bitcoin", "WBTC", 8], { id: "WBTC" });

  const ethFeed = m.contract("MockAggregator", [8, "ETH / USD", m.getParameter("ethPriceE8", L.eth.priceE8)], {
    id: "EthUsdFeed",
  });
  const btcFeed = m.contract("MockAggregator", [8, "BTC / USD", m.getParameter("btcPriceE8", L.btc.priceE8)], {
    id: "BtcUsdFeed",
  });

  const { initialized, auctionWired, breakerWired, ...core } = buildCore(m, usdc);
  const { oracleRouter, riskEngine, vault } = core;
  const heartbeat = m.getParameter("feedHeartbeatSec", FEED_HEARTBEAT_SEC);

  const ethFeedSet = m.call(oracleRouter, "setFeed", [weth, ethFeed, heartbeat, ZERO, 0, 0], { id: "setFeedETH" });
  const btcFeedSet = m.call(oracleRouter, "setFeed", [wbtc, btcFeed, heartbeat, ZERO, 0, 0], { id: "setFeedBTC" });

  const ethRatios = m.call(
    riskEngine,
    "setRatios",
    [ETH_USD, m.getParameter("ethImrWad", R.imrWad), m.getParameter("ethMmrWad", R.mmrWad)],
    { id: "setRatiosETH" },
  );
  const btcRatios = m.call(
    riskEngine,
    "setRatios",
    [BTC_USD, m.getParameter("btcImrWad", R.imrWad), m.getParameter("btcMmrWad", R.mmrWad)],
    { id: "setRatiosBTC" },
  );

  const marketDefaults = {
    makerFeeWad: m.getParameter("makerFeeWad", MARKET_DEFAULTS.makerFeeWad),
    takerFeeWad: m.getParameter("takerFeeWad", MARKET_DEFAULTS.takerFeeWad),
    maxFundingVelocityWad: m.getParameter("maxFundingVelocityWad", MARKET_DEFAULTS.maxFundingVelocityWad),
    maxOiPoolRatioWad: m.getParameter("maxOiPoolRatioWad", MARKET_DEFAULTS.maxOiPoolRatioWad),
  };
  const listEth = m.call(
    vault,
    "listMarket",
    [
      ETH_USD,
      { oracleAsset: weth, ...marketDefaults, skewScaleWad: m.getParameter("ethSkewScaleWad", L.eth.skewScaleWad) },
    ],
    { id: "listETH", after: [ethFeedSet, ethRatios, initialized] },
  );
  const listBtc = m.call(
    vault,
    "listMarket",
    [
      BTC_USD,
      { oracleAsset: wbtc, ...marketDefaults, skewScaleWad: m.getParameter("btcSkewScaleWad", L.btc.skewScaleWad) },
    ],
    { id: "listBTC", after: [btcFeedSet, btcRatios, listEth] },
  );
  m.call(
    vault,
    "listCollateral",
    [
      weth,
      m.getParameter("wethWeightWad", L.eth.collateralWeightWad),
      m.getParameter("wethCapWad", L.eth.collateralCapWad),
    ],
    { id: "listWETH", after: [ethFeedSet] },
  );
  m.call(
    vault,
    "listCollateral",
    [
      wbtc,
      m.getParameter("wbtcWeightWad", L.btc.collateralWeightWad),
      m.getParameter("wbtcCapWad", L.btc.collateralCapWad),
    ],
    { id: "listWBTC", after: [btcFeedSet] },
  );
  m.call(vault, "setGlobalParams", [
    m.getParameter("insuranceFeeShareWad", G.insuranceFeeShareWad),
    m.getParameter("reserveRatioWad", G.reserveRatioWad),
    m.getParameter("liquidationBufferWad", G.liquidationBufferWad),
  ]);

  const { auctionHouse } = core;
  m.call(
    auctionHouse,
    "setMarketCapacity",
    [ETH_USD, m.getParameter("ethLiquidationCapacityWad", MARKET_CAPACITY_DEFAULT_WAD)],
    {
      id: "capacityETH",
      after: [listEth, auctionWired],
    },
  );
  m.call(
    auctionHouse,
    "setMarketCapacity",
    [BTC_USD, m.getParameter("btcLiquidationCapacityWad", MARKET_CAPACITY_DEFAULT_WAD)],
    {
      id: "capacityBTC",
      after: [listBtc, auctionWired],
    },
  );

  const { circuitBreaker } = core;
  m.call(circuitBreaker, "addMarket", [ETH_USD], { id: "breakerETH", after: [listEth, breakerWired] });
  m.call(circuitBreaker, "addMarket", [BTC_USD], { id: "breakerBTC", after: [listBtc, breakerWired] });

  return { ...core, usdc, weth, wbtc, ethFeed, btcFeed };
});

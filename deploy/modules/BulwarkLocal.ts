import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildCore } from "./core";

const WAD = 10n ** 18n;
const wad = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

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

  const ethFeed = m.contract("MockAggregator", [8, "ETH / USD", m.getParameter("ethPriceE8", 3_000n * 10n ** 8n)], {
    id: "EthUsdFeed",
  });
  const btcFeed = m.contract("MockAggregator", [8, "BTC / USD", m.getParameter("btcPriceE8", 60_000n * 10n ** 8n)], {
    id: "BtcUsdFeed",
  });

  const { initialized, auctionWired, breakerWired, ...core } = buildCore(m, usdc);
  const { oracleRouter, riskEngine, vault } = core;
  const heartbeat = m.getParameter("feedHeartbeatSec", 3600);

  const ethFeedSet = m.call(oracleRouter, "setFeed", [weth, ethFeed, heartbeat, ZERO, 0, 0], { id: "setFeedETH" });
  const btcFeedSet = m.call(oracleRouter, "setFeed", [wbtc, btcFeed, heartbeat, ZERO, 0, 0], { id: "setFeedBTC" });

  const ethRatios = m.call(
    riskEngine,
    "setRatios",
    [ETH_USD, m.getParameter("ethImrWad", wad(0.05)), m.getParameter("ethMmrWad", wad(0.025))],
    { id: "setRatiosETH" },
  );
  const btcRatios = m.call(
    riskEngine,
    "setRatios",
    [BTC_USD, m.getParameter("btcImrWad", wad(0.05)), m.getParameter("btcMmrWad", wad(0.025))],
    { id: "setRatiosBTC" },
  );

  const marketDefaults = {
    makerFeeWad: m.getParameter("makerFeeWad", wad(0.0002)),
    takerFeeWad: m.getParameter("takerFeeWad", wad(0.0006)),
    maxFundingVelocityWad: m.getParameter("maxFundingVelocityWad", 3n * WAD),
    maxOiPoolRatioWad: m.getParameter("maxOiPoolRatioWad", WAD),
  };
  const listEth = m.call(
    vault,
    "listMarket",
    [
      ETH_USD,
      { oracleAsset: weth, ...marketDefaults, skewScaleWad: m.getParameter("ethSkewScaleWad", 1_000_000n * WAD) },
    ],
    { id: "listETH", after: [ethFeedSet, ethRatios, initialized] },
  );
  const listBtc = m.call(
    vault,
    "listMarket",
    [BTC_USD, { oracleAsset: wbtc, ...marketDefaults, skewScaleWad: m.getParameter("btcSkewScaleWad", 50_000n * WAD) }],
    { id: "listBTC", after: [btcFeedSet, btcRatios, listEth] },
  );
  m.call(
    vault,
    "listCollateral",
    [weth, m.getParameter("wethWeightWad", wad(0.85)), m.getParameter("wethCapWad", 100_000n * WAD)],
    { id: "listWETH", after: [ethFeedSet] },
  );
  m.call(
    vault,
    "listCollateral",
    [wbtc, m.getParameter("wbtcWeightWad", wad(0.85)), m.getParameter("wbtcCapWad", 5_000n * WAD)],
    { id: "listWBTC", after: [btcFeedSet] },
  );
  m.call(vault, "setGlobalParams", [
    m.getParameter("insuranceFeeShareWad", wad(0.2)),
    m.getParameter("reserveRatioWad", wad(0.25)),
    m.getParameter("liquidationBufferWad", 5n * WAD),
  ]);

  const { auctionHouse } = core;
  m.call(auctionHouse, "setMarketCapacity", [ETH_USD, m.getParameter("ethLiquidationCapacityWad", 25_000_000n * WAD)], {
    id: "capacityETH",
    after: [listEth, auctionWired],
  });
  m.call(auctionHouse, "setMarketCapacity", [BTC_USD, m.getParameter("btcLiquidationCapacityWad", 25_000_000n * WAD)], {
    id: "capacityBTC",
    after: [listBtc, auctionWired],
  });

  const { circuitBreaker } = core;
  m.call(circuitBreaker, "addMarket", [ETH_USD], { id: "breakerETH", after: [listEth, breakerWired] });
  m.call(circuitBreaker, "addMarket", [BTC_USD], { id: "breakerBTC", after: [listBtc, breakerWired] });

  return { ...core, usdc, weth, wbtc, ethFeed, btcFeed };
});

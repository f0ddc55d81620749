import { expect } from "chai";
import fs from "node:fs";
import {
  AUCTION_BREAKER_DEFAULTS,
  AUCTION_DEFAULTS,
  AUCTION_PARAM_FIELDS,
  BREAKER_DEFAULTS,
  CURVE_DEFAULTS,
  DYNAMIC_ENGINE_DEFAULTS,
  GLOBAL_DEFAULTS,
  LOCAL_MARKETS,
  MARKET_CAPACITY_DEFAULT_WAD,
  MARKET_DEFAULTS,
  STATIC_RATIOS_DEFAULTS,
  THROTTLE_DEFAULTS,
  auctionParams,
  defaultAuctionParams,
} from "../../lib/params";
import { loadFixture } from "../shared/load-fixture";
import { BTC_USD, deployWorld, ETH_USD } from "../shared/local-world";

/** An Ignition parameter file: `"5000000000000000000n"` is a bigint, a number stays a number. */
function ignitionParameters(file: string): Record<string, Record<string, bigint>> {
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, Record<string, string | number>>;
  return Object.fromEntries(
    Object.entries(raw).map(([module, params]) => [
      module,
      Object.fromEntries(
        Object.entries(params).map(([k, v]) => [k, BigInt(typeof v === "string" ? v.replace(/n$/, "") : v)]),
      ),
    ]),
  );
}

/** The `BulwarkLocal` section lib/params implies. */
const LOCAL_SECTION = {
  ethPriceE8: LOCAL_MARKETS.eth.priceE8,
  btcPriceE8: LOCAL_MARKETS.btc.priceE8,
  ethImrWad: STATIC_RATIOS_DEFAULTS.imrWad,
  ethMmrWad: STATIC_RATIOS_DEFAULTS.mmrWad,
  btcImrWad: STATIC_RATIOS_DEFAULTS.imrWad,
  btcMmrWad: STATIC_RATIOS_DEFAULTS.mmrWad,
  insuranceFeeShareWad: GLOBAL_DEFAULTS.insuranceFeeShareWad,
  reserveRatioWad: GLOBAL_DEFAULTS.reserveRatioWad,
  liquidationBufferWad: GLOBAL_DEFAULTS.liquidationBufferWad,
};

const big = (o: Record<string, number | bigint>): Record<string, bigint> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, BigInt(v)]));

describe("lib/params: the one source of protocol defaults", function () {
  describe("deploy/parameters/*.json agree with lib/params", function () {
    it("local.json sets exactly the local defaults", function () {
      expect(ignitionParameters("deploy/parameters/local.json")).to.deep.equal({ BulwarkLocal: LOCAL_SECTION });
    });

    it("local-dynamic.json sets the local defaults and the dynamic engine's", function () {
      const d = DYNAMIC_ENGINE_DEFAULTS;
      const perMarket = (m: "eth" | "btc") => ({
        [`${m}InitialVolBps`]: d[m].initialVolBps,
        [`${m}BaseImrBps`]: d[m].baseImrBps,
        [`${m}BaseMmrBps`]: d[m].baseMmrBps,
        [`${m}DepthUsdWad`]: d[m].depthUsdWad,
      });
      expect(ignitionParameters("deploy/parameters/local-dynamic.json")).to.deep.equal({
        BulwarkLocal: LOCAL_SECTION,
        BulwarkLocalDynamic: big({
          hardFloorBps: d.hardFloorBps,
          ...d.shared,
          ...perMarket("eth"),
          ...perMarket("btc"),
        }),
      });
    });
  });

  describe("a stack deployed through Ignition holds lib/params", function () {
    it("AuctionHouse params, throttle, breaker wiring and market capacity", async function () {
      const w = await loadFixture(deployWorld);
      const curve = await w.curve.getAddress();
      expect(auctionParams(await w.auction.params())).to.deep.equal(defaultAuctionParams(curve));
      const t = await w.auction.throttle();
      expect({
        windowSec: t.windowSec,
        globalCapacityWad: t.globalCapacityWad,
        maxOutstandingWad: t.maxOutstandingWad,
      }).to.deep.equal(THROTTLE_DEFAULTS);
      const b = await w.auction.breakerConfig();
      expect(b.breaker).to.equal(await w.breaker.getAddress());
      expect(big({ c: b.cautionCapacityBps, r: b.reportDiscountBps, m: b.reportMinNotionalWad })).to.deep.equal(
        big({
          c: AUCTION_BREAKER_DEFAULTS.cautionCapacityBps,
          r: AUCTION_BREAKER_DEFAULTS.reportDiscountBps,
          m: AUCTION_BREAKER_DEFAULTS.reportMinNotionalWad,
        }),
      );
      // A fresh window: the whole market capacity is available.
      expect(await w.auction.availableCapacity(ETH_USD)).to.equal(MARKET_CAPACITY_DEFAULT_WAD);
      expect(await w.auction.availableCapacity(BTC_USD)).to.equal(MARKET_CAPACITY_DEFAULT_WAD);
    });

    it("the curve, the circuit breaker, the markets and the vault's global parameters", async function () {
      const w = await loadFixture(deployWorld);
      expect(await w.curve.step()).to.equal(CURVE_DEFAULTS.stepSec);
      expect(await w.curve.cut()).to.equal(CURVE_DEFAULTS.cutWad);
      const p = await w.breaker.params();
      expect(
        big(
          Object.fromEntries(
            Object.keys(BREAKER_DEFAULTS).map((k) => [k, (p as unknown as Record<string, bigint>)[k]]),
          ),
        ),
      ).to.deep.equal(big(BREAKER_DEFAULTS as unknown as Record<string, number | bigint>));
      for (const id of [ETH_USD, BTC_USD]) {
        const mp = await w.vault.marketParams(id);
        expect(
          big({ a: mp.makerFeeWad, b: mp.takerFeeWad, c: mp.maxFundingVelocityWad, d: mp.maxOiPoolRatioWad }),
        ).to.deep.equal(
          big({
            a: MARKET_DEFAULTS.makerFeeWad,
            b: MARKET_DEFAULTS.takerFeeWad,
            c: MARKET_DEFAULTS.maxFundingVelocityWad,
            d: MARKET_DEFAULTS.maxOiPoolRatioWad,
          }),
        );
        const [imr, mmr] = await w.risk.ratiosOf(id);
        expect([imr, mmr]).to.deep.equal([STATIC_RATIOS_DEFAULTS.imrWad, STATIC_RATIOS_DEFAULTS.mmrWad]);
      }
      expect((await w.vault.marketParams(ETH_USD)).skewScaleWad).to.equal(LOCAL_MARKETS.eth.skewScaleWad);
      expect((await w.vault.marketParams(BTC_USD)).skewScaleWad).to.equal(LOCAL_MARKETS.btc.skewScaleWad);
      expect(await w.vault.liquidationBufferWad()).to.equal(GLOBAL_DEFAULTS.liquidationBufferWad);
      const weth = await w.vault.collateralConfig(await w.weth.getAddress());
      expect([weth.weightWad, weth.capWad]).to.deep.equal([
        LOCAL_MARKETS.eth.collateralWeightWad,
        LOCAL_MARKETS.eth.collateralCapWad,
      ]);
      const wbtc = await w.vault.collateralConfig(await w.wbtc.getAddress());
      expect([wbtc.weightWad, wbtc.capWad]).to.deep.equal([
        LOCAL_MARKETS.btc.collateralWeightWad,
        LOCAL_MARKETS.btc.collateralCapWad,
      ]);
    });
  });

  describe("auctionParams", function () {
    it("copies every field of an ethers Result into plain values and applies overrides", async function () {
      const w = await loadFixture(deployWorld);
      const current = await w.auction.params();
      const p = auctionParams(current, { instantMode: true, poolTakeover: true });
      expect(Object.keys(p)).to.have.members([...AUCTION_PARAM_FIELDS]);
      expect(p.instantMode).to.equal(true);
      expect(p.poolTakeover).to.equal(true);
      expect(p.tailSec).to.equal(AUCTION_DEFAULTS.tailSec);
      expect(typeof p.maxResets).to.equal("bigint");
      // The copy is accepted by setParams as it is.
      await w.auction.connect(w.admin).setParams(p);
      expect((await w.auction.params()).instantMode).to.equal(true);
    });
  });
});

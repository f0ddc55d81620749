import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { IDynamicRiskEngine } from "../../typechain-types/contracts/risk/RiskEngine";
import { e8, ETH_USD, BTC_USD, anyPrice, setEthPrice, usdc, WAD } from "../shared/local-world";
import { deployDynamicWorld, DYNAMIC_PARAMETERS, type DynamicWorld } from "../shared/dynamic-world";
import {
  impactFor,
  RateLimitedTarget,
  randomWalk,
  relativeError,
  RiskReference,
  seededRandom,
  SECONDS_PER_HOUR,
  SECONDS_PER_YEAR,
  type RiskParams,
} from "../shared/risk-reference";

// ------------------------------------------------------------------ constants and helpers

const BPS = 10n ** 14n;
const HOUR = 3600;
const TEST = ethers.encodeBytes32String("TEST-USD");
const JUMP = ethers.encodeBytes32String("JUMP-USD");
const UNKNOWN = ethers.encodeBytes32String("NOPE-USD");
const ASSET = ethers.getAddress("0x000000000000000000000000000000000000a55e");
const ALT_ASSET = ethers.getAddress("0x000000000000000000000000000000000000a17e");
const NO_FEED_ASSET = ethers.getAddress("0x000000000000000000000000000000000000dead");
const UINT96_MAX = 2n ** 96n - 1n;
const usdWad = (usd: number): bigint => BigInt(usd) * WAD;
const label = (name: string): string => ethers.encodeBytes32String(name);
const num = (x: bigint): number => Number(x) / 1e18;

/** Market parameters as the contract takes them (fractions in basis points). */
interface Params {
  oracleAsset: string;
  volHalfLifeSec: number;
  liquidationHorizonSec: number;
  smoothingHalfLifeSec: number;
  volMultiplierBps: number;
  initialVolBps: number;
  baseImrBps: number;
  baseMmrBps: number;
  maintenanceFractionBps: number;
  maxMmrRisePerHourBps: number;
  impactFactorBps: number;
  depthUsdWad: bigint;
}

/** The defaults of deploy/modules/BulwarkLocalDynamic.ts, on a test asset. */
const DEFAULTS: Params = {
  oracleAsset: ASSET,
  volHalfLifeSec: 14_400,
  liquidationHorizonSec: 3_600,
  smoothingHalfLifeSec: 180,
  volMultiplierBps: 30_000,
  initialVolBps: 8_000,
  baseImrBps: 500,
  baseMmrBps: 250,
  maintenanceFractionBps: 5_000,
  maxMmrRisePerHourBps: 100,
  impactFactorBps: 100,
  depthUsdWad: usdWad(25_000_000),
};

const params = (overrides: Partial<Params> = {}): Params => ({ ...DEFAULTS, ...overrides });

/** The same parameters as fractions, for the reference model. */
function refParams(p: Params): RiskParams {
  return {
    volHalfLifeSec: p.volHalfLifeSec,
    liquidationHorizonSec: p.liquidationHorizonSec,
    smoothingHalfLifeSec: p.smoothingHalfLifeSec,
    volMultiplier: p.volMultiplierBps / 1e4,
    initialVol: p.initialVolBps / 1e4,
    baseImr: p.baseImrBps / 1e4,
    baseMmr: p.baseMmrBps / 1e4,
    maintenanceFraction: p.maintenanceFractionBps / 1e4,
    maxMmrRisePerHour: p.maxMmrRisePerHourBps / 1e4,
    impactFactor: p.impactFactorBps / 1e4,
    depthUsd: num(p.depthUsdWad),
  };
}

const asTuple = (p: Params): IDynamicRiskEngine.MarketParamsStruct => ({ ...p });

/**
 * A standalone engine on its own oracle router: asset ASSET priced by `feed` ($3,000), ALT_ASSET by
 * `altFeed` ($150), both with a one-hour heartbeat; market TEST configured with DEFAULTS.
 */
async function standalone() {
  const [admin, keeper, stranger] = await ethers.getSigners();
  const oracle = await (await ethers.getContractFactory("OracleRouter")).deploy(admin.address);
  const Feed = await ethers.getContractFactory("MockAggregator");
  const feed = await Feed.deploy(8, "TEST / USD", e8(3_000));
  const altFeed = await Feed.deploy(8, "ALT / USD", e8(150));
  await oracle.setFeed(ASSET, feed, HOUR, ethers.ZeroAddress, 0, 0);
  await oracle.setFeed(ALT_ASSET, altFeed, HOUR, ethers.ZeroAddress, 0, 0);
  const engine = await (await ethers.getContractFactory("RiskEngine")).deploy(admin.address, oracle, 5_000);
  await engine.configureMarket(TEST, asTuple(DEFAULTS));
  const seedAt = Number((await feed.latestRoundData())[3]);
  return { oracle, feed, altFeed, engine, admin, keeper, stranger, seedAt };
}

type Env = Awaited<ReturnType<typeof standalone>>;

/**
 * Writes `priceE8` to the feed in a block stamped `at`, then has a keeper call `updatePrice` in the
 * next block. Returns whether the update was accepted and its block timestamp.
 */
async function observe(
  env: Env,
  priceE8: bigint,
  at: number,
  market = TEST,
): Promise<{ accepted: boolean; at: number }> {
  await time.setNextBlockTimestamp(at);
  await env.feed.setAnswer(priceE8);
  const accepted = await env.engine.updatePrice.staticCall(market);
  const receipt = await (await env.engine.connect(env.keeper).updatePrice(market)).wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return { accepted, at: block!.timestamp };
}

/** (imr, mmr) as numbers at the latest block. */
async function ratios(engine: Env["engine"], market: string, notionalWad: bigint): Promise<[number, number]> {
  const [imr, mmr] = await engine.marginRatios(market, notionalWad);
  return [num(imr), num(mmr)];
}

/** Per-step log return of a walk with annualised volatility `vol` sampled every `dtSec`. */
const stepReturn = (vol: number, dtSec: number): number => vol * Math.sqrt(dtSec / SECONDS_PER_YEAR);

// ------------------------------------------------------------------ specs

describe("RiskEngine", () => {
  describe("deployment (BulwarkLocalDynamic)", () => {
    it("deploys the engine with the parameter file's values and points the vault at it", async () => {
      const w = await loadFixture(deployDynamicWorld);
      expect(await w.vault.riskEngine()).to.equal(await w.engine.getAddress());
      expect(await w.engine.oracle()).to.equal(await w.oracle.getAddress());
      const file = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", DYNAMIC_PARAMETERS), "utf8")) as {
        BulwarkLocalDynamic: Record<string, number | string>;
      };
      const d = file.BulwarkLocalDynamic;
      const big = (v: number | string): bigint => BigInt(String(v).replace(/n$/, ""));
      expect(await w.engine.hardFloorWad()).to.equal(big(d.hardFloorBps) * BPS);
      for (const [market, prefix, asset] of [
        [ETH_USD, "eth", await w.weth.getAddress()],
        [BTC_USD, "btc", await w.wbtc.getAddress()],
      ] as const) {
        const p = await w.engine.marketParams(market);
        expect(p.oracleAsset).to.equal(asset);
        expect(p.volHalfLifeSec).to.equal(big(d.volHalfLifeSec));
        expect(p.liquidationHorizonSec).to.equal(big(d.liquidationHorizonSec));
        expect(p.smoothingHalfLifeSec).to.equal(big(d.smoothingHalfLifeSec));
        expect(p.volMultiplierBps).to.equal(big(d.volMultiplierBps));
        expect(p.maintenanceFractionBps).to.equal(big(d.maintenanceFractionBps));
        expect(p.maxMmrRisePerHourBps).to.equal(big(d.maxMmrRisePerHourBps));
        expect(p.impactFactorBps).to.equal(big(d.impactFactorBps));
        expect(p.initialVolBps).to.equal(big(d[`${prefix}InitialVolBps`]));
        expect(p.baseImrBps).to.equal(big(d[`${prefix}BaseImrBps`]));
        expect(p.baseMmrBps).to.equal(big(d[`${prefix}BaseMmrBps`]));
        expect(p.depthUsdWad).to.equal(big(d[`${prefix}DepthUsdWad`]));
      }
    });

    it("starts every market at its base ratios, with the smoothed price at the oracle price", async () => {
      const w = await loadFixture(deployDynamicWorld);
      // maintenance = max(baseMmr 2.5%, maintenanceFraction 0.7 × imr 5%) = 3.5%
      expect(await w.engine.marginRatios(ETH_USD, 0n)).to.deep.equal([500n * BPS, 350n * BPS]);
      expect(await w.engine.marginRatios(BTC_USD, 0n)).to.deep.equal([500n * BPS, 350n * BPS]);
      expect(await w.engine.smoothedPrice(ETH_USD)).to.equal(3_000n * WAD);
      expect(await w.engine.smoothedPrice(BTC_USD)).to.equal(60_000n * WAD);
      expect(await w.engine.isConfigured(ETH_USD)).to.equal(true);
      expect(await w.engine.isConfigured(UNKNOWN)).to.equal(false);
    });

    it("trades against the dynamic engine's initial margin", async () => {
      const w = await loadFixture(deployDynamicWorld);
      const [t] = w.traders;
      await w.vault.connect(t).deposit(await w.usdc.getAddress(), usdc(2_000));
      // $60k notional needs 5% IM + a tiny impact term + the $5 buffer: more than $2,000 − fees.
      await expect(w.vault.connect(t).trade(ETH_USD, 20n * WAD, anyPrice(1n))).to.be.revertedWithCustomError(
        w.vault,
        "Undercollateralized",
      );
      await w.vault.connect(t).trade(ETH_USD, 10n * WAD, anyPrice(1n));
      const h = await w.vault.accountHealth(t.address);
      const [imr, mmr] = await w.engine.marginRatios(ETH_USD, 30_000n * WAD);
      expect(imr).to.be.gt(500n * BPS);
      expect(mmr).to.be.gt(250n * BPS);
      expect(h.initialMarginWad).to.be.closeTo((30_000n * WAD * imr) / WAD + 5n * WAD, 1n);
    });
  });

  describe("updatePrice and the EWMA of squared log returns", () => {
    it("matches an independent TypeScript reference within 0.1% on a known series (acceptance 1)", async () => {
      const env = await loadFixture(standalone);
      const ref = new RiskReference(refParams(DEFAULTS), 3_000, env.seedAt);
      const rand = seededRandom(20_240_601);
      const calm = randomWalk(rand, 3_000, 40, 0.6, () => 12 + Math.floor(rand() * 300));
      const wild = randomWalk(rand, calm[calm.length - 1].price, 40, 3.0, () => 12 + Math.floor(rand() * 120));
      let t = await time.latest();
      let worst = 0;
      for (const { price, dt } of [...calm, ...wild]) {
        t += dt;
        const priceE8 = e8(price);
        const { accepted } = await observe(env, priceE8, t);
        expect(accepted).to.equal(true);
        ref.observe(Number(priceE8) / 1e8, t);
        const s = await env.engine.riskState(TEST);
        expect(s.lastPriceWad).to.equal(priceE8 * 10n ** 10n);
        expect(s.observedAt).to.equal(BigInt(t));
        const errors = [
          relativeError(num(s.varianceRateWad), ref.varianceRate),
          relativeError(num(s.sigmaAnnualWad), ref.sigmaAnnual()),
          relativeError(num(s.sigmaHorizonWad), ref.sigmaHorizon()),
          relativeError(num(s.imrWad), ref.imr()),
          relativeError(num(s.targetMmrWad), ref.targetMmr()),
        ];
        worst = Math.max(worst, ...errors);
        const now = await time.latest();
        expect(
          relativeError(num(s.smoothedPriceWad), ref.smoothedAt(now, { price: ref.lastPrice, observedAt: t })),
        ).to.be.lt(1e-9);
      }
      expect(worst, "worst relative error of σ, variance and ratios").to.be.lt(1e-3);
      // The series really moved σ: from the 80% seed (and 60% in the calm half) up past 120% a year.
      expect(ref.sigmaAnnual()).to.be.gt(1.2);
    });

    it("property: random series (returns up to ±20%, gaps up to a day) match the reference within 0.1%", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              ret: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
              gap: fc.integer({ min: 2, max: 86_400 }),
            }),
            { minLength: 1, maxLength: 10 },
          ),
          async (steps) => {
            const env = await loadFixture(standalone);
            const ref = new RiskReference(refParams(DEFAULTS), 3_000, env.seedAt);
            let t = await time.latest();
            let price = 3_000;
            for (const { ret, gap } of steps) {
              t += gap;
              price *= Math.exp(ret);
              const priceE8 = e8(price);
              await observe(env, priceE8, t);
              ref.observe(Number(priceE8) / 1e8, t);
            }
            const s = await env.engine.riskState(TEST);
            // 0.1% relative, or 100 wei per second absolute: below that (σ < 0.006% a year, left
            // by long flat gaps) the integer WAD resolution of the variance dominates.
            expect(Math.abs(num(s.varianceRateWad) - ref.varianceRate)).to.be.lte(1e-3 * ref.varianceRate + 1e-16);
            expect(Math.abs(num(s.sigmaAnnualWad) - ref.sigmaAnnual())).to.be.lte(1e-3 * ref.sigmaAnnual() + 1e-6);
            expect(relativeError(num(s.imrWad), ref.imr())).to.be.lt(1e-3);
          },
        ),
        { numRuns: 12, seed: 7 },
      );
    });

    it("accepts an observation once: the same round again returns false and changes nothing", async () => {
      const env = await loadFixture(standalone);
      const t = (await time.latest()) + 60;
      expect((await observe(env, e8(3_030), t)).accepted).to.equal(true);
      const before = await env.engine.riskState(TEST);
      expect(await env.engine.updatePrice.staticCall(TEST)).to.equal(false);
      await env.engine.connect(env.stranger).updatePrice(TEST);
      const after = await env.engine.riskState(TEST);
      expect(after.varianceRateWad).to.equal(before.varianceRateWad);
      expect(after.lastPriceWad).to.equal(before.lastPriceWad);
      expect(after.checkpointAt).to.equal(before.checkpointAt);
    });

    it("is permissionless but cannot be fed: only the feed's newer rounds count", async () => {
      const env = await loadFixture(standalone);
      // The seed observation itself is not new.
      expect(await env.engine.connect(env.stranger).updatePrice.staticCall(TEST)).to.equal(false);
      // A round written with an older timestamp than the last accepted one is ignored.
      const t = (await time.latest()) + 100;
      await observe(env, e8(3_100), t);
      await env.feed.setRoundData(e8(2_000), t - 50);
      expect(await env.engine.connect(env.stranger).updatePrice.staticCall(TEST)).to.equal(false);
      // A round stamped in the future is ignored until it is not.
      const now = await time.latest();
      await env.feed.setRoundData(e8(3_200), now + 600);
      expect(await env.engine.updatePrice.staticCall(TEST)).to.equal(false);
      await time.increaseTo(now + 601);
      expect(await env.engine.updatePrice.staticCall(TEST)).to.equal(true);
    });

    it("reverts with the router's error when the oracle price cannot be trusted", async () => {
      const env = await loadFixture(standalone);
      await time.increase(HOUR + 1);
      await expect(env.engine.updatePrice(TEST)).to.be.revertedWithCustomError(env.oracle, "StalePrice");
    });

    it("reverts MarketNotConfigured for an unknown market and PriceOutOfRange above 96 bits", async () => {
      const env = await loadFixture(standalone);
      await expect(env.engine.updatePrice(UNKNOWN))
        .to.be.revertedWithCustomError(env.engine, "MarketNotConfigured")
        .withArgs(UNKNOWN);
      const huge = (UINT96_MAX + 1n) / 10n ** 10n + 1n; // e8 answer just above 2^96 − 1 in WAD
      await env.feed.setAnswer(huge);
      await expect(env.engine.updatePrice(TEST))
        .to.be.revertedWithCustomError(env.engine, "PriceOutOfRange")
        .withArgs(TEST, huge * 10n ** 10n);
    });
  });

  describe("volatility-scaled initial margin (acceptance 2)", () => {
    /** σ and imr after 30 one-minute observations alternating ±`vol`-sized returns. */
    async function afterRegime(annualVol: number): Promise<{ sigma: number; imr: number; ref: RiskReference }> {
      const env = await loadFixture(standalone);
      const ref = new RiskReference(refParams(DEFAULTS), 3_000, env.seedAt);
      const r = stepReturn(annualVol, 60);
      let t = await time.latest();
      let price = 3_000;
      for (let i = 0; i < 30; i++) {
        t += 60;
        price *= Math.exp(i % 2 === 0 ? -r : r);
        await observe(env, e8(price), t);
        ref.observe(Number(e8(price)) / 1e8, t);
      }
      const s = await env.engine.riskState(TEST);
      return { sigma: num(s.sigmaAnnualWad), imr: num(s.imrWad), ref };
    }

    it("rises with σ: max(baseImr, k × σ_horizon), capped at 100%", async () => {
      // Half an hour of each regime moves the 4-hour-half-life EWMA by 8% of the way.
      const levels = [0.2, 8, 30, 150];
      const out = [];
      for (const v of levels) out.push(await afterRegime(v));
      for (let i = 1; i < out.length; i++) {
        expect(out[i].sigma, `σ after ${levels[i]}`).to.be.gt(out[i - 1].sigma);
        expect(out[i].imr, `imr after ${levels[i]}`).to.be.gte(out[i - 1].imr);
      }
      expect(out[0].imr).to.equal(0.05); // calm: the floor binds
      expect(out[1].imr).to.be.gt(0.05); // volatile: k × σ binds
      expect(out[2].imr).to.be.gt(out[1].imr);
      expect(out[3].imr).to.equal(1); // capped at 1× leverage
      for (const o of out) expect(relativeError(o.imr, o.ref.imr())).to.be.lt(1e-3);
    });

    it("initial margin may jump: a single large return lifts it at once", async () => {
      const env = await loadFixture(standalone);
      const [imrBefore] = await ratios(env.engine, TEST, 0n);
      await observe(env, e8(2_400), (await time.latest()) + 12); // −20% in one observation
      const [imrAfter, mmrAfter] = await ratios(env.engine, TEST, 0n);
      expect(imrBefore).to.equal(0.05);
      expect(imrAfter).to.be.gt(0.2);
      expect(mmrAfter).to.be.closeTo(0.025, 1e-4); // maintenance has not moved yet
    });
  });

  describe("liquidity-aware maintenance margin (acceptance 3)", () => {
    it("mmr = baseMmr + impactFactor × notional / depth, and imr carries the same term", async () => {
      const env = await loadFixture(standalone);
      const depths = [1_000_000, 25_000_000, 400_000_000];
      const factors = [1, 100, 2_500];
      const markets: { id: string; p: Params }[] = [];
      for (const [i, depth] of depths.entries()) {
        for (const [j, factor] of factors.entries()) {
          const id = label(`D${i}F${j}`);
          const p = params({ depthUsdWad: usdWad(depth), impactFactorBps: factor });
          await env.engine.configureMarket(id, asTuple(p));
          markets.push({ id, p });
        }
      }
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: markets.length - 1 }),
          fc.bigInt({ min: 0n, max: 10n ** 12n * WAD }),
          async (k, notionalWad) => {
            const { id, p } = markets[k];
            const [imr, mmr] = await env.engine.marginRatios(id, notionalWad);
            const term = impactFor(refParams(p), num(notionalWad));
            const expectedImr = Math.min(1, 0.05 + term);
            const expectedMmr = Math.min(expectedImr, 0.025 + term);
            expect(num(imr)).to.be.closeTo(expectedImr, 1e-12 + expectedImr * 1e-12);
            expect(num(mmr)).to.be.closeTo(expectedMmr, 1e-12 + expectedMmr * 1e-12);
            expect(mmr).to.be.lte(imr);
            expect(imr).to.be.lte(WAD);
          },
        ),
        { numRuns: 200, seed: 11 },
      );
    });

    it("grows linearly: a position the size of the depth pays impactFactor more, twice that pays twice", async () => {
      const env = await loadFixture(standalone);
      const depth = DEFAULTS.depthUsdWad;
      const [, m0] = await env.engine.marginRatios(TEST, 0n);
      const [, m1] = await env.engine.marginRatios(TEST, depth);
      const [, m2] = await env.engine.marginRatios(TEST, 2n * depth);
      expect(m1 - m0).to.be.closeTo(100n * BPS, 2n);
      expect(m2 - m0).to.be.closeTo(200n * BPS, 2n);
      const state = await env.engine.riskState(TEST);
      expect(state.impactPerMillionWad).to.equal((100n * BPS * 10n ** 24n) / depth); // 0.04% per $1M
    });
  });

  describe("rate-limited maintenance (acceptance 4)", () => {
    const jumpParams = params({ volHalfLifeSec: 300 });

    it("after a 10× volatility jump, maintenance rises at most maxMmrRisePerHour, checked at many times", async () => {
      const env = await loadFixture(standalone);
      await env.engine.configureMarket(JUMP, asTuple(jumpParams));
      const p = refParams(jumpParams);
      const ref = new RiskReference(p, 3_000, env.seedAt);
      const rate = p.maxMmrRisePerHour;
      let t = await time.latest();
      let price = 3_000;
      const step = async (annualVol: number, i: number) => {
        t += 60;
        const r = stepReturn(annualVol, 60);
        price *= Math.exp(i % 2 === 0 ? -r : r);
        const { at } = await observe(env, e8(price), t, JUMP);
        ref.observe(Number(e8(price)) / 1e8, t);
        return at;
      };
      for (let i = 0; i < 30; i++) await step(0.5, i); // calm: σ ≈ 50% a year
      const calm = await env.engine.riskState(JUMP);
      const [imrCalm, mmrCalm] = await ratios(env.engine, JUMP, 0n);
      expect(imrCalm).to.equal(0.05);
      expect(mmrCalm).to.equal(0.025);

      // 10× volatility for 30 minutes, an observation a minute.
      let follower: RateLimitedTarget | undefined;
      const samples: { at: number; mmr: number; imr: number }[] = [];
      for (let i = 0; i < 30; i++) {
        const at = await step(5, i);
        follower ??= new RateLimitedTarget(rate, at, mmrCalm);
        follower.change(at, ref.targetMmr());
        const [imr, mmr] = await ratios(env.engine, JUMP, 0n);
        samples.push({ at, mmr, imr });
        expect(mmr, `mmr ${at - samples[0].at}s after the jump`).to.be.closeTo(follower.at(at), 1e-12);
      }
      if (!follower) throw new Error("no samples");
      const jumpAt = samples[0].at;
      const wild = await env.engine.riskState(JUMP);
      expect(num(wild.sigmaAnnualWad) / num(calm.sigmaAnnualWad)).to.be.closeTo(10, 0.5);
      // Initial margin jumped with the first observations; maintenance did not.
      expect(samples[5].imr).to.be.gt(0.1);
      const target = num(wild.targetMmrWad);
      expect(target).to.be.gt(0.07);

      // Then no update at all: the view projects the ramp, and time confirms it.
      const last = samples[samples.length - 1].at;
      for (const dt of [0, 60, 600, HOUR, 2 * HOUR, 4 * HOUR, 6 * HOUR]) {
        const [, mmrAt] = await env.engine.marginRatiosAt(JUMP, 0n, last + dt);
        samples.push({ at: last + dt, mmr: num(mmrAt), imr: 0 });
        expect(num(mmrAt)).to.be.closeTo(follower.at(last + dt), 1e-12);
      }
      await time.increaseTo(last + 2 * HOUR);
      const [, mmrNow] = await ratios(env.engine, JUMP, 0n);
      expect(mmrNow).to.be.closeTo(follower.at(last + 2 * HOUR), 1e-12);

      // The rate limit holds between every pair of samples, and the ramp ends at the target.
      for (let i = 1; i < samples.length; i++) {
        const rise = samples[i].mmr - samples[0].mmr;
        expect(rise, `rise by ${samples[i].at - jumpAt}s`).to.be.lte(
          (rate * (samples[i].at - samples[0].at)) / SECONDS_PER_HOUR + 1e-15,
        );
      }
      expect(samples[samples.length - 1].mmr).to.be.closeTo(target, 1e-15);
      expect(mmrNow).to.be.lt(target);
    });

    it("a raised maintenance floor ramps at the limit; a lowered one applies at once", async () => {
      const env = await loadFixture(standalone);
      await env.engine.setMarginParams(TEST, 800, 400, 5_000, 100);
      const at = await time.latest();
      expect(await env.engine.marginRatios(TEST, 0n)).to.deep.equal([800n * BPS, 250n * BPS]);
      const expected: [number, bigint][] = [
        [HOUR / 2, 300n],
        [HOUR, 350n],
        [1.5 * HOUR, 400n],
        [3 * HOUR, 400n],
      ];
      for (const [dt, mmrBps] of expected) {
        const [imr, mmr] = await env.engine.marginRatiosAt(TEST, 0n, at + dt);
        expect(imr).to.equal(800n * BPS);
        expect(mmr).to.equal(mmrBps * BPS);
      }
      await time.increaseTo(at + HOUR);
      await env.engine.setMarginParams(TEST, 500, 250, 5_000, 100);
      expect(await env.engine.marginRatios(TEST, 0n)).to.deep.equal([500n * BPS, 250n * BPS]);
    });

    it("a raised impact slope reaches maintenance through the ramp while initial margin takes it at once", async () => {
      const env = await loadFixture(standalone);
      const big = usdWad(50_000_000); // twice the depth
      expect(await env.engine.marginRatios(TEST, big)).to.deep.equal([700n * BPS, 450n * BPS]);
      await env.engine.setImpactParams(TEST, 500, DEFAULTS.depthUsdWad); // 1% → 5% per depth
      const at = await time.latest();
      expect(await env.engine.marginRatios(TEST, big)).to.deep.equal([1_500n * BPS, 450n * BPS]);
      expect(await env.engine.marginRatios(TEST, 0n)).to.deep.equal([500n * BPS, 250n * BPS]);
      const expected: [number, bigint][] = [
        [HOUR, 550n],
        [4 * HOUR, 850n],
        [8 * HOUR, 1_250n],
        [12 * HOUR, 1_250n],
      ];
      for (const [dt, mmrBps] of expected) {
        const [, mmr] = await env.engine.marginRatiosAt(TEST, big, at + dt);
        expect(mmr).to.equal(mmrBps * BPS);
      }
      // A shallower venue is the same kind of raise.
      await time.increaseTo(at + HOUR);
      const [, before] = await env.engine.marginRatios(TEST, big);
      await env.engine.setImpactParams(TEST, 500, DEFAULTS.depthUsdWad / 2n);
      const [imrAfter, after] = await env.engine.marginRatios(TEST, big);
      expect(imrAfter).to.equal(2_500n * BPS);
      expect(after, "a raise during a ramp never makes maintenance jump").to.be.lte(before);
      const [, later] = await env.engine.marginRatiosAt(TEST, big, (await time.latest()) + HOUR);
      expect(later - after).to.be.lte(100n * BPS);
      // Lowering the slope applies at once.
      await env.engine.setImpactParams(TEST, 100, DEFAULTS.depthUsdWad);
      expect(await env.engine.marginRatios(TEST, big)).to.deep.equal([700n * BPS, 450n * BPS]);
    });

    it("a raised σ multiplier or horizon ramps maintenance like a volatility spike", async () => {
      const env = await loadFixture(standalone);
      // Make the volatility term bind: 20 minutes of σ ≈ 1,000% a year.
      let t = await time.latest();
      let price = 3_000;
      for (let i = 0; i < 20; i++) {
        t += 60;
        price *= Math.exp((i % 2 === 0 ? -1 : 1) * stepReturn(10, 60));
        await observe(env, e8(price), t);
      }
      const at = (await time.latest()) + 1;
      const [, mmrBefore] = await env.engine.marginRatiosAt(TEST, 0n, at);
      await time.setNextBlockTimestamp(at);
      await env.engine.setVolatilityParams(TEST, 14_400, 4 * HOUR, 50_000);
      const [imrAfter, mmrAfter] = await ratios(env.engine, TEST, 0n);
      const s = await env.engine.riskState(TEST);
      expect(imrAfter).to.be.gt(0.2);
      expect(imrAfter).to.be.closeTo(Math.min(1, 5 * num(s.sigmaHorizonWad)), 1e-9);
      expect(mmrAfter).to.equal(num(mmrBefore));
      expect(mmrAfter).to.be.lt(num(s.targetMmrWad));
      const [, mmrHour] = await env.engine.marginRatiosAt(TEST, 0n, at + HOUR);
      expect(num(mmrHour)).to.be.closeTo(Math.min(num(s.targetMmrWad), mmrAfter + 0.01), 1e-15);
    });

    it("a lowered rise limit slows a ramp already under way", async () => {
      const env = await loadFixture(standalone);
      await env.engine.setMarginParams(TEST, 1_000, 900, 5_000, 100);
      const at = await time.latest();
      await time.setNextBlockTimestamp(at + HOUR);
      await env.engine.setMarginParams(TEST, 1_000, 900, 5_000, 10);
      const at2 = await time.latest();
      const [, mmr] = await env.engine.marginRatios(TEST, 0n);
      expect(mmr).to.equal(350n * BPS); // 2.5% + 1%/h × 1h
      const [, later] = await env.engine.marginRatiosAt(TEST, 0n, at2 + 2 * HOUR);
      expect(later).to.equal(370n * BPS); // then 0.1%/h
    });

    it("property: under random updates, waits and parameter changes no position's mmr outruns the limit, and mmr ≤ imr ≤ 1", async () => {
      const notionals = [0n, usdWad(1_000_000), usdWad(25_000_000), usdWad(400_000_000), usdWad(10_000_000_000)];
      const action = fc.oneof(
        fc.record({ kind: fc.constant("observe" as const), ret: fc.double({ min: -0.3, max: 0.3, noNaN: true }) }),
        fc.record({ kind: fc.constant("wait" as const), sec: fc.integer({ min: 1, max: 6 * HOUR }) }),
        fc.record({
          kind: fc.constant("margin" as const),
          imr: fc.integer({ min: 101, max: 10_000 }),
          mmrShare: fc.double({ min: 0, max: 0.99, noNaN: true }),
          fraction: fc.integer({ min: 0, max: 9_000 }),
        }),
        fc.record({
          kind: fc.constant("impact" as const),
          factor: fc.integer({ min: 0, max: 10_000 }),
          depthUsd: fc.integer({ min: 1_000_000, max: 1_000_000_000 }),
        }),
        fc.record({
          kind: fc.constant("volatility" as const),
          horizon: fc.integer({ min: 60, max: 7 * 24 * HOUR }),
          k: fc.integer({ min: 0, max: 60_000 }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 10 }), async (actions) => {
          const env = await loadFixture(standalone);
          const ratePerHourWad = 100n * BPS; // the rise limit is left at its default of 100 bps an hour
          let price = 3_000;
          let prevAt = await time.latest();
          let prev = await Promise.all(notionals.map((n) => env.engine.marginRatios(TEST, n)));
          for (const a of actions) {
            if (a.kind === "observe") {
              price *= Math.exp(a.ret);
              await observe(env, e8(price), (await time.latest()) + 30);
            } else if (a.kind === "wait") {
              await time.increase(a.sec);
            } else if (a.kind === "margin") {
              const mmr = Math.max(50, Math.min(5_000, Math.floor(a.imr * a.mmrShare)));
              if (mmr < a.imr)
                await env.engine.setMarginParams(TEST, a.imr, mmr, a.fraction, 100).catch(() => undefined);
            } else if (a.kind === "impact") {
              await env.engine.setImpactParams(TEST, a.factor, usdWad(a.depthUsd)).catch(() => undefined);
            } else {
              await env.engine.setVolatilityParams(TEST, 14_400, a.horizon, a.k).catch(() => undefined);
            }
            const at = await time.latest();
            const now = await Promise.all(notionals.map((n) => env.engine.marginRatios(TEST, n)));
            for (const [i, [imr, mmr]] of now.entries()) {
              expect(mmr, "mmr ≤ imr").to.be.lte(imr);
              expect(imr, "imr ≤ 1").to.be.lte(WAD);
              const allowed = (ratePerHourWad * BigInt(at - prevAt)) / BigInt(SECONDS_PER_HOUR) + 2n;
              expect(mmr - prev[i][1], `rise of notional #${i} over ${at - prevAt}s after ${a.kind}`).to.be.lte(
                allowed,
              );
            }
            prev = now;
            prevAt = at;
          }
        }),
        { numRuns: 25, seed: 3 },
      );
    });
  });

  describe("smoothed price", () => {
    it("weighs a price that just appeared by 1 − 2^(−age/halfLife), even if nobody calls updatePrice", async () => {
      const env = await loadFixture(standalone);
      const ref = new RiskReference(refParams(DEFAULTS), 3_000, env.seedAt);
      const t = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(t);
      await env.feed.setAnswer(e8(2_550)); // −15%, no keeper
      expect(await env.engine.smoothedPrice(TEST)).to.equal(3_000n * WAD); // age 0
      for (const age of [12, 180, 900]) {
        await time.increaseTo(t + age);
        const expected = ref.smoothedAt(t + age, { price: 2_550, observedAt: t });
        expect(num(await env.engine.smoothedPrice(TEST))).to.be.closeTo(expected, 1e-9 * expected);
      }
      // 180 s is one half-life: halfway.
      expect(ref.smoothedAt(t + 180, { price: 2_550, observedAt: t })).to.be.closeTo(2_775, 1e-9);
    });

    it("agrees before and after updatePrice, which stores the EMA at the observation's time", async () => {
      const env = await loadFixture(standalone);
      const ref = new RiskReference(refParams(DEFAULTS), 3_000, env.seedAt);
      let t = await time.latest();
      for (const price of [2_990, 3_020, 2_700, 2_650, 2_800]) {
        t += 45;
        await time.setNextBlockTimestamp(t);
        await env.feed.setAnswer(e8(price));
        await time.increaseTo(t + 20);
        const before = await env.engine.smoothedPrice(TEST);
        await time.setNextBlockTimestamp(t + 21);
        await env.engine.updatePrice(TEST);
        ref.observe(price, t);
        const after = await env.engine.smoothedPrice(TEST);
        expect(num(after)).to.be.closeTo(ref.smoothedAt(t + 21, { price, observedAt: t }), 1e-6);
        // One second more of the same price: the two paths differ only by that second's decay.
        expect(num(after)).to.be.closeTo(num(before), Math.abs(num(before) - price) * 0.01 + 1e-6);
        t += 21;
      }
    });

    it("falls back to the last accepted price when the oracle is stale, and never reverts", async () => {
      const env = await loadFixture(standalone);
      const ref = new RiskReference(refParams(DEFAULTS), 3_000, env.seedAt);
      const t = (await time.latest()) + 30;
      await observe(env, e8(2_700), t);
      ref.observe(2_700, t);
      await time.increase(2 * HOUR); // the feed's heartbeat is one hour
      const [, status] = await env.oracle.tryGetPrice(ASSET);
      expect(status).to.equal(2n); // Stale
      const now = await time.latest();
      expect(num(await env.engine.smoothedPrice(TEST))).to.be.closeTo(ref.smoothedAt(now), 1e-9);
      expect(await env.engine.smoothedPrice(UNKNOWN)).to.equal(0n);
    });
  });

  describe("wick filter and hard floor in the vault (acceptance 5)", () => {
    interface Book {
      w: DynamicWorld;
      healthy: string;
      between: string;
      deep: string;
    }

    /** Three 10 ETH longs at $3,000: $30k, $5.1k and $4.5k of collateral. At $2,550 (MM 3.5%)
     * `between` has ~$600 of equity: below MM (~$897), above the hard floor (~$448). */
    async function book(): Promise<Book> {
      const w = await deployDynamicWorld();
      const usdcAddr = await w.usdc.getAddress();
      const [h, b, d] = w.traders;
      for (const [trader, collateral] of [
        [h, 30_000],
        [b, 5_100],
        [d, 4_500],
      ] as const) {
        await w.vault.connect(trader).deposit(usdcAddr, usdc(collateral));
        await w.vault.connect(trader).trade(ETH_USD, 10n * WAD, anyPrice(1n));
      }
      return { w, healthy: h.address, between: b.address, deep: d.address };
    }

    const reason = async (w: DynamicWorld, account: string) => (await w.vault.isLiquidatable(account))[1];
    const NONE = 0n;
    const BELOW_MAINTENANCE = 1n;
    const BELOW_HARD_FLOOR = 2n;

    /** Every account at or above hardFloor × MM at the oracle price is not liquidatable. */
    async function expectNobodyAboveFloorLiquidatable(w: DynamicWorld, accounts: string[]) {
      const floor = await w.engine.hardFloorWad();
      for (const a of accounts) {
        const h = await w.vault.accountHealth(a);
        if (h.equityWad >= (BigInt(h.maintenanceMarginWad) * floor) / WAD) {
          expect((await w.vault.isLiquidatable(a))[0], `account ${a}`).to.equal(false);
        }
      }
    }

    async function fixture() {
      return book();
    }

    it("a one-block −15% wick that reverts liquidates nobody above hardFloor × MM", async () => {
      const { w, healthy, between, deep } = await loadFixture(fixture);
      const accounts = [healthy, between, deep];
      for (const a of accounts) expect(await reason(w, a)).to.equal(NONE);

      await setEthPrice(w, 2_550); // the wick
      const hb = await w.vault.accountHealth(between);
      expect(hb.equityWad).to.be.lt(hb.maintenanceMarginWad); // below MM at the oracle price…
      expect(hb.equityWad).to.be.gte(hb.maintenanceMarginWad / 2n); // …but above the hard floor
      expect(await reason(w, healthy)).to.equal(NONE);
      expect(await reason(w, between)).to.equal(NONE);
      expect(await reason(w, deep)).to.equal(BELOW_HARD_FLOOR); // below the floor: at once
      await expectNobodyAboveFloorLiquidatable(w, accounts);

      // A keeper feeds the wick to the engine in the next block: still filtered.
      await w.engine.updatePrice(ETH_USD);
      expect(await reason(w, between)).to.equal(NONE);
      await expectNobodyAboveFloorLiquidatable(w, accounts);

      await setEthPrice(w, 3_000); // the wick reverts
      await w.engine.updatePrice(ETH_USD);
      for (const a of accounts) expect(await reason(w, a)).to.equal(NONE);
    });

    for (const keeper of [false, true]) {
      it(`a sustained −15% drop liquidates the account below MM within the smoothing window (${keeper ? "keeper pokes every minute" : "nobody pokes"})`, async () => {
        const { w, healthy, between, deep } = await loadFixture(fixture);
        await setEthPrice(w, 2_550);
        if (keeper) await w.engine.updatePrice(ETH_USD);
        const start = await time.latest();
        let flippedAfter = -1;
        for (let minute = 1; minute <= 30; minute++) {
          await time.increaseTo(start + minute * 60);
          if (keeper) {
            await setEthPrice(w, 2_550); // a fresh round at the same price
            await w.engine.updatePrice(ETH_USD);
          }
          expect(await reason(w, deep)).to.equal(BELOW_HARD_FLOOR);
          expect(await reason(w, healthy)).to.equal(NONE);
          const r = await reason(w, between);
          if (r !== NONE && flippedAfter < 0) flippedAfter = minute;
          if (flippedAfter > 0) expect(r).to.equal(BELOW_MAINTENANCE);
        }
        // ~12 minutes by the model (the smoothed price must close 93% of the gap); the filter held
        // for the first minutes, and the 30-minute window (10 half-lives) caught it.
        expect(flippedAfter, "minutes until the account below MM became liquidatable").to.be.gte(5);
        expect(flippedAfter).to.be.lte(20);
        const smoothed = await w.engine.smoothedPrice(ETH_USD);
        expect(smoothed).to.be.closeTo(2_550n * WAD, 5n * WAD);
      });
    }
  });

  describe("governance (acceptance 6)", () => {
    /** [label, field, min, max] for every bounded market parameter. */
    const BOUNDS: [string, keyof Params, bigint, bigint][] = [
      ["volHalfLife", "volHalfLifeSec", 300n, 2_592_000n],
      ["liquidationHorizon", "liquidationHorizonSec", 60n, 604_800n],
      ["volMultiplier", "volMultiplierBps", 0n, 60_000n],
      ["smoothingHalfLife", "smoothingHalfLifeSec", 12n, 3_600n],
      ["baseImr", "baseImrBps", 100n, 10_000n],
      ["baseMmr", "baseMmrBps", 50n, 5_000n],
      ["maintenanceFraction", "maintenanceFractionBps", 0n, 9_000n],
      ["maxMmrRisePerHour", "maxMmrRisePerHourBps", 1n, 1_000n],
      ["impactFactor", "impactFactorBps", 0n, 10_000n],
      ["depthUsd", "depthUsdWad", usdWad(1_000_000), usdWad(1_000_000_000_000)],
      ["initialVol", "initialVolBps", 100n, 100_000n],
    ];
    /** A valid companion for a probed value: baseImr must stay above baseMmr. */
    const companion = (field: keyof Params): Partial<Params> =>
      field === "baseImrBps" ? { baseMmrBps: 50 } : field === "baseMmrBps" ? { baseImrBps: 10_000 } : {};
    const withValue = (field: keyof Params, value: bigint): Params =>
      ({ ...params(companion(field)), [field]: field === "depthUsdWad" ? value : Number(value) }) as Params;

    it("exposes the role and the documented bounds", async () => {
      const { engine } = await loadFixture(standalone);
      expect(await engine.RISK_ADMIN_ROLE()).to.equal(ethers.id("RISK_ADMIN_ROLE"));
      expect(await engine.MIN_VOL_HALF_LIFE()).to.equal(300n);
      expect(await engine.MAX_VOL_HALF_LIFE()).to.equal(2_592_000n);
      expect(await engine.MIN_LIQUIDATION_HORIZON()).to.equal(60n);
      expect(await engine.MAX_LIQUIDATION_HORIZON()).to.equal(604_800n);
      expect(await engine.MIN_SMOOTHING_HALF_LIFE()).to.equal(12n);
      expect(await engine.MAX_SMOOTHING_HALF_LIFE()).to.equal(3_600n);
      expect(await engine.MAX_VOL_MULTIPLIER_BPS()).to.equal(60_000n);
      expect(await engine.MIN_INITIAL_VOL_BPS()).to.equal(100n);
      expect(await engine.MAX_INITIAL_VOL_BPS()).to.equal(100_000n);
      expect(await engine.MIN_BASE_IMR_BPS()).to.equal(100n);
      expect(await engine.MAX_BASE_IMR_BPS()).to.equal(10_000n);
      expect(await engine.MIN_BASE_MMR_BPS()).to.equal(50n);
      expect(await engine.MAX_BASE_MMR_BPS()).to.equal(5_000n);
      expect(await engine.MAX_MAINTENANCE_FRACTION_BPS()).to.equal(9_000n);
      expect(await engine.MIN_MMR_RISE_PER_HOUR_BPS()).to.equal(1n);
      expect(await engine.MAX_MMR_RISE_PER_HOUR_BPS()).to.equal(1_000n);
      expect(await engine.MAX_IMPACT_FACTOR_BPS()).to.equal(10_000n);
      expect(await engine.MIN_DEPTH_USD()).to.equal(usdWad(1_000_000));
      expect(await engine.MAX_DEPTH_USD()).to.equal(usdWad(1_000_000_000_000));
      expect(await engine.MIN_HARD_FLOOR_BPS()).to.equal(1_000n);
      expect(await engine.MAX_HARD_FLOOR_BPS()).to.equal(10_000n);
    });

    describe("constructor", () => {
      it("rejects zero addresses and a hard floor out of bounds", async () => {
        const { oracle, admin } = await loadFixture(standalone);
        const Engine = await ethers.getContractFactory("RiskEngine");
        await expect(Engine.deploy(ethers.ZeroAddress, oracle, 5_000)).to.be.revertedWithCustomError(
          Engine,
          "ZeroAddress",
        );
        await expect(Engine.deploy(admin.address, ethers.ZeroAddress, 5_000)).to.be.revertedWithCustomError(
          Engine,
          "ZeroAddress",
        );
        await expect(Engine.deploy(admin.address, oracle, 999))
          .to.be.revertedWithCustomError(Engine, "ParamOutOfBounds")
          .withArgs(label("hardFloor"), 999n, 1_000n, 10_000n);
        await expect(Engine.deploy(admin.address, oracle, 10_001))
          .to.be.revertedWithCustomError(Engine, "ParamOutOfBounds")
          .withArgs(label("hardFloor"), 10_001n, 1_000n, 10_000n);
        const engine = await Engine.deploy(admin.address, oracle, 10_000);
        expect(await engine.hardFloorWad()).to.equal(WAD);
        expect(await engine.hasRole(await engine.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
        expect(await engine.hasRole(await engine.RISK_ADMIN_ROLE(), admin.address)).to.equal(true);
      });
    });

    describe("configureMarket", () => {
      it("configures a market, seeds it from the oracle and emits MarketConfigured", async () => {
        const { engine } = await loadFixture(standalone);
        const p = params({ oracleAsset: ALT_ASSET, initialVolBps: 10_000 });
        await expect(engine.configureMarket(JUMP, asTuple(p))).to.emit(engine, "MarketConfigured");
        const s = await engine.riskState(JUMP);
        expect(s.lastPriceWad).to.equal(150n * WAD);
        expect(s.smoothedPriceWad).to.equal(150n * WAD);
        expect(relativeError(num(s.sigmaAnnualWad), 1)).to.be.lt(1e-6);
        const stored = await engine.marketParams(JUMP);
        for (const key of Object.keys(p) as (keyof Params)[]) {
          expect(stored[key], key).to.equal(p[key]);
        }
      });

      it("is RISK_ADMIN only", async () => {
        const { engine, stranger } = await loadFixture(standalone);
        await expect(engine.connect(stranger).configureMarket(JUMP, asTuple(DEFAULTS)))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
      });

      it("rejects every parameter outside its bounds and accepts the bounds themselves", async () => {
        const { engine } = await loadFixture(standalone);
        let n = 0;
        for (const [name, field, min, max] of BOUNDS) {
          if (min > 0n) {
            await expect(engine.configureMarket(JUMP, asTuple(withValue(field, min - 1n))), `${name} below`)
              .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
              .withArgs(label(name), min - 1n, min, max);
          }
          await expect(engine.configureMarket(JUMP, asTuple(withValue(field, max + 1n))), `${name} above`)
            .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
            .withArgs(label(name), max + 1n, min, max);
          for (const ok of [min, max]) {
            await expect(engine.configureMarket(label(`OK${n++}`), asTuple(withValue(field, ok))), `${name} = ${ok}`).to
              .not.be.reverted;
          }
        }
      });

      it("rejects baseMmr ≥ baseImr, a zero asset and a market configured twice", async () => {
        const { engine } = await loadFixture(standalone);
        await expect(engine.configureMarket(JUMP, asTuple(params({ baseImrBps: 300, baseMmrBps: 300 }))))
          .to.be.revertedWithCustomError(engine, "InvalidMarginParams")
          .withArgs(JUMP, 300n, 300n);
        await expect(engine.configureMarket(JUMP, asTuple(params({ baseImrBps: 300, baseMmrBps: 400 }))))
          .to.be.revertedWithCustomError(engine, "InvalidMarginParams")
          .withArgs(JUMP, 300n, 400n);
        await expect(
          engine.configureMarket(JUMP, asTuple(params({ oracleAsset: ethers.ZeroAddress }))),
        ).to.be.revertedWithCustomError(engine, "ZeroAddress");
        await expect(engine.configureMarket(TEST, asTuple(DEFAULTS)))
          .to.be.revertedWithCustomError(engine, "MarketAlreadyConfigured")
          .withArgs(TEST);
      });

      it("requires a trusted oracle price that fits 96 bits", async () => {
        const { engine, feed } = await loadFixture(standalone);
        await expect(engine.configureMarket(JUMP, asTuple(params({ oracleAsset: NO_FEED_ASSET }))))
          .to.be.revertedWithCustomError(engine, "OracleUnavailable")
          .withArgs(JUMP, NO_FEED_ASSET);
        await time.increase(HOUR + 1);
        await expect(engine.configureMarket(JUMP, asTuple(DEFAULTS)))
          .to.be.revertedWithCustomError(engine, "OracleUnavailable")
          .withArgs(JUMP, ASSET);
        const huge = UINT96_MAX / 10n ** 10n + 1n;
        await feed.setAnswer(huge);
        await expect(engine.configureMarket(JUMP, asTuple(DEFAULTS)))
          .to.be.revertedWithCustomError(engine, "PriceOutOfRange")
          .withArgs(JUMP, huge * 10n ** 10n);
      });
    });

    describe("setVolatilityParams", () => {
      it("sets, emits, rejects a no-op, an unknown market, a stranger and every bound", async () => {
        const { engine, stranger } = await loadFixture(standalone);
        await expect(engine.setVolatilityParams(TEST, 7_200, 1_800, 20_000))
          .to.emit(engine, "VolatilityParamsSet")
          .withArgs(TEST, 7_200n, 1_800n, 20_000n);
        const p = await engine.marketParams(TEST);
        expect([p.volHalfLifeSec, p.liquidationHorizonSec, p.volMultiplierBps]).to.deep.equal([
          7_200n,
          1_800n,
          20_000n,
        ]);
        await expect(engine.setVolatilityParams(TEST, 7_200, 1_800, 20_000)).to.be.revertedWithCustomError(
          engine,
          "NoChange",
        );
        await expect(engine.setVolatilityParams(UNKNOWN, 7_200, 1_800, 20_000))
          .to.be.revertedWithCustomError(engine, "MarketNotConfigured")
          .withArgs(UNKNOWN);
        await expect(engine.connect(stranger).setVolatilityParams(TEST, 7_200, 1_800, 20_001))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
        const cases: [string, [number, number, number], bigint, bigint, bigint][] = [
          ["volHalfLife", [299, 1_800, 1], 299n, 300n, 2_592_000n],
          ["volHalfLife", [2_592_001, 1_800, 1], 2_592_001n, 300n, 2_592_000n],
          ["liquidationHorizon", [7_200, 59, 1], 59n, 60n, 604_800n],
          ["liquidationHorizon", [7_200, 604_801, 1], 604_801n, 60n, 604_800n],
          ["volMultiplier", [7_200, 1_800, 60_001], 60_001n, 0n, 60_000n],
        ];
        for (const [name, args, value, min, max] of cases) {
          await expect(engine.setVolatilityParams(TEST, ...args))
            .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
            .withArgs(label(name), value, min, max);
        }
        await expect(engine.setVolatilityParams(TEST, 300, 60, 0)).to.emit(engine, "VolatilityParamsSet");
        await expect(engine.setVolatilityParams(TEST, 2_592_000, 604_800, 60_000)).to.emit(
          engine,
          "VolatilityParamsSet",
        );
      });
    });

    describe("setMarginParams", () => {
      it("sets, emits, rejects a no-op, an unknown market, a stranger, baseMmr ≥ baseImr and every bound", async () => {
        const { engine, stranger } = await loadFixture(standalone);
        await expect(engine.setMarginParams(TEST, 1_000, 500, 4_000, 50))
          .to.emit(engine, "MarginParamsSet")
          .withArgs(TEST, 1_000n, 500n, 4_000n, 50n);
        await expect(engine.setMarginParams(TEST, 1_000, 500, 4_000, 50)).to.be.revertedWithCustomError(
          engine,
          "NoChange",
        );
        await expect(engine.setMarginParams(UNKNOWN, 1_000, 500, 4_000, 50))
          .to.be.revertedWithCustomError(engine, "MarketNotConfigured")
          .withArgs(UNKNOWN);
        await expect(engine.connect(stranger).setMarginParams(TEST, 1_000, 500, 4_000, 51))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
        await expect(engine.setMarginParams(TEST, 600, 600, 4_000, 50))
          .to.be.revertedWithCustomError(engine, "InvalidMarginParams")
          .withArgs(TEST, 600n, 600n);
        const cases: [string, [number, number, number, number], bigint, bigint, bigint][] = [
          ["baseImr", [99, 50, 0, 1], 99n, 100n, 10_000n],
          ["baseImr", [10_001, 50, 0, 1], 10_001n, 100n, 10_000n],
          ["baseMmr", [1_000, 49, 0, 1], 49n, 50n, 5_000n],
          ["baseMmr", [10_000, 5_001, 0, 1], 5_001n, 50n, 5_000n],
          ["maintenanceFraction", [1_000, 50, 9_001, 1], 9_001n, 0n, 9_000n],
          ["maxMmrRisePerHour", [1_000, 50, 0, 0], 0n, 1n, 1_000n],
          ["maxMmrRisePerHour", [1_000, 50, 0, 1_001], 1_001n, 1n, 1_000n],
        ];
        for (const [name, args, value, min, max] of cases) {
          await expect(engine.setMarginParams(TEST, ...args))
            .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
            .withArgs(label(name), value, min, max);
        }
        await expect(engine.setMarginParams(TEST, 100, 50, 0, 1)).to.emit(engine, "MarginParamsSet");
        await expect(engine.setMarginParams(TEST, 10_000, 5_000, 9_000, 1_000)).to.emit(engine, "MarginParamsSet");
      });
    });

    describe("setImpactParams", () => {
      it("sets, emits the slope, rejects a no-op, an unknown market, a stranger and every bound", async () => {
        const { engine, stranger } = await loadFixture(standalone);
        await expect(engine.setImpactParams(TEST, 200, usdWad(10_000_000)))
          .to.emit(engine, "ImpactParamsSet")
          .withArgs(TEST, 200n, usdWad(10_000_000), 2n * 10n ** 15n); // 0.2% per $1M
        await expect(engine.setImpactParams(TEST, 200, usdWad(10_000_000))).to.be.revertedWithCustomError(
          engine,
          "NoChange",
        );
        await expect(engine.setImpactParams(UNKNOWN, 200, usdWad(10_000_000)))
          .to.be.revertedWithCustomError(engine, "MarketNotConfigured")
          .withArgs(UNKNOWN);
        await expect(engine.connect(stranger).setImpactParams(TEST, 201, usdWad(10_000_000)))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
        const min = usdWad(1_000_000);
        const max = usdWad(1_000_000_000_000);
        await expect(engine.setImpactParams(TEST, 10_001, min))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("impactFactor"), 10_001n, 0n, 10_000n);
        await expect(engine.setImpactParams(TEST, 100, min - 1n))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("depthUsd"), min - 1n, min, max);
        await expect(engine.setImpactParams(TEST, 100, max + 1n))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("depthUsd"), max + 1n, min, max);
        await expect(engine.setImpactParams(TEST, 0, max)).to.emit(engine, "ImpactParamsSet");
        await expect(engine.setImpactParams(TEST, 10_000, min))
          .to.emit(engine, "ImpactParamsSet")
          .withArgs(TEST, 10_000n, min, WAD);
      });
    });

    describe("setSmoothingHalfLife", () => {
      it("sets, emits, rejects a no-op, an unknown market, a stranger and its bounds", async () => {
        const { engine, stranger } = await loadFixture(standalone);
        await expect(engine.setSmoothingHalfLife(TEST, 60)).to.emit(engine, "SmoothingHalfLifeSet").withArgs(TEST, 60n);
        expect((await engine.marketParams(TEST)).smoothingHalfLifeSec).to.equal(60n);
        await expect(engine.setSmoothingHalfLife(TEST, 60)).to.be.revertedWithCustomError(engine, "NoChange");
        await expect(engine.setSmoothingHalfLife(UNKNOWN, 60))
          .to.be.revertedWithCustomError(engine, "MarketNotConfigured")
          .withArgs(UNKNOWN);
        await expect(engine.connect(stranger).setSmoothingHalfLife(TEST, 61))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
        await expect(engine.setSmoothingHalfLife(TEST, 11))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("smoothingHalfLife"), 11n, 12n, 3_600n);
        await expect(engine.setSmoothingHalfLife(TEST, 3_601))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("smoothingHalfLife"), 3_601n, 12n, 3_600n);
        await expect(engine.setSmoothingHalfLife(TEST, 12)).to.emit(engine, "SmoothingHalfLifeSet");
        await expect(engine.setSmoothingHalfLife(TEST, 3_600)).to.emit(engine, "SmoothingHalfLifeSet");
      });
    });

    describe("setOracleAsset", () => {
      it("re-seeds the price state from the new asset and keeps the variance estimate", async () => {
        const env = await loadFixture(standalone);
        const { engine } = env;
        await observe(env, e8(2_400), (await time.latest()) + 60);
        const before = await engine.riskState(TEST);
        await expect(engine.setOracleAsset(TEST, ALT_ASSET))
          .to.emit(engine, "OracleAssetSet")
          .withArgs(TEST, ALT_ASSET, 150n * WAD);
        const after = await engine.riskState(TEST);
        expect(after.lastPriceWad).to.equal(150n * WAD);
        expect(after.smoothedPriceWad).to.equal(150n * WAD);
        expect(after.varianceRateWad).to.equal(before.varianceRateWad);
        expect((await engine.marketParams(TEST)).oracleAsset).to.equal(ALT_ASSET);
      });

      it("rejects a stranger, zero, a no-op, an unknown market, an unpriced asset and a huge price", async () => {
        const { engine, stranger, altFeed } = await loadFixture(standalone);
        await expect(engine.connect(stranger).setOracleAsset(TEST, ALT_ASSET))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
        await expect(engine.setOracleAsset(TEST, ethers.ZeroAddress)).to.be.revertedWithCustomError(
          engine,
          "ZeroAddress",
        );
        await expect(engine.setOracleAsset(TEST, ASSET)).to.be.revertedWithCustomError(engine, "NoChange");
        await expect(engine.setOracleAsset(UNKNOWN, ALT_ASSET))
          .to.be.revertedWithCustomError(engine, "MarketNotConfigured")
          .withArgs(UNKNOWN);
        await expect(engine.setOracleAsset(TEST, NO_FEED_ASSET))
          .to.be.revertedWithCustomError(engine, "OracleUnavailable")
          .withArgs(TEST, NO_FEED_ASSET);
        const huge = UINT96_MAX / 10n ** 10n + 1n;
        await altFeed.setAnswer(huge);
        await expect(engine.setOracleAsset(TEST, ALT_ASSET))
          .to.be.revertedWithCustomError(engine, "PriceOutOfRange")
          .withArgs(TEST, huge * 10n ** 10n);
      });
    });

    describe("setHardFloor", () => {
      it("sets, emits, rejects a no-op, a stranger and its bounds", async () => {
        const { engine, stranger } = await loadFixture(standalone);
        await expect(engine.setHardFloor(6_000)).to.emit(engine, "HardFloorSet").withArgs(6_000n);
        expect(await engine.hardFloorWad()).to.equal(6_000n * BPS);
        await expect(engine.setHardFloor(6_000)).to.be.revertedWithCustomError(engine, "NoChange");
        await expect(engine.connect(stranger).setHardFloor(7_000))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(stranger.address, await engine.RISK_ADMIN_ROLE());
        await expect(engine.setHardFloor(999))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("hardFloor"), 999n, 1_000n, 10_000n);
        await expect(engine.setHardFloor(10_001))
          .to.be.revertedWithCustomError(engine, "ParamOutOfBounds")
          .withArgs(label("hardFloor"), 10_001n, 1_000n, 10_000n);
        await expect(engine.setHardFloor(1_000)).to.emit(engine, "HardFloorSet");
        await expect(engine.setHardFloor(10_000)).to.emit(engine, "HardFloorSet");
      });
    });

    it("roles: DEFAULT_ADMIN grants RISK_ADMIN; RISK_ADMIN alone cannot grant", async () => {
      const { engine, keeper, stranger } = await loadFixture(standalone);
      const role = await engine.RISK_ADMIN_ROLE();
      await engine.grantRole(role, keeper.address);
      await expect(engine.connect(keeper).setHardFloor(7_000)).to.emit(engine, "HardFloorSet");
      await expect(engine.connect(keeper).grantRole(role, stranger.address))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(keeper.address, await engine.DEFAULT_ADMIN_ROLE());
    });
  });

  describe("views", () => {
    it("riskState reports σ, imr, target and effective mmr consistently with marginRatios", async () => {
      const env = await loadFixture(standalone);
      const s = await env.engine.riskState(TEST);
      expect(relativeError(num(s.sigmaAnnualWad), 0.8)).to.be.lt(1e-9);
      expect(relativeError(num(s.sigmaHorizonWad), 0.8 * Math.sqrt(HOUR / SECONDS_PER_YEAR))).to.be.lt(1e-9);
      const [imr, mmr] = await env.engine.marginRatios(TEST, 0n);
      expect(s.imrWad).to.equal(imr);
      expect(s.effectiveMmrWad).to.equal(mmr);
      expect(s.targetMmrWad).to.equal(250n * BPS);
      expect(s.checkpointAt).to.be.lte(BigInt(await time.latest()));
    });

    it("marginRatiosAt clamps a past timestamp to now; views reject an unknown market", async () => {
      const env = await loadFixture(standalone);
      expect(await env.engine.marginRatiosAt(TEST, usdWad(1_000_000), 0n)).to.deep.equal(
        await env.engine.marginRatios(TEST, usdWad(1_000_000)),
      );
      for (const call of [
        () => env.engine.marginRatios(UNKNOWN, 0n),
        () => env.engine.marginRatiosAt(UNKNOWN, 0n, 0n),
        () => env.engine.riskState(UNKNOWN),
        () => env.engine.marketParams(UNKNOWN),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(env.engine, "MarketNotConfigured").withArgs(UNKNOWN);
      }
    });

    it("marginRatios never reverts for a configured market, whatever the notional", async () => {
      const env = await loadFixture(standalone);
      for (const n of [0n, 1n, usdWad(1), 10n ** 45n, 10n ** 60n, ethers.MaxUint256]) {
        const [imr, mmr] = await env.engine.marginRatios(TEST, n);
        expect(mmr).to.be.lte(imr);
        expect(imr).to.be.lte(WAD);
      }
      expect(await env.engine.marginRatios(TEST, ethers.MaxUint256)).to.deep.equal([WAD, WAD]);
    });
  });
});

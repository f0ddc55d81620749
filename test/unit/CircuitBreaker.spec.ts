import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { time, takeSnapshot } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { BTC_USD, ETH_USD, WAD, e8, openLeveraged, usdc, wad, type World } from "../shared/local-world";
import { deployAuctionWorld, depositUsd, kick, rpow, setAuctionParams } from "../shared/auction-math";
import type { ICircuitBreaker } from "../../typechain-types";
import { decodePermissions, OPERATIONS } from "../shared/system-model";

const GLOBAL = ethers.ZeroHash;
const T = {
  None: 0n,
  PriceMove: 1n,
  OracleGuard: 2n,
  AuctionHealth: 3n,
  InsuranceDrawdown: 4n,
  Guardian: 5n,
  Recovery: 6n,
};

/** The ETH price after the crash of `scene`. */
const CRASH = 2_900;

interface Scene {
  w: World;
  /** 7.5× long, not liquidatable after the crash. */
  healthy: HardhatEthersSigner;
  /** Kicked half an hour ago: its auction is stale (past tail). */
  stale: HardhatEthersSigner;
  /** Kicked just now: its auction is live. */
  live: HardhatEthersSigner;
  /** Liquidatable, not kicked. */
  victim: HardhatEthersSigner;
  bidder: HardhatEthersSigner;
  staleId: bigint;
  liveId: bigint;
  /** The fixture LP's redeem request of 1,000 shares' worth, claimable now. */
  requestId: bigint;
}

async function scene(): Promise<Scene> {
  const w = await deployAuctionWorld();
  const [healthy, stale, live, victim, bidder] = w.traders;
  await openLeveraged(w, healthy, ETH_USD, 40_000, 100n * WAD); // 7.5×
  for (const t of [stale, live, victim]) await openLeveraged(w, t, ETH_USD, 16_000, 100n * WAD); // 18.75×
  await depositUsd(w, bidder, 1_000_000n);
  await w.pool.connect(w.lp).requestRedeem(await w.pool.previewWithdraw(usdc(1_000)), w.lp.address, w.lp.address);
  const requestId = await w.pool.lastRequestId();
  await time.increase(1_800);
  await w.ethFeed.setAnswer(e8(CRASH)); // −3.3%: the 18.75× accounts fall below maintenance
  const staleKick = await kick(w, bidder, stale.address);
  await time.increase(1_801); // past tail
  await w.ethFeed.setAnswer(e8(CRASH));
  const liveKick = await kick(w, bidder, live.address);
  // The BTC feed's round is older than an hour by now: refresh it.
  await w.btcFeed.setAnswer((await w.btcFeed.latestRoundData())[1]);
  return { w, healthy, stale, live, victim, bidder, staleId: staleKick.id, liveId: liveKick.id, requestId };
}

/** The breaker's parameters as a plain object (to spread and change one field). */
const PARAM_KEYS = [
  "windowSec",
  "band1Wad",
  "band2Wad",
  "band3Wad",
  "hysteresisWad",
  "cooldownSec",
  "maxPauseSec",
  "oracleMaxAgeSec",
  "oracleDeviationWad",
  "insuranceWindowSec",
  "insuranceDrawdownWad",
  "insuranceMinPeakWad",
  "cautionImWad",
  "haltImWad",
  "guardianRearmSec",
] as const;
type PlainParams = { [K in (typeof PARAM_KEYS)[number]]: bigint };
function paramsOf(p: ICircuitBreaker.ParamsStructOutput): PlainParams {
  return Object.fromEntries(PARAM_KEYS.map((k) => [k, p[k]])) as PlainParams;
}

/** Runs every operation of the matrix against `s` at its current level; true where it succeeded. */
async function attempt(s: Scene, op: string): Promise<boolean> {
  const { w } = s;
  const usdcAddr = await w.usdc.getAddress();
  const run = async (f: () => Promise<unknown>): Promise<boolean> => {
    try {
      await f();
      return true;
    } catch {
      return false;
    }
  };
  switch (op) {
    case "deposit":
      return run(() => w.vault.connect(s.healthy).deposit(usdcAddr, usdc(1_000)));
    case "withdraw":
      // Equity ≈ $29.8k; IM 5% of $290k = $14.5k (× halt multiple 1.25 = $18.1k): $5k keeps it above.
      return run(() => w.vault.connect(s.healthy).withdraw(usdcAddr, usdc(5_000)));
    case "risk-increasing trade":
      return run(() => w.vault.connect(s.healthy).trade(ETH_USD, WAD, ethers.MaxUint256));
    case "reduce-only trade":
      return run(() => w.vault.connect(s.healthy).trade(ETH_USD, -WAD, 0n));
    case "kick":
      return run(() => w.auction.connect(s.bidder).kick(s.victim.address));
    case "take":
      return run(() => w.auction.connect(s.bidder).take(s.liveId, WAD, ethers.MaxUint256, s.bidder.address, "0x"));
    case "redo":
      return run(() => w.auction.connect(s.bidder).redo(s.staleId));
    case "LP deposit":
      return run(() => w.pool.connect(w.lp).deposit(usdc(1_000), w.lp.address));
    case "LP withdraw":
      // The vault's LP withdrawal, as a queued claim reaches it (the request is an hour old).
      return run(() => w.pool.connect(w.lp).claimRedeem(s.requestId));
    case "LP instant exit":
      return run(() => w.pool.connect(w.lp).withdraw(usdc(1_000), w.lp.address, w.lp.address));
    case "takeover":
      return run(async () => {
        await setAuctionParams(w, { poolTakeover: true });
        await w.auction.connect(s.bidder).kick(s.victim.address);
      });
    default:
      throw new Error(`unknown operation ${op}`);
  }
}

/** Parses the first markdown table under "## Permission matrix" in docs/circuit-breakers.md. */
function docMatrix(): Record<string, boolean[]> {
  const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "circuit-breakers.md"), "utf8");
  const section = doc.split("## Permission matrix")[1];
  expect(section, "docs/circuit-breakers.md has a Permission matrix section").to.not.equal(undefined);
  const rows = section
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .slice(2); // header and separator
  const out: Record<string, boolean[]> = {};
  for (const row of rows) {
    const cells = row
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length !== 5) break;
    out[cells[0].replace(/`/g, "")] = cells.slice(1).map((c) => c.startsWith("yes"));
  }
  return out;
}

describe("CircuitBreaker", () => {
  describe("permission matrix", () => {
    // The matrix is one table in the contracts (`BreakerState.PERMISSIONS`); the doc must print
    // it and every gate must behave as it says.
    it("docs/circuit-breakers.md prints exactly the contracts' table (CircuitBreaker.permissions)", async () => {
      const s = await loadFixture(scene);
      const matrix = decodePermissions(await s.w.breaker.permissions());
      expect(docMatrix()).to.deep.equal(matrix);
      // The table is not vacuous: each level blocks something the one below allows.
      expect(matrix.kick).to.deep.equal([true, true, false, false]);
      expect(matrix.take).to.deep.equal([true, true, true, false]);
    });

    for (const level of [0, 1, 2, 3]) {
      it(`level ${level}: every operation is allowed or blocked as the matrix says`, async () => {
        const s = await loadFixture(scene);
        if (level > 0) await s.w.breaker.connect(s.w.admin).trip(ETH_USD, level);
        expect(await s.w.breaker.level(ETH_USD)).to.equal(level);
        expect(await s.w.vault.breakerLevel(ETH_USD)).to.equal(level);
        const matrix = decodePermissions(await s.w.breaker.permissions());
        const got: Record<string, boolean> = {};
        for (const op of OPERATIONS) {
          const snap = await takeSnapshot();
          got[op] = await attempt(s, op);
          await snap.restore();
        }
        const want = Object.fromEntries(OPERATIONS.map((op) => [op, matrix[op][level]]));
        expect(got).to.deep.equal(want);
      });
    }

    it("the global level applies to every market (effective level = max)", async () => {
      const s = await loadFixture(scene);
      await s.w.breaker.connect(s.w.admin).trip(GLOBAL, 2);
      expect(await s.w.breaker.level(ETH_USD)).to.equal(2);
      expect(await s.w.breaker.level(BTC_USD)).to.equal(2);
      await expect(s.w.vault.connect(s.healthy).trade(BTC_USD, WAD / 10n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(s.w.vault, "BreakerActive")
        .withArgs(BTC_USD, 2);
      await expect(s.w.auction.connect(s.bidder).kick(s.victim.address))
        .to.be.revertedWithCustomError(s.w.auction, "BreakerActive")
        .withArgs(ETH_USD, 2);
    });

    it("level 1 asks risk-increasing trades for IM × cautionIm, and reduce-only trades for nothing", async () => {
      const s = await loadFixture(scene);
      const { w } = s;
      const trader = w.traders[5];
      // $16k on 100 ETH at 2,900 ($290k, IM $14.5k): fine at level 0, short of 1.5 × IM at level 1.
      await depositUsd(w, trader, 16_000n);
      const snap = await takeSnapshot();
      await w.vault.connect(trader).trade(ETH_USD, 100n * WAD, ethers.MaxUint256);
      await snap.restore();
      await w.breaker.connect(w.admin).trip(ETH_USD, 1);
      await expect(w.vault.connect(trader).trade(ETH_USD, 100n * WAD, ethers.MaxUint256)).to.be.revertedWithCustomError(
        w.vault,
        "Undercollateralized",
      );
      await w.vault.connect(trader).trade(ETH_USD, 60n * WAD, ethers.MaxUint256); // 1.5 × $8.7k < $16k
    });

    it("level 1 halves the liquidation capacity left in the window", async () => {
      const s = await loadFixture(scene);
      const { w } = s;
      // Leave exactly $1,000 under the outstanding cap (which does not refill with time), less
      // than the victim's slice: at caution only half of it may be used.
      const [, outstanding] = await w.auction.globalUsage();
      const t = await w.auction.throttle();
      await w.auction.connect(w.admin).setThrottle({
        windowSec: t.windowSec,
        globalCapacityWad: t.globalCapacityWad,
        maxOutstandingWad: outstanding + wad(1_000),
      });
      const snap = await takeSnapshot();
      const full = await kick(w, s.bidder, s.victim.address);
      expect(full.tabWad).to.equal(wad(1_000));
      await snap.restore();
      await w.breaker.connect(w.admin).trip(ETH_USD, 1);
      const caution = await kick(w, s.bidder, s.victim.address);
      expect(caution.tabWad).to.equal(wad(500));
    });

    it("LP withdrawals report zero liquidity (ERC-4626 max*) while withdrawals are paused", async () => {
      const s = await loadFixture(scene);
      expect(await s.w.pool.maxWithdraw(s.w.lp.address)).to.be.greaterThan(0n);
      await s.w.breaker.connect(s.w.admin).trip(ETH_USD, 2);
      expect(await s.w.pool.maxWithdraw(s.w.lp.address)).to.equal(0n);
      expect(await s.w.vault.poolFreeLiquidity()).to.equal(0n);
    });

    it("level 3 withdrawals must keep IM × haltIm", async () => {
      const s = await loadFixture(scene);
      const { w } = s;
      await w.breaker.connect(w.admin).trip(ETH_USD, 3);
      const usdcAddr = await w.usdc.getAddress();
      // Equity ≈ $40k − $10k loss − fees = $29.8k; IM $14.5k × 1.25 = $18.1k: $5k fits, $12k does not
      // (it would at any lower level: $17.8k ≥ $14.5k).
      await expect(w.vault.connect(s.healthy).withdraw(usdcAddr, usdc(12_000))).to.be.revertedWithCustomError(
        w.vault,
        "Undercollateralized",
      );
      await w.vault.connect(s.healthy).withdraw(usdcAddr, usdc(5_000));
    });
  });

  describe("triggers", () => {
    async function pokeWorld() {
      const w = await deployAuctionWorld();
      await w.breaker.poke(ETH_USD); // window high and low = 3,000
      return w;
    }

    it("price move: a fall of exactly band 1 does not trip, one feed step more does", async () => {
      const w = await loadFixture(pokeWorld);
      await w.ethFeed.setAnswer(e8(2_790)); // −7.000%
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      await w.ethFeed.setAnswer(e8(2_790) - 1n);
      await expect(w.breaker.poke(ETH_USD))
        .to.emit(w.breaker, "LevelChanged")
        .withArgs(ETH_USD, 0, 1, T.PriceMove, ((e8(210) + 1n) * WAD) / e8(3_000), wad(0.07));
      expect(await w.vault.breakerLevel(ETH_USD)).to.equal(1);
    });

    it("price move: bands 2 and 3 at their boundaries", async () => {
      const w = await loadFixture(pokeWorld);
      await w.ethFeed.setAnswer(e8(2_610)); // −13%
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(1);
      await w.ethFeed.setAnswer(e8(2_610) - 1n);
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(2);
      await w.ethFeed.setAnswer(e8(2_400)); // −20%
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(2);
      await w.ethFeed.setAnswer(e8(2_400) - 1n);
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(3);
    });

    it("price move: a rise (short squeeze) trips the same bands from the window's low", async () => {
      const w = await loadFixture(pokeWorld);
      await w.ethFeed.setAnswer(e8(3_210)); // +7%
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      await w.ethFeed.setAnswer(e8(3_210) + 1n);
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(1);
    });

    it("price move: the window forgets a high older than windowSec", async () => {
      const w = await loadFixture(pokeWorld);
      await time.increase(3_601);
      await w.ethFeed.setAnswer(e8(2_500)); // −16.7% from a high an hour old: the window restarts here
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      expect((await w.breaker.priceWindow(ETH_USD)).highWad).to.equal(2_500n * WAD);
    });

    it("oracle guard: an answer exactly oracleMaxAgeSec old passes, one second older trips level 2", async () => {
      const w = await loadFixture(pokeWorld);
      const maxAge = (await w.breaker.params()).oracleMaxAgeSec;
      const base = BigInt(await time.latest());
      await w.ethFeed.setRoundData(e8(3_000), base);
      await time.setNextBlockTimestamp(base + maxAge);
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      await time.setNextBlockTimestamp(base + maxAge + 1n);
      await expect(w.breaker.poke(ETH_USD))
        .to.emit(w.breaker, "LevelChanged")
        .withArgs(ETH_USD, 0, 2, T.OracleGuard, maxAge + 1n, maxAge);
    });

    it("oracle guard: a non-positive answer trips level 2", async () => {
      const w = await loadFixture(pokeWorld);
      await w.breaker.poke(ETH_USD); // a positive answer
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      await w.ethFeed.setAnswer(0n);
      await expect(w.breaker.poke(ETH_USD))
        .to.emit(w.breaker, "LevelChanged")
        .withArgs(ETH_USD, 0, 2, T.OracleGuard, 0, 0);
    });

    it("oracle guard: primary and secondary apart by exactly the limit pass, one feed step more trips", async () => {
      const w = await loadFixture(pokeWorld);
      const secondary = await (await ethers.getContractFactory("MockAggregator")).deploy(8, "ETH 2", e8(2_910));
      await w.oracle
        .connect(w.admin)
        .setFeed(
          await w.weth.getAddress(),
          await w.ethFeed.getAddress(),
          3600,
          await secondary.getAddress(),
          3600,
          500,
        );
      await w.breaker.poke(ETH_USD); // |3000 − 2910| / 3000 = 3% exactly
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      await secondary.setAnswer(e8(2_910) - 1n);
      await expect(w.breaker.poke(ETH_USD))
        .to.emit(w.breaker, "LevelChanged")
        .withArgs(ETH_USD, 0, 2, T.OracleGuard, ((e8(90) + 1n) * WAD) / e8(3_000), wad(0.03));
    });

    it("insurance drawdown: exactly the limit within the window passes, one unit more trips global level 1 (caution)", async () => {
      const w = await loadFixture(pokeWorld);
      await w.usdc.mint(w.admin.address, usdc(1_000_000));
      await w.usdc.connect(w.admin).approve(await w.vault.getAddress(), ethers.MaxUint256);
      await w.vault.connect(w.admin).fundInsurance(usdc(1_000_000));
      const peak = await w.vault.insuranceBalance();
      await w.breaker.poke(ETH_USD); // records the peak
      const quarter = peak / 4n / 10n ** 12n; // 25% in USDC units
      await w.insurance.connect(w.admin).withdrawSurplus(quarter, w.admin.address);
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(GLOBAL)).to.equal(0);
      await w.insurance.connect(w.admin).withdrawSurplus(1n, w.admin.address);
      await expect(w.breaker.poke(ETH_USD)).to.emit(w.breaker, "LevelChanged");
      // Caution, not a pause: a paused kick lets underwater accounts sink further (docs/results.md).
      expect(await w.breaker.level(GLOBAL)).to.equal(1);
      const [ev] = await w.breaker.queryFilter(w.breaker.filters.LevelChanged(GLOBAL));
      expect(ev.args.trigger).to.equal(T.InsuranceDrawdown);
      expect(ev.args.toLevel).to.equal(1);
      expect(ev.args.value).to.equal(((peak / 4n + 10n ** 12n) * WAD) / peak);
    });

    it("auction health: a take deeper than reportDiscountBps trips the market, one at or under it does not", async () => {
      const s = await loadFixture(scene);
      const { w } = s;
      // Live auction kicked at t0; stairstep 0.998 per 12 s. Take at step 30: discount 1 − 0.998^30.
      const a = await w.auction.auctionStatus(s.liveId);
      const start = a[2].startTime;
      const discount = WAD - rpow(wad(0.998), 30n);
      const bpsBelow = discount / 10n ** 14n; // floor: discount > threshold → trips
      for (const [bps, trips] of [
        [bpsBelow + 1n, false],
        [bpsBelow, true],
      ] as const) {
        const snap = await takeSnapshot();
        await w.auction.connect(w.admin).setBreakerConfig({
          breaker: await w.breaker.getAddress(),
          cautionCapacityBps: 5_000,
          reportDiscountBps: bps,
          reportMinNotionalWad: 0n,
        });
        await time.setNextBlockTimestamp(start + 30n * 12n);
        await w.auction.connect(s.bidder).take(s.liveId, WAD, ethers.MaxUint256, s.bidder.address, "0x");
        expect(await w.breaker.level(ETH_USD)).to.equal(trips ? 2 : 0);
        if (trips) {
          const [ev] = await w.breaker.queryFilter(w.breaker.filters.LevelChanged(ETH_USD));
          expect(ev.args.trigger).to.equal(T.AuctionHealth);
          expect(ev.args.value).to.equal(discount);
        }
        await snap.restore();
      }
    });

    it("auction health: a lot reaching the floor unbid (backstop) trips the market", async () => {
      const s = await loadFixture(scene);
      const { w } = s;
      // Exhaust the stale auction's resets: redo twice, each after tail.
      for (let i = 0; i < 2; i++) {
        await w.auction.connect(s.bidder).redo(s.staleId);
        await time.increase(1_801);
        await w.ethFeed.setAnswer(e8(CRASH));
      }
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
      await expect(w.auction.connect(s.bidder).redo(s.staleId)).to.emit(w.auction, "Backstop");
      expect(await w.breaker.level(ETH_USD)).to.equal(2);
    });

    it("insurance drawdown: a fund whose peak is below insuranceMinPeakWad never trips", async () => {
      const w = await loadFixture(pokeWorld);
      await w.usdc.mint(w.admin.address, usdc(99_999));
      await w.usdc.connect(w.admin).approve(await w.vault.getAddress(), ethers.MaxUint256);
      await w.vault.connect(w.admin).fundInsurance(usdc(99_999));
      await w.breaker.poke(ETH_USD);
      await w.insurance.connect(w.admin).withdrawSurplus(usdc(90_000), w.admin.address); // −90%
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(GLOBAL)).to.equal(0);
    });

    it("only the auction house may report auction health", async () => {
      const w = await loadFixture(pokeWorld);
      await expect(
        w.breaker.connect(w.traders[0]).reportAuctionHealth(ETH_USD, wad(0.5), 0n, true),
      ).to.be.revertedWithCustomError(w.breaker, "AccessControlUnauthorizedAccount");
    });
  });

  describe("recovery", () => {
    it("steps down one level per cooldown, and poke records each step with a Recovery event", async () => {
      const w = await loadFixture(deployAuctionWorld);
      await w.breaker.connect(w.admin).trip(ETH_USD, 3);
      const p = await w.breaker.params();
      const stepAt = ((await w.breaker.stateOf(ETH_USD)) >> 8n) & 0xffffffffn;
      expect(stepAt).to.equal(BigInt(await time.latest()) + p.cooldownSec);
      for (const expected of [2, 1, 0]) {
        const at = stepAt + BigInt(2 - expected) * p.cooldownSec;
        await time.setNextBlockTimestamp(at - 1n);
        await w.breaker.poke(ETH_USD);
        expect(await w.breaker.level(ETH_USD)).to.equal(expected + 1);
        await time.setNextBlockTimestamp(at);
        await expect(w.breaker.poke(ETH_USD))
          .to.emit(w.breaker, "LevelChanged")
          .withArgs(ETH_USD, expected + 1, expected, T.Recovery, 0, 0);
        expect(await w.vault.breakerLevel(ETH_USD)).to.equal(expected);
      }
    });

    it("the vault applies recovery with no transaction at all", async () => {
      const w = await loadFixture(deployAuctionWorld);
      await w.breaker.connect(w.admin).trip(ETH_USD, 2);
      const p = await w.breaker.params();
      await time.increase(p.cooldownSec);
      expect(await w.vault.breakerLevel(ETH_USD)).to.equal(1);
      await time.increase(p.cooldownSec);
      expect(await w.vault.breakerLevel(ETH_USD)).to.equal(0);
    });

    it("hysteresis: a move still beyond band × (1 − hysteresis) holds the level, but never past maxPauseSec", async () => {
      const w = await loadFixture(deployAuctionWorld);
      await w.breaker.poke(ETH_USD);
      await w.ethFeed.setAnswer(e8(2_780)); // −7.3%: level 1
      await w.breaker.poke(ETH_USD);
      const p = await w.breaker.params();
      const tripAt = BigInt(await time.latest());
      // 2,840 is −5.3%: inside 7% × (1 − 0.3) = 4.9% of hysteresis. Each poke restarts the cooldown.
      await w.ethFeed.setAnswer(e8(2_840));
      for (let t = tripAt + p.cooldownSec - 10n; t < tripAt + p.maxPauseSec; t += p.cooldownSec - 10n) {
        await time.setNextBlockTimestamp(t);
        await w.ethFeed.setAnswer(e8(2_840));
        await w.breaker.poke(ETH_USD);
        expect(await w.breaker.level(ETH_USD)).to.equal(1);
      }
      await time.setNextBlockTimestamp(tripAt + p.maxPauseSec);
      await w.ethFeed.setAnswer(e8(2_840));
      await w.breaker.poke(ETH_USD);
      expect(await w.breaker.level(ETH_USD)).to.equal(0);
    });
  });

  describe("guardian", () => {
    it("can trip, but only raise a level, and not again before guardianRearmSec", async () => {
      const w = await loadFixture(deployAuctionWorld);
      await expect(w.breaker.connect(w.admin).trip(ETH_USD, 2))
        .to.emit(w.breaker, "LevelChanged")
        .withArgs(ETH_USD, 0, 2, T.Guardian, 0, 0);
      await expect(w.breaker.connect(w.admin).trip(ETH_USD, 3)).to.be.revertedWithCustomError(
        w.breaker,
        "GuardianRearming",
      );
      const p = await w.breaker.params();
      await time.increase(p.guardianRearmSec);
      await w.breaker.connect(w.admin).trip(ETH_USD, 2);
      await expect(w.breaker.connect(w.admin).trip(BTC_USD, 0)).to.be.revertedWithCustomError(
        w.breaker,
        "InvalidLevel",
      );
      await expect(w.breaker.connect(w.admin).trip(BTC_USD, 4)).to.be.revertedWithCustomError(
        w.breaker,
        "InvalidLevel",
      );
    });

    it("cannot lower a level set by a trigger", async () => {
      const w = await loadFixture(deployAuctionWorld);
      await w.breaker.poke(ETH_USD);
      await w.ethFeed.setAnswer(e8(2_300));
      await w.breaker.poke(ETH_USD); // level 3
      await expect(w.breaker.connect(w.admin).trip(ETH_USD, 2))
        .to.be.revertedWithCustomError(w.breaker, "LevelNotRaised")
        .withArgs(ETH_USD, 3, 2);
    });

    it("cannot pause beyond maxPauseSec: a halt ends at the hard end, and deposits and reduce-only trades stay open throughout", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const trader = w.traders[0];
      await openLeveraged(w, trader, ETH_USD, 30_000, 50n * WAD);
      const p = await w.breaker.params();
      await w.breaker.connect(w.admin).trip(GLOBAL, 3);
      const t0 = BigInt(await time.latest());
      await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(1));
      await w.vault.connect(trader).trade(ETH_USD, -WAD, 0n);
      await time.setNextBlockTimestamp(t0 + p.maxPauseSec - 1n);
      await w.breaker.poke(ETH_USD);
      await time.setNextBlockTimestamp(t0 + p.maxPauseSec);
      await w.ethFeed.setAnswer(e8(3_000)); // keep the feed fresh for the trade
      await w.vault.connect(trader).trade(ETH_USD, WAD, ethers.MaxUint256); // risk-increasing: open again
      expect(await w.breaker.level(GLOBAL)).to.equal(0);
      await expect(w.breaker.connect(w.admin).trip(GLOBAL, 3)).to.be.revertedWithCustomError(
        w.breaker,
        "GuardianRearming",
      );
    });

    it("any other address cannot trip", async () => {
      const w = await loadFixture(deployAuctionWorld);
      await expect(w.breaker.connect(w.traders[0]).trip(ETH_USD, 1)).to.be.revertedWithCustomError(
        w.breaker,
        "AccessControlUnauthorizedAccount",
      );
    });

    it("parameters are bounded (the guardian's rearm must be at least twice the maximum pause)", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const p = paramsOf(await w.breaker.params());
      await expect(w.breaker.connect(w.admin).setParams({ ...p, guardianRearmSec: 2n * p.maxPauseSec - 1n }))
        .to.be.revertedWithCustomError(w.breaker, "ParamOutOfBounds")
        .withArgs(
          ethers.encodeBytes32String("guardianRearmSec"),
          2n * p.maxPauseSec - 1n,
          2n * p.maxPauseSec,
          30n * 86_400n,
        );
      await expect(w.breaker.connect(w.admin).setParams({ ...p, band2Wad: p.band1Wad })).to.be.revertedWithCustomError(
        w.breaker,
        "ParamOutOfBounds",
      );
      await expect(
        w.breaker.connect(w.admin).setParams({ ...p, cautionImWad: WAD - 1n }),
      ).to.be.revertedWithCustomError(w.breaker, "ParamOutOfBounds");
      await expect(w.breaker.connect(w.admin).setParams({ ...p, cooldownSec: 30n })).to.be.revertedWithCustomError(
        w.breaker,
        "ParamOutOfBounds",
      );
      await expect(w.breaker.connect(w.admin).setParams({ ...p, cautionImWad: 2n * WAD }))
        .to.emit(w.breaker, "ParamsSet")
        .and.to.emit(w.vault, "BreakerStateSet");
      await expect(w.breaker.connect(w.traders[0]).setParams(p)).to.be.revertedWithCustomError(
        w.breaker,
        "AccessControlUnauthorizedAccount",
      );
    });

    it("the constructor rejects zero addresses", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const f = await ethers.getContractFactory("CircuitBreaker");
      const p = paramsOf(await w.breaker.params());
      await expect(f.deploy(ethers.ZeroAddress, await w.vault.getAddress(), p)).to.be.revertedWithCustomError(
        w.breaker,
        "ZeroAddress",
      );
      await expect(f.deploy(w.admin.address, ethers.ZeroAddress, p)).to.be.revertedWithCustomError(
        w.breaker,
        "ZeroAddress",
      );
    });

    it("the auction house's breaker wiring is bounded, evented and admin-only", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const breaker = await w.breaker.getAddress();
      await expect(
        w.auction
          .connect(w.admin)
          .setBreakerConfig({ breaker, cautionCapacityBps: 0, reportDiscountBps: 0, reportMinNotionalWad: 0n }),
      )
        .to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds")
        .withArgs(ethers.encodeBytes32String("cautionCapacityBps"), 0, 1, 10_000);
      await expect(
        w.auction
          .connect(w.admin)
          .setBreakerConfig({ breaker, cautionCapacityBps: 1, reportDiscountBps: 10_001, reportMinNotionalWad: 0n }),
      ).to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds");
      const tooBig = (await w.auction.MAX_REPORT_MIN_NOTIONAL()) + 1n;
      await expect(
        w.auction
          .connect(w.admin)
          .setBreakerConfig({ breaker, cautionCapacityBps: 1, reportDiscountBps: 0, reportMinNotionalWad: tooBig }),
      )
        .to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds")
        .withArgs(ethers.encodeBytes32String("reportMinNotional"), tooBig, 0, tooBig - 1n);
      await expect(
        w.auction
          .connect(w.admin)
          .setBreakerConfig({ breaker, cautionCapacityBps: 2_500, reportDiscountBps: 0, reportMinNotionalWad: 0n }),
      ).to.emit(w.auction, "BreakerConfigSet");
      expect((await w.auction.breakerConfig()).cautionCapacityBps).to.equal(2_500);
      await expect(
        w.auction
          .connect(w.admin)
          .setBreakerConfig({ breaker, cautionCapacityBps: 2_500, reportDiscountBps: 0, reportMinNotionalWad: 0n }),
      ).to.be.revertedWithCustomError(w.auction, "NoChange");
      await expect(
        w.auction
          .connect(w.traders[0])
          .setBreakerConfig({ breaker, cautionCapacityBps: 1, reportDiscountBps: 0, reportMinNotionalWad: 0n }),
      ).to.be.revertedWithCustomError(w.auction, "AccessControlUnauthorizedAccount");
    });

    it("markets: unknown ones are rejected, a market is added once", async () => {
      const w = await loadFixture(deployAuctionWorld);
      const bogus = ethers.encodeBytes32String("DOGE-USD");
      await expect(w.breaker.poke(bogus)).to.be.revertedWithCustomError(w.breaker, "UnknownMarket").withArgs(bogus);
      await expect(w.breaker.connect(w.admin).trip(bogus, 1)).to.be.revertedWithCustomError(w.breaker, "UnknownMarket");
      await expect(w.breaker.connect(w.admin).addMarket(ETH_USD))
        .to.be.revertedWithCustomError(w.breaker, "MarketAlreadyAdded")
        .withArgs(ETH_USD);
      await expect(w.breaker.connect(w.admin).addMarket(GLOBAL)).to.be.revertedWithCustomError(
        w.breaker,
        "UnknownMarket",
      );
      await expect(w.breaker.connect(w.admin).addMarket(bogus)).to.be.revertedWithCustomError(w.vault, "UnknownMarket");
      expect(await w.breaker.markets()).to.deep.equal([ETH_USD, BTC_USD]);
      await expect(w.vault.connect(w.admin).setBreakerState(ETH_USD, 3n)).to.be.revertedWithCustomError(
        w.vault,
        "AccessControlUnauthorizedAccount",
      );
    });
  });
});

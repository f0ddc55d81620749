import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { e8, ETH_USD, wad, WAD } from "../shared/local-world";
import { ONE_DAY as DAY, divCeil, type TradeOutcome } from "../shared/reference";
import {
  blockTime,
  type Ctx,
  listTinyMarket,
  depositUsd,
  setPrice,
  setupModel,
  tradeBoth,
} from "../shared/vault-harness";

const SKEW_SCALE = 1_000_000n * WAD;
const MAX_VELOCITY = 3n * WAD;

/** Trades ETH on chain and in the model, checking the `Traded` event; returns the model's outcome and the block time. */
async function trade(ctx: Ctx, t: HardhatEthersSigner, delta: bigint): Promise<{ out: TradeOutcome; ts: bigint }> {
  return tradeBoth(ctx, t, ETH_USD, delta);
}

/** Lets time pass and refreshes the ETH feed (heartbeat 1 h); returns the new block time. */
async function elapse(ctx: Ctx, seconds: number, ethPrice = 3000): Promise<bigint> {
  await time.increase(seconds);
  await setPrice(ctx, "ETH", ethPrice);
  return BigInt(await time.latest());
}

/** Velocity per day for a skew, written out: clamp(skew/skewScale, ±1) × maxVelocity (truncating like Solidity). */
function velocityOf(skew: bigint): bigint {
  let p = (skew * WAD) / SKEW_SCALE;
  if (p > WAD) p = WAD;
  if (p < -WAD) p = -WAD;
  return (p * MAX_VELOCITY) / WAD;
}

async function expectFundingState(ctx: Ctx): Promise<void> {
  const st = await ctx.w.vault.marketState(ETH_USD);
  const e = ctx.m.states.get(ETH_USD)!;
  expect(st.fundingRateWad, "stored rate").to.equal(e.rate);
  expect(st.fundingIndexWad, "stored index").to.equal(e.index);
  expect(st.lastFundingTime, "last funding time").to.equal(e.lastTime);
}

describe("PerpVault — funding", () => {
  describe("long-heavy skew", () => {
    async function longHeavy(): Promise<Ctx & { a: HardhatEthersSigner; b: HardhatEthersSigner; tB: bigint }> {
      const ctx = await setupModel();
      const [a, b] = ctx.w.traders;
      await depositUsd(ctx, a, 300_000);
      await depositUsd(ctx, b, 100_000);
      const { ts: tA } = await trade(ctx, a, wad(1000));
      const { ts: tB } = await trade(ctx, b, -wad(200));
      // Between the two trades the skew was +1000: the rate drifted at 0.003/day.
      expect(velocityOf(wad(1000))).to.equal(wad(0.003));
      expect(ctx.m.states.get(ETH_USD)!.rate).to.equal((wad(0.003) * (tB - tA)) / DAY);
      await expectFundingState(ctx);
      return { ...ctx, a, b, tB };
    }

    it("drifts the rate up at maxVelocity × skew/skewScale per day and matches currentFunding", async () => {
      const ctx = await longHeavy();
      const { w, m, tB } = ctx;
      const st0 = m.states.get(ETH_USD)!;
      const v = velocityOf(wad(800)); // 0.0024/day
      expect(v).to.equal(wad(0.0024));

      const t1 = await elapse(ctx, 3 * 3600);
      const [rate1, index1] = await w.vault.currentFunding(ETH_USD);
      const rateAt = (t: bigint): bigint => st0.rate + (v * (t - tB)) / DAY;
      const indexAt = (t: bigint): bigint =>
        st0.index + (((st0.rate + rateAt(t)) / 2n) * wad(3000) * (t - tB)) / (WAD * DAY);
      expect(rate1).to.equal(rateAt(t1));
      expect(index1).to.equal(indexAt(t1));
      const model1 = m.fundingAt(ETH_USD, t1);
      expect([rate1, index1]).to.deep.equal([model1.rate, model1.index]);
      expect(rate1).to.be.greaterThan(st0.rate);
      expect(index1).to.be.greaterThan(st0.index);

      const t2 = await elapse(ctx, 6 * 3600);
      const [rate2, index2] = await w.vault.currentFunding(ETH_USD);
      expect(rate2).to.equal(rateAt(t2));
      expect(index2).to.equal(indexAt(t2));
      // The rate keeps drifting at the same velocity: 0.0024/day × (t2 − t1), ≈ 0.0006 over ~6 hours
      // (±1 wei from the truncations of the two readings).
      expect(rate2 - rate1).to.be.closeTo((v * (t2 - t1)) / DAY, 1n);
      expect(rate2 - rate1).to.be.closeTo(wad(0.0006), 10n ** 11n);
      // Views do not store anything.
      await expectFundingState(ctx);
    });

    it("accrues positive funding (owed) on the long and negative (receivable) on the short", async () => {
      const ctx = await longHeavy();
      const { w, m, a, b } = ctx;
      const t1 = await elapse(ctx, 12 * 3600);
      const ha = await w.vault.accountHealth(a.address);
      const hb = await w.vault.accountHealth(b.address);
      const ea = m.health(a.address, t1);
      const eb = m.health(b.address, t1);
      expect(ha.accruedFundingWad).to.equal(ea.accruedFunding);
      expect(hb.accruedFundingWad).to.equal(eb.accruedFunding);
      expect(ha.accruedFundingWad).to.be.greaterThan(0n);
      expect(hb.accruedFundingWad).to.be.lessThan(0n);
      // Explicitly: size × (index now − index at entry), rounded up (against both traders).
      const [, index1] = await w.vault.currentFunding(ETH_USD);
      const pa = await w.vault.getPosition(a.address, ETH_USD);
      const pb = await w.vault.getPosition(b.address, ETH_USD);
      expect(ha.accruedFundingWad).to.equal(divCeil(wad(1000) * (index1 - pa.lastFundingIndexWad), WAD));
      expect(hb.accruedFundingWad).to.equal(divCeil(-wad(200) * (index1 - pb.lastFundingIndexWad), WAD));
      // About 1000 × avg rate (~0.0012) × $3000 × ½ day.
      expect(ha.accruedFundingWad).to.be.closeTo(wad(1000 * 3000 * 0.0006 * 0.5), wad(60));
      // Funding lowers the long's equity.
      expect(ha.equityWad).to.equal(ea.equity);
      expect(ha.equityWad).to.equal(
        (await w.vault.quoteBalance(a.address)) + ha.unrealizedPnlWad - ha.accruedFundingWad,
      );
    });

    it("settles the long's funding on its next trade: quote balance → pool, exactly", async () => {
      const ctx = await longHeavy();
      const { w, m, a } = ctx;
      await elapse(ctx, 86_400);
      const quoteBefore = await w.vault.quoteBalance(a.address);
      const poolBefore = await w.vault.poolBalance();
      const insBefore = await w.vault.insuranceBalance();
      const lastIndex = (await w.vault.getPosition(a.address, ETH_USD)).lastFundingIndexWad;

      const { out, ts } = await trade(ctx, a, -wad(100));
      const indexNow = m.states.get(ETH_USD)!.index;
      expect(out.fundingPaid).to.equal(divCeil(wad(1000) * (indexNow - lastIndex), WAD));
      expect(out.fundingPaid).to.be.greaterThan(wad(1000)); // ≈ 1000 × 3000 × ~0.0015/day
      await expectFundingState(ctx);
      expect(m.states.get(ETH_USD)!.lastTime).to.equal(ts);

      const quoteDelta = (await w.vault.quoteBalance(a.address)) - quoteBefore;
      const poolDelta = (await w.vault.poolBalance()) - poolBefore;
      const insDelta = (await w.vault.insuranceBalance()) - insBefore;
      expect(quoteDelta).to.equal(out.realizedPnl - out.fundingPaid - out.fee);
      expect(poolDelta).to.equal(-out.realizedPnl + out.fundingPaid + out.fee - out.insuranceFee);
      expect(insDelta).to.equal(out.insuranceFee);
      // Nothing created or lost.
      expect(quoteDelta + poolDelta + insDelta).to.equal(0n);

      // The position's funding checkpoint moved to the current index: nothing accrued any more.
      const pos = await w.vault.getPosition(a.address, ETH_USD);
      expect(pos.lastFundingIndexWad).to.equal(indexNow);
      expect((await w.vault.accountHealth(a.address)).accruedFundingWad).to.equal(0n);
    });

    it("settles the short's funding on its next trade: pool → quote balance, exactly", async () => {
      const ctx = await longHeavy();
      const { w, m, b } = ctx;
      await elapse(ctx, 86_400);
      const quoteBefore = await w.vault.quoteBalance(b.address);
      const poolBefore = await w.vault.poolBalance();
      const lastIndex = (await w.vault.getPosition(b.address, ETH_USD)).lastFundingIndexWad;

      const { out } = await trade(ctx, b, -wad(50));
      const indexNow = m.states.get(ETH_USD)!.index;
      expect(out.fundingPaid).to.equal(divCeil(-wad(200) * (indexNow - lastIndex), WAD));
      expect(out.fundingPaid).to.be.lessThan(-wad(100));
      expect((await w.vault.quoteBalance(b.address)) - quoteBefore).to.equal(-out.fundingPaid - out.fee);
      expect((await w.vault.poolBalance()) - poolBefore).to.equal(out.fundingPaid + out.fee - out.insuranceFee);
      await expectFundingState(ctx);
      expect((await w.vault.getPosition(b.address, ETH_USD)).lastFundingIndexWad).to.equal(indexNow);
    });

    it("accrues the index at the oracle price at accrual time", async () => {
      const ctx = await longHeavy();
      const { w, m, tB } = ctx;
      const st0 = m.states.get(ETH_USD)!;
      const t1 = await elapse(ctx, 4 * 3600, 3600);
      const [rate1, index1] = await w.vault.currentFunding(ETH_USD);
      const rate = st0.rate + (velocityOf(wad(800)) * (t1 - tB)) / DAY;
      expect(rate1).to.equal(rate);
      expect(index1).to.equal(st0.index + (((st0.rate + rate) / 2n) * wad(3600) * (t1 - tB)) / (WAD * DAY));
      expect(index1).to.equal(m.fundingAt(ETH_USD, t1).index);
    });
  });

  describe("short-heavy skew", () => {
    async function shortHeavy(): Promise<Ctx & { a: HardhatEthersSigner; b: HardhatEthersSigner; tB: bigint }> {
      const ctx = await setupModel();
      const [a, b] = ctx.w.traders;
      await depositUsd(ctx, a, 300_000);
      await depositUsd(ctx, b, 100_000);
      const { ts: tA } = await trade(ctx, a, -wad(1000));
      const { ts: tB } = await trade(ctx, b, wad(200));
      expect(ctx.m.states.get(ETH_USD)!.rate).to.equal((-wad(0.003) * (tB - tA)) / DAY);
      expect(ctx.m.states.get(ETH_USD)!.rate).to.be.lessThan(0n);
      await expectFundingState(ctx);
      return { ...ctx, a, b, tB };
    }

    it("drifts the rate down and the index down, matching currentFunding", async () => {
      const ctx = await shortHeavy();
      const { w, m, tB } = ctx;
      const st0 = m.states.get(ETH_USD)!;
      const v = velocityOf(-wad(800));
      expect(v).to.equal(-wad(0.0024));
      const t1 = await elapse(ctx, 5 * 3600);
      const [rate1, index1] = await w.vault.currentFunding(ETH_USD);
      const rate = st0.rate + (v * (t1 - tB)) / DAY;
      expect(rate1).to.equal(rate);
      expect(index1).to.equal(st0.index + (((st0.rate + rate) / 2n) * wad(3000) * (t1 - tB)) / (WAD * DAY));
      expect(rate1).to.be.lessThan(st0.rate);
      expect(index1).to.be.lessThan(st0.index);
      const t2 = await elapse(ctx, 5 * 3600);
      const [rate2] = await w.vault.currentFunding(ETH_USD);
      expect(rate2).to.equal(m.fundingAt(ETH_USD, t2).rate);
      expect(rate2).to.be.lessThan(rate1);
    });

    it("accrues positive funding (owed) on the short and negative on the long", async () => {
      const ctx = await shortHeavy();
      const { w, m, a, b } = ctx;
      const t1 = await elapse(ctx, 12 * 3600);
      const ha = await w.vault.accountHealth(a.address);
      const hb = await w.vault.accountHealth(b.address);
      expect(ha.accruedFundingWad).to.equal(m.health(a.address, t1).accruedFunding);
      expect(hb.accruedFundingWad).to.equal(m.health(b.address, t1).accruedFunding);
      expect(ha.accruedFundingWad).to.be.greaterThan(0n);
      expect(hb.accruedFundingWad).to.be.lessThan(0n);
    });

    it("settles: the short pays the pool, the long receives from it, exactly", async () => {
      const ctx = await shortHeavy();
      const { w, a, b } = ctx;
      await elapse(ctx, 86_400);

      let quoteBefore = await w.vault.quoteBalance(a.address);
      let poolBefore = await w.vault.poolBalance();
      const short = (await trade(ctx, a, wad(100))).out; // the short reduces
      expect(short.fundingPaid).to.be.greaterThan(wad(1000));
      expect((await w.vault.quoteBalance(a.address)) - quoteBefore).to.equal(
        short.realizedPnl - short.fundingPaid - short.fee,
      );
      expect((await w.vault.poolBalance()) - poolBefore).to.equal(
        -short.realizedPnl + short.fundingPaid + short.fee - short.insuranceFee,
      );

      quoteBefore = await w.vault.quoteBalance(b.address);
      poolBefore = await w.vault.poolBalance();
      const long = (await trade(ctx, b, wad(10))).out; // the long adds
      expect(long.fundingPaid).to.be.lessThan(-wad(100));
      expect((await w.vault.quoteBalance(b.address)) - quoteBefore).to.equal(-long.fundingPaid - long.fee);
      expect((await w.vault.poolBalance()) - poolBefore).to.equal(long.fundingPaid + long.fee - long.insuranceFee);
      await expectFundingState(ctx);
    });
  });

  describe("bounds", () => {
    it("keeps the rate at zero with no skew and clamps it at +100%/day under an extreme skew", async () => {
      const ctx = await setupModel();
      const { w } = ctx;
      const [t] = w.traders;
      // No positions: nothing accrues however long.
      await elapse(ctx, 2 * 86_400);
      expect(await w.vault.currentFunding(ETH_USD)).to.deep.equal([0n, 0n]);

      // A market with skewScale 1: a skew of 2 saturates the velocity at 3/day.
      const id = await listTinyMarket(w);
      await depositUsd(ctx, t, 100_000);
      const tx = await w.vault.connect(t).trade(id, 2n * WAD, ethers.MaxUint256);
      const t0 = await blockTime(tx);
      // After 8 hours: 3/day × 1/3 day = 1 = the clamp; index = average(0, 1) × $3000 × 1/3 day.
      await time.setNextBlockTimestamp(t0 + 8n * 3600n);
      await w.ethFeed.setAnswer(e8(3000));
      expect(await w.vault.currentFunding(id)).to.deep.equal([WAD, wad(500)]);
      // After a full day the unclamped rate would be 3: it stays at 1.
      await time.setNextBlockTimestamp(t0 + DAY);
      await w.ethFeed.setAnswer(e8(3000));
      const [rate, index] = await w.vault.currentFunding(id);
      expect(rate).to.equal(WAD);
      // Accrued from t0 in one step: average(0, 1) × $3000 × 1 day = $1500 per unit.
      expect(index).to.equal(wad(1500));
    });
  });
});

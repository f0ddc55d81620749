import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { anyPrice, BTC_USD, ETH_USD, wad, WAD } from "../shared/local-world";
import { averageEntry, divCeil, divFloor, fillPrice, mulWadFloor, type TradeOutcome } from "../shared/reference";
import {
  type Ctx,
  depositUsd,
  expectHealth,
  listTinyMarket,
  setPrice,
  setupModel,
  tradeBoth,
  withTrader,
} from "../shared/vault-harness";

/**
 * Trades on chain and in the model; checks the `fillPrice` view before the trade and every field
 * of the `Traded` event against the model.
 */
async function trade(
  ctx: Ctx,
  t: HardhatEthersSigner,
  market: string,
  delta: bigint,
  acceptable: bigint = anyPrice(delta),
): Promise<TradeOutcome> {
  const expectedFill = ctx.m.fillPrice(market, delta);
  expect(await ctx.w.vault.fillPrice(market, delta)).to.equal(expectedFill);
  const { out } = await tradeBoth(ctx, t, market, delta, acceptable);
  expect(out.fill).to.equal(expectedFill);
  return out;
}

/** Position, quote balance, open markets and OI against the model. */
async function expectAccount(ctx: Ctx, t: HardhatEthersSigner): Promise<void> {
  const { w, m } = ctx;
  for (const id of [ETH_USD, BTC_USD]) {
    const p = await w.vault.getPosition(t.address, id);
    const e = m.position(t.address, id);
    expect(p.sizeWad, "size").to.equal(e.size);
    expect(p.entryPriceWad, "entry").to.equal(e.entry);
    expect(p.lastFundingIndexWad, "funding index").to.equal(e.lastFundingIndex);
    const st = await w.vault.marketState(id);
    const es = m.states.get(id)!;
    expect(st.oiLongWad, "oi long").to.equal(es.oiLong);
    expect(st.oiShortWad, "oi short").to.equal(es.oiShort);
  }
  expect(await w.vault.quoteBalance(t.address), "quote").to.equal(m.quoteOf(t.address));
  expect([...(await w.vault.accountMarkets(t.address))].sort()).to.deep.equal(m.openMarkets(t.address).sort());
}

describe("PerpVault — trading", () => {
  describe("opening", () => {
    it("opens a long at the skew-adjusted fill price, charges the fee and records OI", async () => {
      const { ctx, w, m, t } = await withTrader(10_000);
      const delta = wad(2.5);
      // Skew 0: 3000 × (1 + 1.25 / 1e6) = 3000.00375 exactly.
      expect(await w.vault.fillPrice(ETH_USD, delta)).to.equal(wad(3000.00375));
      const out = await trade(ctx, t, ETH_USD, delta);
      expect(out.fill).to.equal(wad(3000.00375));
      expect(out.newEntry).to.equal(out.fill);
      // Taker fee 6 bps on 2.5 × 3000.00375 = 7500.009375 → 4.500005625.
      expect(out.fee).to.equal(4_500_005_625n * 10n ** 9n);
      expect(await w.vault.quoteBalance(t.address)).to.equal(wad(10_000) - out.fee);
      await expectAccount(ctx, t);
      expect(await w.vault.accountMarkets(t.address)).to.deep.equal([ETH_USD]);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(delta);
      expect(st.oiShortWad).to.equal(0n);
      expect(m.position(t.address, ETH_USD).size).to.equal(delta);
    });

    it("opens a short at a fill below the oracle price", async () => {
      const { ctx, w, t } = await withTrader(10_000);
      const delta = -wad(2.5);
      const out = await trade(ctx, t, ETH_USD, delta);
      expect(out.fill).to.equal(wad(2999.99625));
      expect(out.newSize).to.equal(delta);
      expect(out.newEntry).to.equal(out.fill);
      expect((await w.vault.getPosition(t.address, ETH_USD)).entryPriceWad).to.equal(wad(2999.99625));
      await expectAccount(ctx, t);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(0n);
      expect(st.oiShortWad).to.equal(wad(2.5));
    });

    it("tracks both sides of OI across traders and prices each trade on the current skew", async () => {
      const ctx = await setupModel();
      const { w, m } = ctx;
      const [a, b, c] = w.traders;
      for (const t of [a, b, c]) await depositUsd(ctx, t, 50_000);
      await trade(ctx, a, ETH_USD, wad(30));
      await trade(ctx, b, ETH_USD, -wad(12.5));
      const out = await trade(ctx, c, ETH_USD, wad(7.25));
      expect(out.skewBefore).to.equal(wad(17.5));
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(wad(37.25));
      expect(st.oiShortWad).to.equal(wad(12.5));
      for (const t of [a, b, c]) await expectAccount(ctx, t);
      expect(m.skew(ETH_USD)).to.equal(wad(24.75));
    });
  });

  describe("fill price", () => {
    it("matches oracle × (1 + (skew + Δ/2)/skewScale), rounded up for buys and down for sells", async () => {
      const ctx = await setupModel();
      const { w } = ctx;
      const [a, b] = w.traders;
      await depositUsd(ctx, a, 100_000);
      await depositUsd(ctx, b, 100_000);
      await setPrice(ctx, "ETH", 3123.45678901);
      await trade(ctx, a, ETH_USD, wad(123.456789)); // long skew
      const oracle = 312_345_678_901n * 10n ** 10n;
      const skew = wad(123.456789);
      const scale = 1_000_000n * WAD;
      for (const delta of [1n, 1_234_567_890_123_456_789n, -1n, -987_654_321_987_654_321n, -wad(300)]) {
        const num = oracle * (2n * skew + delta);
        // Direct transcription of the documented formula with explicit rounding.
        const expected = oracle + (delta > 0n ? divCeil(num, 2n * scale) : divFloor(num, 2n * scale));
        expect(fillPrice(oracle, skew, delta, scale)).to.equal(expected);
        expect(await w.vault.fillPrice(ETH_USD, delta)).to.equal(expected);
        // Characterise the rounding without division: a buy's premium is the smallest integer
        // ≥ num/den, a sell's the largest integer ≤ num/den.
        const premium = expected - oracle;
        const den = 2n * scale;
        if (delta > 0n) {
          expect(premium * den >= num && (premium - 1n) * den < num).to.equal(true);
        } else {
          expect(premium * den <= num && (premium + 1n) * den > num).to.equal(true);
        }
      }
      // The executed price is the quoted one.
      const out = await trade(ctx, b, ETH_USD, -987_654_321_987_654_321n);
      expect((await w.vault.getPosition(b.address, ETH_USD)).entryPriceWad).to.equal(out.fill);
    });

    it("reverts SlippageExceeded for a buy whose fill is above the acceptable price", async () => {
      const { ctx, w, t } = await withTrader(10_000);
      const delta = wad(1.5);
      const fill = ctx.m.fillPrice(ETH_USD, delta);
      await expect(w.vault.connect(t).trade(ETH_USD, delta, fill - 1n))
        .to.be.revertedWithCustomError(w.vault, "SlippageExceeded")
        .withArgs(fill, fill - 1n);
      // Exactly at the bound it executes.
      const out = await trade(ctx, t, ETH_USD, delta, fill);
      expect(out.fill).to.equal(fill);
    });

    it("reverts SlippageExceeded for a sell whose fill is below the acceptable price", async () => {
      const { ctx, w, t } = await withTrader(10_000);
      const delta = -wad(1.5);
      const fill = ctx.m.fillPrice(ETH_USD, delta);
      await expect(w.vault.connect(t).trade(ETH_USD, delta, fill + 1n))
        .to.be.revertedWithCustomError(w.vault, "SlippageExceeded")
        .withArgs(fill, fill + 1n);
      const out = await trade(ctx, t, ETH_USD, delta, fill);
      expect(out.fill).to.equal(fill);
    });
  });

  describe("increasing", () => {
    it("averages a long's entry price weighted by size, rounded up", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      const first = await trade(ctx, t, ETH_USD, wad(3));
      await setPrice(ctx, "ETH", 3100);
      const second = await trade(ctx, t, ETH_USD, wad(4));
      const num = wad(3) * first.fill + wad(4) * second.fill;
      expect(num % wad(7)).to.not.equal(0n, "the average must need rounding for this test");
      expect(second.newEntry).to.equal(num / wad(7) + 1n);
      expect(second.newSize).to.equal(wad(7));
      expect(second.realizedPnl).to.equal(0n);
      const pos = await w.vault.getPosition(t.address, ETH_USD);
      expect(pos.sizeWad).to.equal(wad(7));
      expect(pos.entryPriceWad).to.equal(num / wad(7) + 1n);
      await expectAccount(ctx, t);
    });

    it("averages a short's entry price weighted by size, rounded down", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      const first = await trade(ctx, t, ETH_USD, -wad(3));
      await setPrice(ctx, "ETH", 2900);
      const second = await trade(ctx, t, ETH_USD, -wad(4));
      expect(second.fill).to.equal(fillPrice(wad(2900), -wad(3), -wad(4), 1_000_000n * WAD));
      // |num| / 7, rounded down (toward zero for the positive average price).
      const absNum = wad(3) * first.fill + wad(4) * second.fill;
      expect(absNum % wad(7)).to.not.equal(0n, "the average must need rounding for this test");
      const expectedEntry = absNum / wad(7);
      expect(averageEntry(-wad(3), first.fill, -wad(4), second.fill)).to.equal(expectedEntry);
      expect(second.newEntry).to.equal(expectedEntry);
      expect(second.realizedPnl).to.equal(0n);
      const pos = await w.vault.getPosition(t.address, ETH_USD);
      expect(pos.sizeWad).to.equal(-wad(7));
      expect(pos.entryPriceWad, "short entry = floor(size-weighted average)").to.equal(expectedEntry);
    });
  });

  describe("reducing", () => {
    it("realises PnL on the reduced part of a long (rounded down) and keeps the entry price", async () => {
      const { ctx, w, m, t } = await withTrader(50_000);
      const open = await trade(ctx, t, ETH_USD, wad(5));
      await setPrice(ctx, "ETH", 3210.123);
      const quoteBefore = await w.vault.quoteBalance(t.address);
      const delta = -1_333_333_333_333_333_333n;
      const out = await trade(ctx, t, ETH_USD, delta);
      const closed = -delta;
      expect(out.realizedPnl).to.equal(divFloor(closed * (out.fill - open.fill), WAD));
      expect(out.realizedPnl).to.be.greaterThan(wad(270)); // ≈ 1.333 × 210
      expect(out.newEntry).to.equal(open.fill);
      expect(out.newSize).to.equal(wad(5) + delta);
      expect(await w.vault.quoteBalance(t.address)).to.equal(quoteBefore + out.realizedPnl - out.fundingPaid - out.fee);
      await expectAccount(ctx, t);
      expect(m.states.get(ETH_USD)!.oiLong).to.equal(wad(5) + delta);
    });

    it("realises a loss on a long reduced at a lower price, rounded toward −∞", async () => {
      const { ctx, t } = await withTrader(50_000);
      const open = await trade(ctx, t, ETH_USD, wad(5));
      await setPrice(ctx, "ETH", 2950.5);
      const delta = -1_777_777_777_777_777_777n;
      const out = await trade(ctx, t, ETH_USD, delta);
      const product = -delta * (out.fill - open.fill);
      expect(product % WAD).to.not.equal(0n);
      expect(out.realizedPnl).to.equal(product / WAD - 1n);
      expect(out.realizedPnl).to.be.lessThan(0n);
      await expectAccount(ctx, t);
    });

    it("realises PnL on the reduced part of a short and keeps the entry price", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      const open = await trade(ctx, t, ETH_USD, -wad(5));
      await setPrice(ctx, "ETH", 2800);
      const quoteBefore = await w.vault.quoteBalance(t.address);
      const out = await trade(ctx, t, ETH_USD, wad(2));
      // closed = −Δ = −2: PnL = −2 × (fill − entry) > 0 because the price fell.
      expect(out.realizedPnl).to.equal(divFloor(-wad(2) * (out.fill - open.fill), WAD));
      expect(out.realizedPnl).to.be.greaterThan(wad(399));
      expect(out.newSize).to.equal(-wad(3));
      expect(out.newEntry).to.equal(open.fill);
      expect(await w.vault.quoteBalance(t.address)).to.equal(quoteBefore + out.realizedPnl - out.fundingPaid - out.fee);
      await expectAccount(ctx, t);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiShortWad).to.equal(wad(3));
    });
  });

  describe("flipping", () => {
    it("flips a long into a short: PnL on the whole old size, new entry at the fill", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      const open = await trade(ctx, t, ETH_USD, wad(2));
      await setPrice(ctx, "ETH", 3100);
      const quoteBefore = await w.vault.quoteBalance(t.address);
      const out = await trade(ctx, t, ETH_USD, -wad(5));
      expect(out.realizedPnl).to.equal(divFloor(wad(2) * (out.fill - open.fill), WAD));
      expect(out.newSize).to.equal(-wad(3));
      expect(out.newEntry).to.equal(out.fill);
      expect(await w.vault.quoteBalance(t.address)).to.equal(quoteBefore + out.realizedPnl - out.fundingPaid - out.fee);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(0n);
      expect(st.oiShortWad).to.equal(wad(3));
      await expectAccount(ctx, t);
    });

    it("flips a short into a long: PnL on the whole old size, new entry at the fill", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      const open = await trade(ctx, t, ETH_USD, -wad(4));
      await setPrice(ctx, "ETH", 3050);
      const out = await trade(ctx, t, ETH_USD, wad(6.5));
      expect(out.realizedPnl).to.equal(divFloor(-wad(4) * (out.fill - open.fill), WAD));
      expect(out.realizedPnl).to.be.lessThan(0n);
      expect(out.newSize).to.equal(wad(2.5));
      expect(out.newEntry).to.equal(out.fill);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(wad(2.5));
      expect(st.oiShortWad).to.equal(0n);
      await expectAccount(ctx, t);
    });
  });

  describe("closing", () => {
    it("closes a long: position deleted, no open markets, OI back to zero", async () => {
      const { ctx, w, t } = await withTrader(20_000);
      const open = await trade(ctx, t, ETH_USD, wad(4));
      await setPrice(ctx, "ETH", 3333.33);
      const out = await trade(ctx, t, ETH_USD, -wad(4));
      expect(out.newSize).to.equal(0n);
      expect(out.realizedPnl).to.equal(divFloor(wad(4) * (out.fill - open.fill), WAD));
      const pos = await w.vault.getPosition(t.address, ETH_USD);
      expect(pos.sizeWad).to.equal(0n);
      expect(pos.entryPriceWad).to.equal(0n);
      expect(pos.lastFundingIndexWad).to.equal(0n);
      expect(await w.vault.accountMarkets(t.address)).to.deep.equal([]);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(0n);
      expect(st.oiShortWad).to.equal(0n);
      expect(await w.vault.quoteBalance(t.address)).to.equal(
        wad(20_000) - open.fee + out.realizedPnl - out.fundingPaid - out.fee,
      );
      const h = await w.vault.accountHealth(t.address);
      expect(h.initialMarginWad).to.equal(0n); // no buffer without a position
      expect(h.equityWad).to.equal(await w.vault.quoteBalance(t.address));
      await expectAccount(ctx, t);
    });

    it("closes a short: position deleted, no open markets, OI back to zero", async () => {
      const { ctx, w, t } = await withTrader(20_000);
      const open = await trade(ctx, t, ETH_USD, -wad(4));
      await setPrice(ctx, "ETH", 2890);
      const out = await trade(ctx, t, ETH_USD, wad(4));
      expect(out.newSize).to.equal(0n);
      expect(out.realizedPnl).to.equal(divFloor(-wad(4) * (out.fill - open.fill), WAD));
      expect(await w.vault.accountMarkets(t.address)).to.deep.equal([]);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiShortWad).to.equal(0n);
      expect(st.oiLongWad).to.equal(0n);
      await expectAccount(ctx, t);
    });

    it("keeps the other market open when one of two positions is closed", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      await trade(ctx, t, ETH_USD, wad(2));
      await trade(ctx, t, BTC_USD, -wad(0.1));
      expect([...(await w.vault.accountMarkets(t.address))].sort()).to.deep.equal([ETH_USD, BTC_USD].sort());
      await trade(ctx, t, ETH_USD, -wad(2));
      expect(await w.vault.accountMarkets(t.address)).to.deep.equal([BTC_USD]);
      await expectAccount(ctx, t);
    });
  });

  describe("margin", () => {
    it("reverts Undercollateralized when a risk-increasing trade leaves equity below IM", async () => {
      const { ctx, w, m, t } = await withTrader(1_000);
      // 7 ETH ≈ $21,000 notional: IM ≈ 1,050 + 5 > equity ≈ 987.
      const next = BigInt(await time.latest()) + 10n;
      const preview = m.clone().trade(t.address, ETH_USD, wad(7), next);
      expect(preview.health.equity).to.be.lessThan(BigInt(preview.health.initialMargin));
      // IM computed by hand: ceil(ceil(7 × 3000) × 5%) + $5 buffer.
      expect(preview.health.initialMargin).to.equal(wad(1050) + wad(5));
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).trade(ETH_USD, wad(7), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, preview.health.equity, preview.health.initialMargin);
      // A smaller position fits.
      const out = await trade(ctx, t, ETH_USD, wad(6));
      expect(out.health.equity).to.be.greaterThanOrEqual(BigInt(out.health.initialMargin));
      await expectAccount(ctx, t);
    });

    it("allows a reduce-only trade below IM but not a risk-increasing or flipping one", async () => {
      const { ctx, w, m, t } = await withTrader(1_000);
      await trade(ctx, t, ETH_USD, wad(6));
      await setPrice(ctx, "ETH", 2980);
      const now = BigInt(await time.latest());
      const h = m.health(t.address, now);
      expectHealth(await w.vault.accountHealth(t.address), h);
      expect(h.equity).to.be.lessThan(BigInt(h.initialMargin));
      expect(h.equity).to.be.greaterThan(BigInt(h.maintenanceMargin));

      // Adding risk fails.
      let next = now + 5n;
      let preview = m.clone().trade(t.address, ETH_USD, wad(0.1), next);
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).trade(ETH_USD, wad(0.1), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, preview.health.equity, preview.health.initialMargin);

      // Flipping to a short is risk-increasing too.
      next += 5n;
      preview = m.clone().trade(t.address, ETH_USD, -wad(12), next);
      expect(preview.increasesRisk).to.equal(true);
      expect(preview.health.equity).to.be.lessThan(BigInt(preview.health.initialMargin));
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).trade(ETH_USD, -wad(12), 0n))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, preview.health.equity, preview.health.initialMargin);

      // Reducing goes through even though the account stays below IM.
      const out = await trade(ctx, t, ETH_USD, -wad(0.1));
      expect(out.increasesRisk).to.equal(false);
      expect(out.health.equity).to.be.lessThan(BigInt(out.health.initialMargin));
      await expectAccount(ctx, t);
      expect((await w.vault.getPosition(t.address, ETH_USD)).sizeWad).to.equal(wad(5.9));
    });
  });

  describe("errors", () => {
    it("reverts AccountInLiquidation for any trade of a flagged account, and trades again once released", async () => {
      const { ctx, w, t } = await withTrader(10_000);
      await trade(ctx, t, ETH_USD, wad(1));
      await expect(w.vault.connect(w.liquidator).setInLiquidation(t.address, true))
        .to.emit(w.vault, "LiquidationFlagSet")
        .withArgs(t.address, true);
      await expect(w.vault.connect(t).trade(ETH_USD, wad(1), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(t.address);
      await expect(w.vault.connect(t).trade(ETH_USD, -wad(1), 0n))
        .to.be.revertedWithCustomError(w.vault, "AccountInLiquidation")
        .withArgs(t.address);
      await w.vault.connect(w.liquidator).setInLiquidation(t.address, false);
      await trade(ctx, t, ETH_USD, -wad(1));
      await expectAccount(ctx, t);
    });

    it("reverts ZeroAmount for a zero size", async () => {
      const { w } = await setupModel();
      const [t] = w.traders;
      await expect(w.vault.connect(t).trade(ETH_USD, 0n, ethers.MaxUint256)).to.be.revertedWithCustomError(
        w.vault,
        "ZeroAmount",
      );
    });

    it("reverts UnknownMarket for a market that is not listed", async () => {
      const { w } = await setupModel();
      const [t] = w.traders;
      const id = ethers.encodeBytes32String("DOGE-USD");
      await expect(w.vault.connect(t).trade(id, wad(1), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "UnknownMarket")
        .withArgs(id);
      await expect(w.vault.fillPrice(id, wad(1)))
        .to.be.revertedWithCustomError(w.vault, "UnknownMarket")
        .withArgs(id);
    });

    it("reverts InvalidFillPrice when a huge short takes the fill to zero or below", async () => {
      const ctx = await setupModel();
      const { w } = ctx;
      const [t] = w.traders;
      const id = await listTinyMarket(w); // skewScale 1, the minimum
      await depositUsd(ctx, t, 100_000);
      // −2 at skewScale 1: 3000 × (1 − 1) = 0.
      await expect(w.vault.connect(t).trade(id, -2n * WAD, 0n))
        .to.be.revertedWithCustomError(w.vault, "InvalidFillPrice")
        .withArgs(id, 0n);
      // −3: 3000 × (1 − 1.5) = −1500.
      await expect(w.vault.connect(t).trade(id, -3n * WAD, 0n))
        .to.be.revertedWithCustomError(w.vault, "InvalidFillPrice")
        .withArgs(id, -wad(1500));
      await expect(w.vault.fillPrice(id, -3n * WAD))
        .to.be.revertedWithCustomError(w.vault, "InvalidFillPrice")
        .withArgs(id, -wad(1500));
      // A small short in the same market is valid: 3000 × (1 − 0.25) = 2250.
      expect(await w.vault.fillPrice(id, -wad(0.5))).to.equal(wad(2250));
    });
  });

  describe("cross-margin", () => {
    it("shares one collateral pool between ETH-USD and BTC-USD and sums both in accountHealth", async () => {
      const { ctx, w, m, t } = await withTrader(4_000);
      await trade(ctx, t, ETH_USD, wad(10));
      await trade(ctx, t, BTC_USD, -wad(0.5));
      await setPrice(ctx, "ETH", 3050);
      await setPrice(ctx, "BTC", 59_500);
      const now = BigInt(await time.latest());
      const h = m.health(t.address, now);
      expectHealth(await w.vault.accountHealth(t.address), h);
      // Both markets contribute: IM = 5% × (10 × 3050 + 0.5 × 59,500) + one $5 buffer.
      expect(h.initialMargin).to.equal(wad(1525) + wad(1487.5) + wad(5));
      expect(h.maintenanceMargin).to.equal(wad(762.5) + wad(743.75) + wad(5));
      const ethPos = m.position(t.address, ETH_USD);
      const btcPos = m.position(t.address, BTC_USD);
      expect(h.unrealizedPnl).to.equal(
        mulWadFloor(ethPos.size, wad(3050) - ethPos.entry) + mulWadFloor(btcPos.size, wad(59_500) - btcPos.entry),
      );
      expect(h.unrealizedPnl).to.be.greaterThan(wad(700)); // both legs profit

      // 15 more ETH would fit in $4,000 of collateral alone, but the BTC leg uses the same margin.
      const next = now + 7n;
      const preview = m.clone().trade(t.address, ETH_USD, wad(15), next);
      expect(preview.health.initialMargin).to.be.greaterThan(BigInt(preview.health.equity));
      await time.setNextBlockTimestamp(next);
      await expect(w.vault.connect(t).trade(ETH_USD, wad(15), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "Undercollateralized")
        .withArgs(t.address, preview.health.equity, preview.health.initialMargin);

      // A fresh account with the same $4,000 can open that BTC size.
      const [, fresh] = w.traders;
      await depositUsd(ctx, fresh, 4_000);
      const fr = await trade(ctx, fresh, ETH_USD, wad(15));
      expect(fr.health.equity).to.be.greaterThanOrEqual(BigInt(fr.health.initialMargin));
      await expectAccount(ctx, t);
      await expectAccount(ctx, fresh);
    });
  });
});

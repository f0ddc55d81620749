import { expect } from "chai";
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ETH_USD, wad, WAD, type World } from "../shared/local-world";
import { divCeil, type TradeOutcome } from "../shared/reference";
import { type Ctx, depositUsd, POOL0, setPrice, setupModel, tradeBoth, withTrader } from "../shared/vault-harness";

const MAKER = wad(0.0002);
const TAKER = wad(0.0006);

/** Trades on chain and in the model, checking the `Traded` event against the model. */
async function trade(ctx: Ctx, t: HardhatEthersSigner, delta: bigint, market = ETH_USD): Promise<TradeOutcome> {
  return (await tradeBoth(ctx, t, market, delta)).out;
}

interface Balances {
  quote: bigint;
  pool: bigint;
  insurance: bigint;
}

async function balances(w: World, t: HardhatEthersSigner): Promise<Balances> {
  return {
    quote: await w.vault.quoteBalance(t.address),
    pool: await w.vault.poolBalance(),
    insurance: await w.vault.insuranceBalance(),
  };
}

/** The fee split written out: 20% of the fee to the insurance, rounded down; the rest to the pool. */
function expectFeeSplit(before: Balances, after: Balances, fee: bigint): void {
  const toInsurance = (fee * 2n) / 10n;
  expect(after.insurance - before.insurance, "insurance share").to.equal(toInsurance);
  expect(after.pool - before.pool, "pool share").to.equal(fee - toInsurance);
}

/** The first `n` traders, each with `dollars` of USDC deposited. */
async function funded(ctx: Ctx, n: number, dollars = 50_000): Promise<HardhatEthersSigner[]> {
  const traders = ctx.w.traders.slice(0, n);
  for (const t of traders) await depositUsd(ctx, t, dollars);
  return traders;
}

/**
 * Trades `delta` by `t` (who holds no position in it) and checks the fee against `feeOf(out)`,
 * written out by the test: it is the whole change of the trader's quote balance and is split
 * ⌊20%⌋ to the insurance, the rest to the pool.
 */
async function expectFeeOnly(
  ctx: Ctx,
  t: HardhatEthersSigner,
  delta: bigint,
  feeOf: (out: TradeOutcome) => bigint,
): Promise<{ out: TradeOutcome; fee: bigint; after: Balances }> {
  const before = await balances(ctx.w, t);
  const out = await trade(ctx, t, delta);
  const fee = feeOf(out);
  expect(out.fee).to.equal(fee);
  const after = await balances(ctx.w, t);
  expect(after.quote).to.equal(before.quote - fee);
  expectFeeSplit(before, after, fee);
  return { out, fee, after };
}

describe("PerpVault — fees and open-interest caps", () => {
  describe("fees", () => {
    it("charges the taker rate on a trade that opens skew; insurance gets ⌊20%⌋, the pool the rest", async () => {
      const ctx = await setupModel();
      const [t] = await funded(ctx, 1);
      const delta = wad(1.234567);
      // fee = ⌈1.234567 × 6 bps × fill⌉
      const { fee, after } = await expectFeeOnly(ctx, t, delta, (o) => divCeil(delta * TAKER * o.fill, WAD * WAD));
      expect(fee % 5n).to.not.equal(0n, "the insurance share must need rounding for this test");
      expect(after.insurance).to.equal(fee / 5n);
      expect(after.pool).to.equal(POOL0 + fee - fee / 5n);
    });

    it("splits a skew-crossing trade: maker rate up to |skew|, taker rate beyond", async () => {
      const ctx = await setupModel();
      const [a, b] = await funded(ctx, 2);
      await trade(ctx, a, wad(10));
      const { out, fee } = await expectFeeOnly(ctx, b, -wad(15), (o) =>
        divCeil((wad(10) * MAKER + wad(5) * TAKER) * o.fill, WAD * WAD),
      );
      expect(out.skewBefore).to.equal(wad(10));
      // Cheaper than the all-taker fee.
      expect(fee).to.be.lessThan(divCeil(wad(15) * TAKER * out.fill, WAD * WAD));
    });

    it("charges only the maker rate on a trade that reduces |skew| without crossing it", async () => {
      const ctx = await setupModel();
      const [a, b] = await funded(ctx, 2);
      await trade(ctx, a, wad(10));
      await expectFeeOnly(ctx, b, -wad(4.321), (o) => divCeil(wad(4.321) * MAKER * o.fill, WAD * WAD));
    });

    it("mirrors the split under a short skew: buys pay maker up to |skew|", async () => {
      const ctx = await setupModel();
      const [a, b, c] = await funded(ctx, 3);
      await trade(ctx, a, -wad(8));
      const first = await trade(ctx, b, wad(3));
      expect(first.fee).to.equal(divCeil(wad(3) * MAKER * first.fill, WAD * WAD));
      // Skew now −5: a buy of 10 is 5 maker + 5 taker.
      const { out } = await expectFeeOnly(ctx, c, wad(10), (o) =>
        divCeil((wad(5) * MAKER + wad(5) * TAKER) * o.fill, WAD * WAD),
      );
      expect(out.skewBefore).to.equal(-wad(5));
    });

    it("charges the taker rate on a trade that adds to an existing skew", async () => {
      const ctx = await setupModel();
      const [a, b] = await funded(ctx, 2);
      await trade(ctx, a, -wad(6));
      const out = await trade(ctx, b, -wad(2.5));
      expect(out.fee).to.equal(divCeil(wad(2.5) * TAKER * out.fill, WAD * WAD));
    });

    it("treats a trader's own reduction as maker flow and charges the fee on top of PnL", async () => {
      const { ctx, w, t } = await withTrader(50_000);
      await trade(ctx, t, wad(10));
      await setPrice(ctx, "ETH", 3050);
      const before = await balances(w, t);
      const out = await trade(ctx, t, -wad(4));
      const fee = divCeil(wad(4) * MAKER * out.fill, WAD * WAD);
      expect(out.fee).to.equal(fee);
      const after = await balances(w, t);
      expect(after.quote - before.quote).to.equal(out.realizedPnl - out.fundingPaid - fee);
      expect(after.insurance - before.insurance).to.equal((fee * 2n) / 10n);
      expect(after.pool - before.pool).to.equal(-out.realizedPnl + out.fundingPaid + fee - (fee * 2n) / 10n);
    });

    it("rounds the insurance share down on every trade and keeps the ledger equal to the tokens held", async () => {
      const ctx = await setupModel();
      const { w, m } = ctx;
      const traders = await funded(ctx, 4, 100_000);
      const sizes = [wad(1.111111), -wad(2.777777), wad(0.333337), wad(5.5), -wad(3.141593), wad(0.000007)];
      let insurance = 0n;
      let fees = 0n;
      let remainders = 0n;
      for (let i = 0; i < sizes.length; i++) {
        const out = await trade(ctx, traders[i % traders.length], sizes[i]);
        insurance += (out.fee * 2n) / 10n;
        fees += out.fee;
        remainders += out.fee % 5n;
      }
      expect(await w.vault.insuranceBalance()).to.equal(insurance);
      // Rounded per trade: the insurance falls short of 20% of all fees by the dropped remainders.
      expect(remainders).to.be.greaterThan(0n);
      expect(fees - 5n * (await w.vault.insuranceBalance())).to.equal(remainders);
      expect(await w.vault.poolBalance()).to.equal(m.poolBalance);
      // Every quote WAD is somewhere: pool + insurance + traders' quote balances = USDC held.
      let quotes = 0n;
      for (const t of traders) {
        const q = await w.vault.quoteBalance(t.address);
        expect(q).to.equal(m.quoteOf(t.address));
        quotes += q;
      }
      const held = (await w.usdc.balanceOf(await w.vault.getAddress())) * 10n ** 12n;
      expect((await w.vault.poolBalance()) + (await w.vault.insuranceBalance()) + quotes).to.equal(held);
    });
  });

  describe("open-interest caps", () => {
    it("reverts OpenInterestCapExceeded when the long side would pass 1 × pool balance, to the wei", async () => {
      const ctx = await setupModel();
      const { w, m } = ctx;
      const [a, b] = w.traders;
      await depositUsd(ctx, a, 600_000);
      await depositUsd(ctx, b, 100_000);
      await trade(ctx, a, wad(3000));
      const cap = m.poolBalance; // ratio 1
      expect(await w.vault.poolBalance()).to.equal(cap);
      expect(cap).to.be.greaterThan(POOL0); // fees raised it

      const price = wad(3000);
      // Largest long OI whose notional ⌊oi × price⌋ fits under the cap.
      const maxOi = ((cap + 1n) * WAD - 1n) / price;
      const room = maxOi - wad(3000);
      await expect(w.vault.connect(b).trade(ETH_USD, room + 1n, ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "OpenInterestCapExceeded")
        .withArgs(ETH_USD, true, ((maxOi + 1n) * price) / WAD, cap);
      await expect(w.vault.connect(b).trade(ETH_USD, wad(400), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "OpenInterestCapExceeded")
        .withArgs(ETH_USD, true, wad(3400 * 3000), cap);
      // Exactly up to the cap is allowed (notional at the oracle price, not the fill).
      await trade(ctx, b, room);
      const st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(maxOi);
      expect((st.oiLongWad * price) / WAD).to.be.lessThanOrEqual(cap);
    });

    it("reverts OpenInterestCapExceeded when the short side would pass 1 × pool balance", async () => {
      const ctx = await setupModel();
      const { w, m } = ctx;
      const [a, b] = w.traders;
      await depositUsd(ctx, a, 600_000);
      await depositUsd(ctx, b, 100_000);
      await trade(ctx, a, -wad(3000));
      const cap = m.poolBalance;
      await expect(w.vault.connect(b).trade(ETH_USD, -wad(400), 0n))
        .to.be.revertedWithCustomError(w.vault, "OpenInterestCapExceeded")
        .withArgs(ETH_USD, false, wad(3400 * 3000), cap);
      // A long of the same size is fine: the long side is empty.
      await trade(ctx, b, wad(400));
    });

    it("still allows trades that reduce a side above its cap, and trades on the other side", async () => {
      const ctx = await setupModel();
      const { w, m } = ctx;
      const [a, b, c] = w.traders;
      await depositUsd(ctx, a, 700_000);
      await depositUsd(ctx, b, 50_000);
      await depositUsd(ctx, c, 50_000);
      await trade(ctx, a, wad(3300)); // $9.9M
      await trade(ctx, c, -wad(100));
      await setPrice(ctx, "ETH", 3100); // long notional $10.23M > cap ≈ $10.006M
      const cap = m.poolBalance;
      expect(wad(3300 * 3100)).to.be.greaterThan(cap);

      // A new long: long OI grows past the cap.
      await expect(w.vault.connect(b).trade(ETH_USD, wad(1), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "OpenInterestCapExceeded")
        .withArgs(ETH_USD, true, wad(3301 * 3100), cap);

      // Buying back part of a short (the opposite side) leaves long OI unchanged: allowed.
      await trade(ctx, c, wad(50));
      let st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(wad(3300));
      expect(st.oiShortWad).to.equal(wad(50));

      // Reducing the over-cap long side itself: allowed, even while still above the cap.
      await trade(ctx, a, -wad(10));
      st = await w.vault.marketState(ETH_USD);
      expect(st.oiLongWad).to.equal(wad(3290));
      expect(wad(3290 * 3100)).to.be.greaterThan(m.poolBalance);

      // Opening on the short side (under its cap) is allowed.
      await trade(ctx, b, -wad(20));

      // Flipping the short into a long grows the long side: rejected.
      const capNow = m.poolBalance;
      await expect(w.vault.connect(c).trade(ETH_USD, wad(100), ethers.MaxUint256))
        .to.be.revertedWithCustomError(w.vault, "OpenInterestCapExceeded")
        .withArgs(ETH_USD, true, wad(3340 * 3100), capNow);
      expect(await w.vault.poolBalance()).to.equal(capNow);
    });
  });
});

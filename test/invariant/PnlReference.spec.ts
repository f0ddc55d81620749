import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadFixture } from "../shared/load-fixture";
import { budget } from "../shared/budget";
import type { ContractTransactionReceipt } from "ethers";
import { anyPrice, BTC_USD, deployWorld, ETH_USD, usdc, wad, WAD, type World } from "../shared/local-world";
import { abs, type MarketConfig, ReferenceVault, type TradeOutcome } from "../shared/reference";

/**
 * Differential test: random trades by a few traders on both markets, with random oracle moves
 * and occasional time warps, replayed on `ReferenceVault` (test/shared/reference.ts). After each
 * trade the trader's position (size, entry, funding index), the `Traded` event (fill, fee,
 * realised PnL, funding), the quote-balance change (= realisedPnl − fundingPaid − fee), the
 * markets' open interest and funding, the pool and insurance ledgers and every trader's
 * `accountHealth().unrealizedPnlWad` must equal the reference exactly.
 */

const SEED = 42;
const NUM_RUNS = budget(8);
const MIN_TRADES_PER_RUN = 50;
const TRADERS = 3;
const COLLATERAL_USD = 200_000;
/** Headroom (USD) kept above the reference's initial margin before a risk-increasing trade. */
const IM_HEADROOM = wad(100);

const MARKETS = [ETH_USD, BTC_USD] as const;
type MarketIx = 0 | 1;
/** Largest random trade per market: 20 ETH, 1 BTC. */
const MAX_TRADE = [20n * WAD, WAD] as const;
/** Price bands (USD, 8 decimals) that random moves are clamped into. */
const BAND_E8 = [
  [2_000n * 10n ** 8n, 4_500n * 10n ** 8n],
  [40_000n * 10n ** 8n, 90_000n * 10n ** 8n],
] as const;

type Kind = "open" | "reduce" | "close" | "flip";

interface Step {
  trader: number;
  market: MarketIx;
  kind: Kind;
  /** Magnitude of an "open" trade, or what a flip adds beyond closing. */
  magnitude: bigint;
  long: boolean;
  /** Fraction (per mille) of the position that a "reduce" closes. */
  permille: number;
  /** Oracle moves before the trade, in basis points (0: no update). */
  ethMoveBps: number;
  btcMoveBps: number;
  /** Seconds to warp before the trade (feeds refreshed afterwards). */
  warp: number;
}

const stepArb = (market: MarketIx): fc.Arbitrary<Step> =>
  fc.record({
    trader: fc.integer({ min: 0, max: TRADERS - 1 }),
    market: fc.constant(market),
    kind: fc.constantFrom<Kind>("open", "open", "open", "reduce", "close", "flip"),
    magnitude: fc.bigInt({ min: 1n, max: MAX_TRADE[market] }),
    long: fc.boolean(),
    permille: fc.integer({ min: 1, max: 999 }),
    ethMoveBps: fc.oneof(fc.constant(0), fc.integer({ min: -300, max: 300 })),
    btcMoveBps: fc.oneof(fc.constant(0), fc.integer({ min: -300, max: 300 })),
    warp: fc.oneof(
      { weight: 5, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 * 3600 }) },
    ),
  });

/** Compact rendering of a step in fast-check's counterexample report. */
const describeStep = (s: Step): string =>
  `t${s.trader} ${s.market === 0 ? "ETH" : "BTC"} ${s.kind} ${s.long ? "+" : "-"}${s.magnitude} ${s.permille}‰` +
  ` | moves eth ${s.ethMoveBps}bps btc ${s.btcMoveBps}bps | warp ${s.warp}s`;

const stepsArb = fc.array(
  fc.oneof(stepArb(0), stepArb(1)).map((s) => Object.assign(s, { [fc.toStringMethod]: () => describeStep(s) })),
  { minLength: 60, maxLength: 70 },
);

const fmt = (x: bigint): string => ethers.formatUnits(x, 18);

function movePrice(e8: bigint, bps: number, band: readonly [bigint, bigint]): bigint {
  const next = (e8 * BigInt(10_000 + bps)) / 10_000n;
  return next < band[0] ? band[0] : next > band[1] ? band[1] : next;
}

function tradedEvent(w: World, vaultAddr: string, receipt: ContractTransactionReceipt) {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== vaultAddr.toLowerCase()) continue;
    const parsed = w.vault.interface.parseLog(log);
    if (parsed?.name === "Traded") {
      return {
        account: parsed.args.account as string,
        marketId: parsed.args.marketId as string,
        sizeDelta: parsed.args.sizeDeltaWad as bigint,
        fillPrice: parsed.args.fillPriceWad as bigint,
        newSize: parsed.args.newSizeWad as bigint,
        realizedPnl: parsed.args.realizedPnlWad as bigint,
        fee: parsed.args.feeWad as bigint,
        fundingPaid: parsed.args.fundingPaidWad as bigint,
      };
    }
  }
  throw new Error("no Traded event");
}

describe("invariant: PnL, entry and fees match the reference model", function () {
  const totals = { runs: 0, trades: 0, skipped: 0, reductions: 0, flips: 0, warps: 0 };

  it(`≥ ${MIN_TRADES_PER_RUN} random trades per run (seed ${SEED}, ${NUM_RUNS} runs) match ReferenceVault exactly`, async () => {
    const property = fc.asyncProperty(stepsArb, async (steps) => {
      const w = await loadFixture(deployWorld);
      const vaultAddr = await w.vault.getAddress();
      const usdcAddr = await w.usdc.getAddress();
      const traders = w.traders.slice(0, TRADERS);
      const addrs = traders.map((t) => t.address);

      // Documented defaults the reference relies on.
      expect(await w.vault.insuranceFeeShareWad()).to.equal(wad(0.2));
      // Prices are keyed by market id: each market is its own oracle asset here.
      const configs = new Map<string, MarketConfig>();
      for (const id of MARKETS) {
        const p = await w.vault.marketParams(id);
        const st = await w.vault.marketState(id);
        const r = await w.risk.ratiosOf(id);
        expect(p.makerFeeWad).to.equal(wad(0.0002));
        expect(p.takerFeeWad).to.equal(wad(0.0006));
        expect([r.imrWad, r.mmrWad]).to.deep.equal([wad(0.05), wad(0.025)]);
        expect([st.oiLongWad, st.oiShortWad, st.fundingIndexWad, st.fundingRateWad]).to.deep.equal([0n, 0n, 0n, 0n]);
        configs.set(id, {
          asset: id,
          makerFee: p.makerFeeWad,
          takerFee: p.takerFeeWad,
          skewScale: p.skewScaleWad,
          maxVelocity: p.maxFundingVelocityWad,
          maxOiRatio: p.maxOiPoolRatioWad,
          imr: r.imrWad,
          mmr: r.mmrWad,
        });
      }
      const ref = new ReferenceVault(configs, await w.vault.poolBalance());
      ref.insuranceBalance = await w.vault.insuranceBalance();
      ref.insuranceFeeShare = await w.vault.insuranceFeeShareWad();
      ref.liquidationBuffer = await w.vault.liquidationBufferWad();
      for (const id of MARKETS) ref.states.get(id)!.lastTime = (await w.vault.marketState(id)).lastFundingTime;
      for (const t of traders) {
        await w.vault.connect(t).deposit(usdcAddr, usdc(COLLATERAL_USD));
        ref.creditQuote(t.address, wad(COLLATERAL_USD));
      }

      const feeds = [w.ethFeed, w.btcFeed] as const;
      const e8 = [(await w.ethFeed.latestRoundData())[1], (await w.btcFeed.latestRoundData())[1]];
      // Earlier runs' warps moved the chain clock past the snapshot: refresh the feeds.
      for (const k of [0, 1] as const) await feeds[k].setAnswer(e8[k]);
      const syncPrices = (): void => {
        for (const k of [0, 1] as const) ref.setPrice(MARKETS[k], e8[k] * 10n ** 10n);
      };

      let trades = 0;
      for (const [i, s] of steps.entries()) {
        // ---- environment: time and prices
        if (s.warp > 0) {
          await time.increase(s.warp);
          totals.warps++;
        }
        const moves = [s.ethMoveBps, s.btcMoveBps];
        for (const k of [0, 1] as const) {
          if (moves[k] !== 0) e8[k] = movePrice(e8[k], moves[k], BAND_E8[k]);
          if (moves[k] !== 0 || s.warp > 0) await feeds[k].setAnswer(e8[k]);
        }
        syncPrices();

        // ---- the trade, sized from the reference position
        const trader = traders[s.trader];
        const marketId = MARKETS[s.market];
        const size = ref.position(trader.address, marketId).size;
        const signed = s.long ? s.magnitude : -s.magnitude;
        let delta: bigint;
        if (size === 0n || s.kind === "open") delta = signed;
        else if (s.kind === "close") delta = -size;
        else if (s.kind === "reduce") delta = (-size * BigInt(s.permille)) / 1000n || -size;
        else delta = size > 0n ? -size - s.magnitude : -size + s.magnitude;

        const now = BigInt(await time.latest()) + 1n;
        // Preview on a copy: the health right after the trade is what the vault's IM check sees.
        const preview = ref.clone().trade(trader.address, marketId, delta, now);
        if (preview.increasesRisk) {
          const { equity, initialMargin } = preview.health;
          if (equity < initialMargin + IM_HEADROOM) {
            totals.skipped++;
            continue; // the reference predicts an Undercollateralized revert: not a trade
          }
        }

        const quoteBefore = await w.vault.quoteBalance(trader.address);
        const receipt = await (await w.vault.connect(trader).trade(marketId, delta, anyPrice(delta))).wait();
        if (!receipt) throw new Error("no receipt");
        const block = await ethers.provider.getBlock(receipt.blockNumber);
        if (!block) throw new Error("no block");
        const expected: TradeOutcome = ref.trade(trader.address, marketId, delta, BigInt(block.timestamp));
        trades++;
        if (abs(delta) <= abs(size) && size !== 0n && size > 0n !== delta > 0n) totals.reductions++;
        if (size !== 0n && abs(delta) > abs(size) && size > 0n !== delta > 0n) totals.flips++;

        const ctx = `step ${i} (${s.kind} ${fmt(delta)} ${marketId === ETH_USD ? "ETH" : "BTC"} by trader ${s.trader}, old size ${fmt(size)})`;

        // ---- event
        const ev = tradedEvent(w, vaultAddr, receipt);
        expect(ev.account, ctx).to.equal(trader.address);
        expect(ev.marketId, ctx).to.equal(marketId);
        expect(ev.sizeDelta, `${ctx}: sizeDelta`).to.equal(delta);
        expect(ev.fillPrice, `${ctx}: fill price`).to.equal(expected.fill);
        expect(ev.fee, `${ctx}: fee`).to.equal(expected.fee);
        expect(ev.fundingPaid, `${ctx}: funding paid`).to.equal(expected.fundingPaid);
        expect(ev.realizedPnl, `${ctx}: realised PnL`).to.equal(expected.realizedPnl);
        expect(ev.newSize, `${ctx}: new size (event)`).to.equal(expected.newSize);

        // ---- state
        const [pos, quoteAfter, poolBal, insBal, state, ...healths] = await Promise.all([
          w.vault.getPosition(trader.address, marketId),
          w.vault.quoteBalance(trader.address),
          w.vault.poolBalance(),
          w.vault.insuranceBalance(),
          w.vault.marketState(marketId),
          ...addrs.map((a) => w.vault.accountHealth(a)),
        ]);
        expect(quoteAfter - quoteBefore, `${ctx}: quote change = realised − funding − fee (event)`).to.equal(
          ev.realizedPnl - ev.fundingPaid - ev.fee,
        );
        expect(quoteAfter - quoteBefore, `${ctx}: quote change (reference)`).to.equal(expected.quoteDelta);
        expect(quoteAfter, `${ctx}: quote balance`).to.equal(ref.quoteOf(trader.address));
        const refPos = ref.position(trader.address, marketId);
        expect(pos.sizeWad, `${ctx}: size`).to.equal(refPos.size);
        expect(pos.entryPriceWad, `${ctx}: entry price`).to.equal(refPos.entry);
        expect(pos.lastFundingIndexWad, `${ctx}: last funding index`).to.equal(refPos.lastFundingIndex);

        const m = ref.states.get(marketId)!;
        expect(state.oiLongWad, `${ctx}: OI long`).to.equal(m.oiLong);
        expect(state.oiShortWad, `${ctx}: OI short`).to.equal(m.oiShort);
        expect(state.fundingIndexWad, `${ctx}: funding index`).to.equal(m.index);
        expect(state.fundingRateWad, `${ctx}: funding rate`).to.equal(m.rate);
        expect(state.lastFundingTime, `${ctx}: last funding time`).to.equal(m.lastTime);
        expect(poolBal, `${ctx}: pool balance`).to.equal(ref.poolBalance);
        expect(insBal, `${ctx}: insurance balance`).to.equal(ref.insuranceBalance);

        // Unrealised PnL at the oracle price, for every trader (prices may have moved for all).
        for (const [k, h] of healths.entries()) {
          expect(h.unrealizedPnlWad, `${ctx}: unrealised PnL of trader ${k}`).to.equal(
            ref.health(addrs[k], BigInt(block.timestamp)).unrealizedPnl,
          );
        }
      }
      totals.runs++;
      totals.trades += trades;
      expect(trades, "trades executed in this run").to.be.gte(MIN_TRADES_PER_RUN);
    });

    await fc.assert(property, { seed: SEED, numRuns: NUM_RUNS });
    console.log(
      `      PnlReference: ${totals.runs} runs, ${totals.trades} trades executed ` +
        `(${totals.reductions} reductions/closes, ${totals.flips} flips, ${totals.warps} warps), ` +
        `${totals.skipped} skipped by the reference IM filter`,
    );
    expect(totals.runs).to.equal(NUM_RUNS);
    expect(totals.trades).to.be.gte(MIN_TRADES_PER_RUN * NUM_RUNS);
  });
});

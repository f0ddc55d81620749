/**
 * One run: a mode and a seed, from the populated snapshot, block by block with automine off.
 * Each block batches the phases' transactions in this order (sim/engine/phases/): the oracle
 * relayer's rounds (and, in `full`, the dynamic engine's `updatePrice` and the breaker's pokes),
 * arbitrage toward the fundamental, keepers (kicks, takes or redos, hedging), momentum sellers,
 * then the pool's hedger; then it is mined at its timestamp, and its events and state are booked.
 * After the scenario's last block the run drains (`drain`) until nothing is left to resolve.
 * Failed transactions and failed actions inside a keeper's batch are counted, never fatal.
 */
import type { Scenario } from "../scenario";
import type { Metrics, ProgressFn, SeriesRow } from "../types";
import type { TxRequest } from "./chain";
import { charge, timed } from "./profile";
import { blockState } from "./views";
import type { World } from "./world";
import { arbitrageTxs, arbWallet, outsideOn } from "./phases/arbitrage";
import { bookBlock, type Within } from "./phases/books";
import {
  BlockMiner,
  DEFAULT_DRAIN_BLOCKS,
  RunState,
  runContext,
  type BlockInput,
  type Populated,
  type RunContext,
} from "./phases/context";
import { hedgerTxs } from "./phases/hedger";
import { keeperTxs, rescan, startScans, withinBlockActs, withinBlockTxs } from "./phases/keepers";
import { books, closingMetrics, venueBalances } from "./phases/metrics";
import { momentumTxs } from "./phases/momentum";
import { relayerTxs } from "./phases/relayer";
import { resolved, startWatch, watchBlock } from "./phases/watch";
import { modeTxs } from "./phases/setup";

export { applyBreaker } from "./phases/setup";
export { auctionFactor } from "./phases/keepers";
export type { Populated } from "./phases/context";

export interface RunOutput {
  metrics: Metrics;
  series: SeriesRow[];
  failures: { txs: number; actions: number; reasons: Record<string, number> };
}

/** An observer of each booked block (`RunOptions.onBlock`). */
export type BlockObserver = (ctx: RunContext, st: RunState, b: number) => Promise<void>;

type Progress = { fn: ProgressFn; runIndex: number; runs: number };

/** The block's transactions, phase by phase. */
async function buildBlock(ctx: RunContext, st: RunState, blk: BlockInput): Promise<TxRequest[]> {
  return [
    ...(await relayerTxs(ctx, st, blk)),
    ...arbitrageTxs(ctx, st, blk),
    ...keeperTxs(ctx, st, blk),
    ...momentumTxs(ctx, st, blk),
    ...hedgerTxs(ctx, st, blk),
  ];
}

/** Sub-block bidding: mines, before block `b`, the takes and redos due strictly inside it. */
async function bidWithin(ctx: RunContext, st: RunState, miner: BlockMiner, b: number): Promise<Within> {
  st.actedWithin.clear();
  const within: Within = { subs: [], oracleBefore: [...st.oracle] };
  for (const [t, ids] of withinBlockActs(ctx, st, b, miner.t, miner.t + ctx.step)) {
    const res = await miner.sendWithin(withinBlockTxs(ctx, st, ids, b), t);
    st.totals.gas += res.gas;
    st.totals.txs += res.count;
    st.keeperGas += res.gas; // sub-blocks hold keepers' takes only
    within.subs.push({ block: res.block, t });
  }
  return within;
}

/** Builds, mines and books block `b`, then updates the keepers' view. */
async function runBlock(
  ctx: RunContext,
  st: RunState,
  miner: BlockMiner,
  b: number,
  obs?: BlockObserver,
): Promise<void> {
  const within = await bidWithin(ctx, st, miner, b);
  const tBuild = performance.now();
  const prevVenue = ctx.w.assets.map((a) => st.venueAt(a.index, b - 1));
  const txs = await buildBlock(ctx, st, { b, now: miner.t + ctx.step, prevVenue });
  charge("build", performance.now() - tBuild);
  const res = await miner.send(txs);
  const keepers = new Set(ctx.w.agentAddrs.keepers);
  txs.forEach((tx, i) => {
    if (keepers.has(tx.to)) st.keeperGas += res.gasEach[i];
  });
  st.totals.gas += res.gas;
  st.totals.txs += res.count;
  const touched = await bookBlock(ctx, st, b, miner.t, res.block, within);
  if (st.outside && outsideOn(ctx)) st.outside.now = await arbWallet(ctx.w);
  await timed("watch", () => watchBlock(ctx, st, b, st.lastState));
  await rescan(ctx, st, b, txs, touched);
  if (obs) await obs(ctx, st, b);
}

/**
 * The drain: after the scenario's last block, blocks go on with the fundamental at its last value
 * (every agent keeps its rule) until every auction is resolved and no account is below MM at the
 * fundamental, or for at most `drainBlocks` blocks.
 */
async function drain(ctx: RunContext, st: RunState, miner: BlockMiner, obs?: BlockObserver): Promise<void> {
  const bound = ctx.scenario.drainBlocks ?? DEFAULT_DRAIN_BLOCKS;
  while (st.drained < bound && !resolved(st)) {
    await runBlock(ctx, st, miner, ctx.scenario.blocks + st.drained, obs);
    st.drained++;
  }
}

function report(ctx: RunContext, b: number, progress?: Progress): void {
  if (progress && (b % 10 === 9 || b === ctx.scenario.blocks - 1))
    progress.fn({
      phase: "run",
      mode: ctx.modeName,
      seed: ctx.pop.seed,
      block: b + 1,
      blocks: ctx.scenario.blocks,
      runIndex: progress.runIndex,
      runs: progress.runs,
    });
}

export async function runOnce(
  w: World,
  scenario: Scenario,
  pop: Populated,
  modeName: string,
  progress?: Progress,
  obs?: BlockObserver,
): Promise<RunOutput> {
  const ctx = runContext(w, scenario, pop, modeName);
  const miner = new BlockMiner(w, ctx.step, pop.startTime);
  // Mode setup block (not part of the simulated blocks).
  const setup = await miner.send(await modeTxs(w, ctx.mode));
  if (setup.ok.some((x) => !x)) throw new Error(`lab: applying mode ${modeName} failed`);
  miner.failedTxs = 0;

  const s0 = await blockState(w);
  const st = new RunState(ctx, s0);
  const start = await books(ctx, st.oracle);
  const wallet = await arbWallet(w);
  st.outside = { start: wallet, now: [...wallet], delivered: wallet.map(() => 0n), owedUsd: 0 };
  st.venueStart = await venueBalances(w);
  await startWatch(ctx, st, s0);
  await startScans(ctx, st);
  for (let b = 0; b < scenario.blocks; b++) {
    await runBlock(ctx, st, miner, b, obs);
    report(ctx, b, progress);
  }
  await drain(ctx, st, miner, obs);
  const metrics = await closingMetrics(ctx, st, s0, start);
  return {
    metrics,
    series: st.series,
    failures: {
      txs: miner.failedTxs,
      actions: st.failedActions.count,
      reasons: Object.fromEntries(st.failedActions.reasons),
    },
  };
}

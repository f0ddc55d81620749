/**
 * Phase 3 of a block: keepers and bidders (one agent each does both). Out of an outage, each keeper
 * acts on the scan of `latencyBlocks` ago: it kicks its share of the liquidatable accounts (none on
 * a market without throttle capacity or at breaker level ≥ 2) and takes or redoes the auctions a
 * bidder would act on now (past `minDiscountBps`, or stale; none at level 3), in chunks that fit a
 * transaction, then hedges what it holds at `hedgeUsdPerBlock`. Between blocks the keepers' view is
 * kept up to date (`rescan`): the health model is recalibrated on touched accounts and the lens scans
 * its candidates.
 */
import type { TxRequest } from "../chain";
import { TX_GAS_CAP } from "../chain";
import { charge, timed } from "../profile";
import { scanLiquidatable } from "../views";
import { AUCTION, units } from "../world";
import type { BlockInput, RunContext, RunState } from "./context";
import { requiredDiscountBps, takePays } from "./bidders";
import { wroteRound } from "./relayer";

const KICK_CHUNK = 12;
const TAKE_CHUNK = 25;
/** Every this many blocks the whole population is recalibrated and rescanned. */
export const RECALIBRATE_EVERY = 60;

/** The auction's price multiple m(t) (AuctionHouse._factor, stairstep curve) and staleness. */
export function auctionFactor(elapsedSec: number): { factor: number; stale: boolean } {
  const raw = AUCTION.buf * AUCTION.curveCut ** Math.floor(elapsedSec / AUCTION.curveStepSec);
  return { factor: Math.max(AUCTION.floor, raw), stale: elapsedSec > AUCTION.tailSec || raw < AUCTION.cusp };
}

function outageAt(ctx: RunContext, b: number): boolean {
  const o = ctx.scenario.keepers.outage;
  return o !== undefined && b >= o.fromBlock && b < o.toBlock;
}

/** Accounts the keepers may kick in block `b`: the scan they see, on markets that allow a kick. */
function kickCandidates(ctx: RunContext, st: RunState, b: number): string[] {
  // Keepers read the throttle first: no kick on a market without capacity (it would revert) ...
  // ... and the breaker: no kicks on a market at level ≥ 2. Levels as of the last mined block:
  // what the previous block's series row recorded.
  const capacityOk = st.lastState.capacityOk;
  const levels = st.lastLevels;
  const scanned = st.scans.get(b - ctx.latency) ?? st.scans.get(-1) ?? [];
  // A takeover (transfer never waits) needs neither: only a halt refuses it.
  const takeover = ctx.mode.poolTakeover;
  const allowed = scanned.filter((acc) => {
    const asset = ctx.marketOf.get(acc.toLowerCase()) ?? 0;
    return takeover ? levels[asset] < 3 : capacityOk[asset] && levels[asset] < 2;
  });
  // kickPausedBlocks: the vault said some account was liquidatable, and its market refused kicks.
  if (allowed.length < scanned.length) st.watch.kickPausedBlocks++;
  return allowed;
}

/**
 * Seconds from a curve's start to the first second a bidder acts on it: its price at least
 * `minDiscountBps` through the oracle, or the lot stale (a redo).
 */
export function actAfterSec(minDiscountBps: number): number {
  const minFactor = 1 - minDiscountBps / 10_000;
  const staleAt = AUCTION.tailSec + 1;
  for (let e = 0; e < staleAt; e += AUCTION.curveStepSec) {
    const f = auctionFactor(e);
    if (f.stale || f.factor <= minFactor) return e;
  }
  return staleAt;
}

/**
 * Sub-block bidding: the lots whose bidders' second falls strictly inside the coming block
 * (after `tPrev`, the last mined block, and before `tNow`, the block's own time), grouped by that
 * second, ascending. Each group is mined on its own at its second, before the block, so that a
 * long block does not quantise the curve; none in an outage, without keepers, or at level 3.
 */
export function withinBlockActs(
  ctx: RunContext,
  st: RunState,
  b: number,
  tPrev: number,
  tNow: number,
): [number, bigint[]][] {
  const ksp = ctx.scenario.keepers;
  if (ksp.count <= 0 || outageAt(ctx, b)) return [];
  const after = actAfterSec(requiredDiscountBps(ctx, st, b));
  const bySecond = new Map<number, bigint[]>();
  for (const [id, info] of st.auctions) {
    const at = info.startTime + after;
    if (st.lastLevels[info.asset] >= 3 || at <= tPrev || at >= tNow) continue;
    const f = auctionFactor(at - info.startTime);
    if (!f.stale && !takePays(ctx, st, id, info, f.factor, st.venueAt(info.asset, b - 1))) continue;
    bySecond.set(at, [...(bySecond.get(at) ?? []), id]);
  }
  return [...bySecond.entries()].sort((x, y) => x[0] - y[0]);
}

/** The takes (or redos) of `ids` in a sub-block, split between the keepers; no kicks, no hedging. */
export function withinBlockTxs(ctx: RunContext, st: RunState, ids: bigint[], b: number): TxRequest[] {
  const { w } = ctx;
  const ksp = ctx.scenario.keepers;
  const txs: TxRequest[] = [];
  for (let c = 0; c * TAKE_CHUNK < ids.length; c++) {
    const tIds = ids.slice(c * TAKE_CHUNK, (c + 1) * TAKE_CHUNK);
    for (const id of tIds) st.actedWithin.add(id);
    txs.push({
      from: w.admin,
      to: w.agentAddrs.keepers[c % ksp.count],
      data: w.ifaces.agent.encodeFunctionData("keeperAct", [
        [],
        tIds,
        tIds.map((id) => w.assets[st.auctions.get(id)!.asset].tokenAddr),
        requiredDiscountBps(ctx, st, b),
        w.keeperAnchors,
        w.assets.map(() => 0n),
      ]),
      gas: Math.min(TX_GAS_CAP, 1_500_000 + 400_000 * tIds.length),
    });
  }
  return txs;
}

/** Auctions a bidder would act on at `now`: past its discount, or stale (redo); none at level 3,
 * none already acted on in this block's sub-blocks. */
function actionableAuctions(ctx: RunContext, st: RunState, blk: BlockInput, discountBps: number): bigint[] {
  const minFactor = 1 - discountBps / 10_000;
  return [...st.auctions.keys()].filter((id) => {
    const info = st.auctions.get(id)!;
    if (st.lastLevels[info.asset] >= 3 || st.actedWithin.has(id)) return false;
    const f = auctionFactor(blk.now - info.startTime);
    if (f.stale) return true;
    return f.factor <= minFactor && takePays(ctx, st, id, info, f.factor, blk.prevVenue[info.asset]);
  });
}

export function keeperTxs(ctx: RunContext, st: RunState, blk: BlockInput): TxRequest[] {
  const { w, scenario } = ctx;
  const ksp = scenario.keepers;
  if (ksp.count <= 0 || outageAt(ctx, blk.b)) return [];
  const candidates = kickCandidates(ctx, st, blk.b);
  const discountBps = requiredDiscountBps(ctx, st, blk.b);
  const ids = actionableAuctions(ctx, st, blk, discountBps);
  const tokens = ids.map((id) => w.assets[st.auctions.get(id)!.asset].tokenAddr);
  // The keepers' own hedging budget is the scenario's in every mode (in instant mode they hold no
  // position: the pool takes every liquidated slice).
  const hedgeCaps = w.assets.map((a) => units(ksp.hedgeUsdPerBlock / blk.prevVenue[a.index], a.decimals));
  const txs: TxRequest[] = [];
  for (let k = 0; k < ksp.count; k++) {
    const mine = candidates.filter((_, i) => (i + blk.b) % ksp.count === k);
    // Each keeper starts on a different part of the auction list.
    const rot = ids.length === 0 ? 0 : (k * Math.ceil(ids.length / ksp.count)) % ids.length;
    const order = ids.map((_, i) => (i + rot) % ids.length);
    const takeIds = order.map((i) => ids[i]);
    const takeAssets = order.map((i) => tokens[i]);
    const nChunks = Math.max(1, Math.ceil(mine.length / KICK_CHUNK), Math.ceil(takeIds.length / TAKE_CHUNK));
    for (let c = 0; c < nChunks; c++) {
      const kicks = mine.slice(c * KICK_CHUNK, (c + 1) * KICK_CHUNK);
      const tIds = takeIds.slice(c * TAKE_CHUNK, (c + 1) * TAKE_CHUNK);
      const tAssets = takeAssets.slice(c * TAKE_CHUNK, (c + 1) * TAKE_CHUNK);
      const last = c === nChunks - 1;
      txs.push({
        from: w.admin,
        to: w.agentAddrs.keepers[k],
        data: w.ifaces.agent.encodeFunctionData("keeperAct", [
          kicks,
          tIds,
          tAssets,
          discountBps,
          w.keeperAnchors,
          last ? hedgeCaps : w.assets.map(() => 0n),
        ]),
        gas: Math.min(TX_GAS_CAP, 1_500_000 + 700_000 * kicks.length + 400_000 * tIds.length),
      });
    }
  }
  // Takeover mode: the first keeper puts each market's backlog on sale as its budget allows.
  const release = w.assets.filter((a) => (st.backlog.get(a.index) ?? 0n) !== 0n && st.lastLevels[a.index] < 2);
  if (release.length > 0) {
    txs.push({
      from: w.admin,
      to: w.agentAddrs.keepers[0],
      data: w.ifaces.agent.encodeFunctionData("releaseBacklogs", [release.map((a) => a.marketId)]),
      gas: Math.min(TX_GAS_CAP, 500_000 * release.length),
    });
  }
  return txs;
}

/** Accounts the vault would let a keeper kick now, among the health model's candidates. */
export function scanAccounts(ctx: RunContext, st: RunState): Promise<string[]> {
  return timed("scan", () => {
    const c = ctx.health.candidates(ctx.traderAccounts, st.oracle);
    charge("scanned accounts", 0, c.length);
    return scanLiquidatable(ctx.w, c);
  });
}

/** The keepers' view of the starting state. */
export async function startScans(ctx: RunContext, st: RunState): Promise<void> {
  await timed("calibrate", () => ctx.health.calibrate(ctx.traderAccounts, st.oracle));
  st.scans.set(-1, await scanAccounts(ctx, st));
}

/** After block `b` (its transactions `txs`, the accounts its events touched): the keepers' view. */
export async function rescan(
  ctx: RunContext,
  st: RunState,
  b: number,
  txs: TxRequest[],
  touched: Set<string>,
): Promise<void> {
  const recalibrate = b % RECALIBRATE_EVERY === RECALIBRATE_EVERY - 1 ? ctx.traderAccounts : [...touched];
  if (recalibrate.length > 0) await timed("calibrate", () => ctx.health.calibrate(recalibrate, st.oracle));
  // Keepers act at b + latency on this scan: skip it when they will be out or absent.
  const keepersOut = ctx.scenario.keepers.count === 0 || outageAt(ctx, b + ctx.latency);
  // Under static thresholds health moves only with the oracle (and slow funding): without a new
  // round and without touched accounts, the previous scan still holds.
  const reuse =
    ctx.mode.thresholds === "static" && !wroteRound(ctx.w, txs) && touched.size === 0 && b % RECALIBRATE_EVERY !== 0;
  const previous = st.realScans.has(b - 1) ? st.scans.get(b - 1) : undefined;
  if (keepersOut) st.scans.set(b, []);
  else {
    st.scans.set(b, reuse && previous !== undefined ? previous : await scanAccounts(ctx, st));
    st.realScans.add(b);
  }
  st.scans.delete(b - ctx.latency - 1);
}

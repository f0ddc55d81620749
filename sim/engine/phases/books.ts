/**
 * After a block is mined: the per-block bookkeeping. It reads the block's events and the state
 * after it, re-marks the liquidated accounts at the fundamental price on the state just before it
 * (to tell excess liquidations), folds each event into the run's totals and the auctions it
 * follows, and writes the block's series rows.
 */
import { ZeroAddress } from "ethers";
import { LotKind, decodeAuctionId } from "../../../lib/codec";
import { charge, timed } from "../profile";
import { blockState, readMargins, type ChainState } from "../views";
import { AUCTION, fromWad, wad } from "../world";
import type { EventArgs, EventName, LabEvent } from "./events";
import { fundamentalAt, type RunContext, type RunState } from "./context";
import { serveSpell } from "./watch";

/** The LotKind of an auction id (lib/codec, as AuctionHouse encodes it). */
const lotKind = (id: bigint): LotKind => decodeAuctionId(id).kind;

/** Per asset, what the block's events add to its series row. */
interface AssetTally {
  liq: number;
  notional: number;
  discounts: number[];
}

/** What an event handler sees besides its event. */
interface BlockBooks {
  ctx: RunContext;
  st: RunState;
  /** The block's index; the timestamp of the chain block the event is in, and the oracle it saw
   * (a sub-block's events saw the oracle before this block's rounds). */
  b: number;
  t: number;
  oracle: number[];
  perAsset: AssetTally[];
  /** Liquidated accounts that were healthy at the fundamental price (lowercase). */
  healthyAtFundamental: Map<string, boolean>;
}

/** Accounts liquidated in the block: position and pool kicks, and instant liquidations. */
function liquidatedAccounts(events: LabEvent[]): Set<string> {
  const liquidated = new Set<string>();
  for (const ev of events) {
    if (ev.name === "Kick" && lotKind(ev.args.id) !== LotKind.Collateral)
      liquidated.add(String(ev.args.account).toLowerCase());
    if (ev.name === "InstantLiquidation") liquidated.add(String(ev.args.account).toLowerCase());
  }
  return liquidated;
}

/**
 * Excess: liquidated accounts that were healthy at the fundamental price, on the state just
 * before block `bn` (a historical call), with the vault's own equity re-marked.
 */
async function healthyAtFundamental(
  ctx: RunContext,
  liquidated: Set<string>,
  b: number,
  bn: number,
): Promise<Map<string, boolean>> {
  const healthy = new Map<string, boolean>();
  if (liquidated.size === 0) return healthy;
  const { w } = ctx;
  const accs = [...liquidated];
  const margins = await timed("margins", () =>
    readMargins(
      w,
      accs,
      w.assets.map((a) => a.tokenAddr),
      w.assets.map((a) => wad(fundamentalAt(ctx, a.index, b))),
      bn - 1,
    ),
  );
  accs.forEach((acc, i) => healthy.set(acc, margins[i].ok && margins[i].equityWad >= margins[i].maintenanceWad));
  return healthy;
}

/** The account an event touches (its exposure must be read again), if any. */
function touchedAccount(st: RunState, ev: LabEvent): string | undefined {
  switch (ev.name) {
    case "Take":
    case "Redo":
      return st.auctions.get(ev.args.id)?.account;
    case "Kick":
    case "Backstop":
    case "AuctionEnded":
    case "InstantLiquidation":
    case "ShortfallSettled":
      return String(ev.args.account);
    default:
      return undefined;
  }
}

/** Adds `size` to auction `id` (a running lot keeps its clock), or opens it at `t`; counts `kicks`. */
function joinLot(
  st: RunState,
  id: bigint,
  account: string,
  asset: number,
  kind: LotKind,
  size: bigint,
  t: number,
  kicks: number,
): void {
  const running = st.auctions.get(id);
  const lot = (running?.lot ?? 0n) + size;
  const startTime = running?.startTime ?? t;
  st.auctions.set(id, { account, asset, kind, short: lot < 0n, startTime, lot, kicks: (running?.kicks ?? 0) + kicks });
}

type Handlers = { [N in EventName]: (books: BlockBooks, args: EventArgs[N]) => void };

const HANDLERS: Handlers = {
  Kick({ ctx, st, b, t, perAsset, healthyAtFundamental }, args) {
    const account = String(args.account).toLowerCase();
    const asset = ctx.assetByKey.get(String(args.key).toLowerCase()) ?? 0;
    const kind = lotKind(args.id);
    // A kick into a running pool lot joins it: the lot keeps its clock (AuctionHouse._takeover).
    // A takeover whose whole slice joined the backlog opens no lot.
    if (args.lot !== 0n || st.auctions.has(args.id)) joinLot(st, args.id, account, asset, kind, args.lot, t, 1);
    if (kind !== LotKind.Collateral) serveSpell(st, account, b);
    st.totals.liquidations++;
    perAsset[asset].liq++;
    st.totals.traderCost += fromWad(args.penaltyWad);
    if (kind !== LotKind.Collateral) {
      const notional = fromWad(args.tabWad);
      st.totals.notional += notional;
      perAsset[asset].notional += notional;
      if (healthyAtFundamental.get(account)) st.totals.excess += notional;
    }
  },
  InstantLiquidation({ ctx, st, b, perAsset, healthyAtFundamental }, args) {
    const account = String(args.account).toLowerCase();
    serveSpell(st, account, b);
    const asset = ctx.assetByKey.get(String(args.marketId).toLowerCase()) ?? 0;
    const notional = fromWad(args.slice < 0n ? -args.slice : args.slice) * fromWad(args.priceWad);
    st.totals.liquidations++;
    st.totals.notional += notional;
    perAsset[asset].liq++;
    perAsset[asset].notional += notional;
    st.totals.traderCost += fromWad(args.bonusWad);
    if (healthyAtFundamental.get(account)) st.totals.excess += notional;
    const abs = args.slice < 0n ? -args.slice : args.slice;
    st.liquidatedBase[asset] += abs / 10n ** BigInt(18 - ctx.w.assets[asset].decimals);
  },
  Take({ ctx, st, perAsset, oracle }, args) {
    const info = st.auctions.get(args.id);
    if (!info) return;
    const price = fromWad(args.priceWad);
    const o = oracle[info.asset];
    if (info.kind !== LotKind.Collateral) {
      const disc = info.short ? price - o : o - price;
      // A pool lot's discount is the pool's cost (in lpPnlUsd), not the account's.
      if (info.kind === LotKind.Position) st.totals.traderCost += fromWad(args.amount) * disc;
      perAsset[info.asset].discounts.push((disc / o) * 100);
    } else {
      const qty = Number(args.amount) / 10 ** ctx.w.assets[info.asset].decimals;
      st.totals.traderCost += qty * o - fromWad(args.owedWad);
      perAsset[info.asset].discounts.push(((o - price) / o) * 100);
    }
  },
  Redo({ st, t }, args) {
    st.totals.traderCost += fromWad(args.rewardWad);
    const info = st.auctions.get(args.id);
    if (info) info.startTime = t;
  },
  Backstop({ st, oracle }, args) {
    const info = st.auctions.get(args.id);
    if (!info || info.kind === LotKind.Pool) return; // the pool keeps its own lot
    st.totals.traderCost += fromWad(args.lot < 0n ? -args.lot : args.lot) * oracle[info.asset] * (1 - AUCTION.floor);
  },
  AuctionEnded({ st }, args) {
    st.auctions.delete(args.id);
  },
  Backlogged({ ctx, st }, args) {
    st.backlog.set(ctx.assetByKey.get(String(args.marketId).toLowerCase()) ?? 0, args.backlog);
  },
  BacklogReleased({ ctx, st, t }, args) {
    const asset = ctx.assetByKey.get(String(args.marketId).toLowerCase()) ?? 0;
    st.backlog.set(asset, (st.backlog.get(asset) ?? 0n) - args.size);
    // The market's own pool lot (account zero): it joins a running one, which keeps its clock.
    joinLot(st, args.id, ZeroAddress, asset, LotKind.Pool, args.size, t, 0);
  },
  ShortfallSettled({ st }, args) {
    st.totals.shortfall += fromWad(args.shortfallWad);
  },
  LevelChanged({ st }, args) {
    if (Number(args.toLevel) > Number(args.fromLevel)) st.breakerTrips++;
  },
  ActionFailed({ ctx, st }, args) {
    st.failedActions.count++;
    const reason = ctx.decoder.reason(String(args.reason));
    const key = `${["kick", "take", "redo", "swap"][Number(args.kind)]}: ${reason}`;
    st.failedActions.reasons.set(key, (st.failedActions.reasons.get(key) ?? 0) + 1);
  },
};

/** A decoded event and the chain block it is in. */
interface BlockEvent {
  ev: LabEvent;
  bn: number;
}

/** The sub-blocks mined inside a block (sub-block bidding) and the oracle before the block. */
export interface Within {
  subs: { block: number | undefined; t: number }[];
  oracleBefore: number[];
}

/** Folds the block's events, in order, into the books; returns the accounts they touched. */
function applyEvents(books: BlockBooks, events: BlockEvent[], within: Within, mainT: number): Set<string> {
  const touched = new Set<string>();
  const subT = new Map(within.subs.map((x) => [x.block, x.t]));
  for (const { ev, bn } of events) {
    const t = subT.get(bn);
    books.t = t ?? mainT;
    books.oracle = t === undefined ? books.st.oracle : within.oracleBefore;
    const account = touchedAccount(books.st, ev);
    // A pool lot's Take/Redo names its origin account; its Backstop and AuctionEnded name none.
    if (account && account !== ZeroAddress) touched.add(account);
    (HANDLERS[ev.name] as (books: BlockBooks, args: LabEvent["args"]) => void)(books, ev.args);
  }
  return touched;
}

/** The block's series rows, one per asset. */
function seriesRows(books: BlockBooks, b: number, state: ChainState, levels: number[]): void {
  const { ctx, st, perAsset } = books;
  for (const a of ctx.w.assets) {
    const d = perAsset[a.index].discounts;
    st.series.push({
      block: b,
      phase: b < ctx.scenario.blocks ? "run" : "drain",
      asset: a.symbol,
      fundamentalUsd: fundamentalAt(ctx, a.index, b),
      venueUsd: state.venueUsd[a.index],
      oracleUsd: st.oracle[a.index],
      liquidations: perAsset[a.index].liq,
      liquidatedNotionalUsd: perAsset[a.index].notional,
      auctionsActive: [...st.auctions.values()].filter((x) => x.asset === a.index).length,
      clearingDiscountPct: d.length === 0 ? null : d.reduce((s, x) => s + x, 0) / d.length,
      insuranceUsd: state.insuranceUsd,
      breakerLevel: levels[a.index],
    });
  }
}

/**
 * Books block `b`, mined at `t` as block number `mined` (undefined if it held no transaction):
 * returns the accounts its events touched.
 */
export async function bookBlock(
  ctx: RunContext,
  st: RunState,
  b: number,
  t: number,
  mined: number | undefined,
  within: Within,
): Promise<Set<string>> {
  const { w, decoder } = ctx;
  const bn = mined ?? (await timed("blockNumber", () => w.chain.blockNumber()));
  const from = within.subs[0]?.block ?? bn;
  const logs = await timed("logs", () =>
    w.chain.logs(from, bn, [w.auctionAddr, w.vaultAddr, w.breakerAddr, ...w.agentAddrs.keepers], decoder.topics),
  );
  const state = await timed("state", () => blockState(w));
  for (const a of w.assets) st.venue[a.index][b] = state.venueUsd[a.index];

  const tEvents = performance.now();
  const events = logs
    .map((log) => ({ ev: decoder.decode(log), bn: Number(log.blockNumber) }))
    .filter((x): x is BlockEvent => x.ev !== null);
  const liquidated = liquidatedAccounts(events.map((x) => x.ev));
  charge("events", performance.now() - tEvents);
  const healthy = await healthyAtFundamental(ctx, liquidated, b, bn);

  const tEvents2 = performance.now();
  const perAsset = w.assets.map(() => ({ liq: 0, notional: 0, discounts: [] as number[] }));
  const books: BlockBooks = { ctx, st, b, t, oracle: st.oracle, perAsset, healthyAtFundamental: healthy };
  const touched = applyEvents(books, events, within, t);
  charge("events", performance.now() - tEvents2);
  const levels = w.breakerEnabled ? state.levels : w.assets.map(() => 0);
  st.lastState = state;
  if (levels.some((l) => l >= 2)) st.blocksPaused++;
  st.lastLevels = levels;
  seriesRows(books, b, state, levels);
  return touched;
}

/**
 * One run: a mode and a seed, from the populated snapshot, block by block with automine off.
 * Each block batches, in this order: oracle relayer rounds (and, in `full`, the dynamic engine's
 * `updatePrice`), arbitrage toward the fundamental, keepers (kicks, takes or redos, hedging),
 * momentum sellers, then the pool's hedger; then it is mined at its timestamp and its receipts,
 * events and state are collected. Failed transactions and failed actions inside a keeper's batch
 * are counted, never fatal.
 */
import { ZeroAddress, type EventFragment, type Interface, type Result } from "ethers";
import type { Scenario } from "../scenario";
import type { Metrics, ProgressFn, SeriesRow } from "../types";
import { TX_GAS_CAP, type RpcLog, type TxRequest } from "./chain";
import { drawdownPct, drawupPct } from "./paths";
import type { Trader } from "./population";
import { modeParams, type ModeParams } from "./modes";
import { AUCTION, AUCTION_BREAKER_DEFAULTS, QUOTE_DECIMALS, e8, fromWad, units, wad, type World } from "./world";
import { readMargins, scanLiquidatable, blockState, tokenBalance, type ChainState } from "./views";
import { sqrtAtUsd } from "./venue";
import { charge, timed } from "./profile";
import { HealthModel } from "./health";
import { LotKind, decodeAuctionId } from "../../lib/codec";

const MAX_UINT = (1n << 256n) - 1n;
const KICK_CHUNK = 12;
const TAKE_CHUNK = 25;
const RECALIBRATE_EVERY = 60;
const { Position: LOT_POSITION, Collateral: LOT_COLLATERAL, Pool: LOT_POOL } = LotKind;
/** The LotKind of an auction id (lib/codec, as AuctionHouse encodes it). */
const lotKind = (id: bigint): LotKind => decodeAuctionId(id).kind;

/** Events after which an account's exposure must be read again. */
const TOUCHING = new Set([
  "Kick",
  "Take",
  "Redo",
  "Backstop",
  "AuctionEnded",
  "InstantLiquidation",
  "ShortfallSettled",
]);

/** What the engine needs of a populated seed. */
export interface Populated {
  seed: number;
  traders: Trader[];
  /** Fundamental price per asset and block (index 0..blocks). */
  fundamental: number[][];
  /** The hedger's base balance when the pool is flat (base units per asset). */
  hedgerAnchors: bigint[];
  /** Chain timestamp of the snapshot. */
  startTime: number;
}

export interface RunOutput {
  metrics: Metrics;
  series: SeriesRow[];
  failures: { txs: number; actions: number; reasons: Record<string, number> };
}

interface AuctionInfo {
  account: string;
  asset: number;
  kind: number;
  /** A short position lot (its price rises over time). */
  short: boolean;
  /** Start (or last reset) of the price curve: the timestamp of its Kick or Redo block. */
  startTime: number;
}

/** The auction's price multiple m(t) (AuctionHouse._factor, stairstep curve) and staleness. */
export function auctionFactor(elapsedSec: number): { factor: number; stale: boolean } {
  const raw = AUCTION.buf * AUCTION.curveCut ** Math.floor(elapsedSec / AUCTION.curveStepSec);
  return { factor: Math.max(AUCTION.floor, raw), stale: elapsedSec > AUCTION.tailSec || raw < AUCTION.cusp };
}

/**
 * Applies the circuit breaker setting of a mode. On: the auction house reports auction health to
 * the deployed `CircuitBreaker`, and the oracle relayer pokes each market in the block of every
 * round it writes (and once at the start, to open the price window). Off: nobody pokes it and the
 * auction house reports nothing, so every level stays 0. The run starts from a snapshot taken
 * before any mode was applied, so a previous mode's setting never leaks into the next.
 */
export function applyBreaker(world: World, enabled: boolean): TxRequest[] {
  world.breakerEnabled = enabled;
  if (!enabled) return [];
  return [
    {
      from: world.admin,
      to: world.auctionAddr,
      data: world.ifaces.auction.encodeFunctionData("setBreakerConfig", [
        { breaker: world.breakerAddr, ...AUCTION_BREAKER_DEFAULTS },
      ]),
      gas: 200_000,
    },
  ];
}

/** A permissionless `poke(market)` sent by the relayer. */
function pokeTx(w: World, marketId: string): TxRequest {
  return {
    from: w.admin,
    to: w.breakerAddr,
    data: w.ifaces.breaker.encodeFunctionData("poke", [marketId]),
    gas: 500_000,
  };
}

/** Admin transactions that turn the populated world into `mode`. */
async function modeTxs(w: World, mode: ModeParams): Promise<TxRequest[]> {
  const txs: TxRequest[] = [];
  const current = await w.auction.params();
  const instant = mode.liquidation === "instant";
  const takeover = mode.poolTakeover;
  if (current.instantMode !== instant || current.poolTakeover !== takeover) {
    const p = {
      curve: current.curve,
      bufWad: current.bufWad,
      tailSec: current.tailSec,
      cuspWad: current.cuspWad,
      floorWad: current.floorWad,
      dustWad: current.dustWad,
      penaltyWad: current.penaltyWad,
      chipWad: current.chipWad,
      tipWad: current.tipWad,
      rewardCapWad: current.rewardCapWad,
      targetHealthWad: current.targetHealthWad,
      maxResets: current.maxResets,
      instantMode: instant,
      poolTakeover: takeover,
      instantBonusWad: current.instantBonusWad,
    };
    txs.push({
      from: w.admin,
      to: w.auctionAddr,
      data: w.ifaces.auction.encodeFunctionData("setParams", [p]),
      gas: 500_000,
    });
  }
  if (mode.throttle !== "off") {
    const t = mode.throttle;
    for (const a of w.assets)
      txs.push({
        from: w.admin,
        to: w.auctionAddr,
        data: w.ifaces.auction.encodeFunctionData("setMarketCapacity", [
          a.marketId,
          wad(Math.max(1_000, t.depthMultiple * a.depth1PctUsd)),
        ]),
        gas: 300_000,
      });
    if (t.windowSec !== 3600) throw new Error("lab: throttle windows other than 3600 s are not wired");
  }
  if (mode.thresholds === "dynamic")
    txs.push({
      from: w.admin,
      to: w.vaultAddr,
      data: w.ifaces.vault.encodeFunctionData("setRiskEngine", [await w.dynamicRisk.getAddress()]),
      gas: 1_000_000,
    });
  txs.push(...applyBreaker(w, mode.breaker));
  return txs;
}

export async function runOnce(
  w: World,
  scenario: Scenario,
  pop: Populated,
  modeName: string,
  progress?: { fn: ProgressFn; runIndex: number; runs: number },
): Promise<RunOutput> {
  const mode = modeParams(modeName);
  const step = scenario.blockTimeSec;
  const instant = mode.liquidation === "instant";
  const ksp = scenario.keepers;
  const latency = Math.max(1, ksp.latencyBlocks);
  const fund = pop.fundamental;
  const traderAccounts = pop.traders.filter((t) => t.opened).map((t) => t.address);
  const assetByKey = new Map<string, number>();
  for (const a of w.assets) {
    assetByKey.set(a.marketId.toLowerCase(), a.index);
    assetByKey.set(("0x" + BigInt(a.tokenAddr).toString(16).padStart(64, "0")).toLowerCase(), a.index);
  }
  const decimalsOf = (i: number): number => w.assets[i].decimals;

  let t = pop.startTime;
  let failedTxs = 0;
  let failedActions = 0;
  const failureReasons = new Map<string, number>();
  const sendAll = async (
    txs: TxRequest[],
  ): Promise<{ ok: boolean[]; gas: bigint; count: number; block: number | undefined }> => {
    const hashes = await timed("send", () => w.chain.sendBlock(txs));
    t += step;
    await timed("mine", () => w.chain.mine(t));
    const receipts = await timed("receipts", () => Promise.all(hashes.map((h) => w.chain.receipt(h))));
    if (receipts.some((r) => r === null)) throw new Error("lab: a block's transactions did not fit in it");
    const ok = receipts.map((r) => r !== null && r.status === "0x1");
    failedTxs += ok.filter((x) => !x).length;
    const gas = receipts.reduce((s, r) => s + BigInt(r?.gasUsed ?? 0), 0n);
    return { ok, gas, count: txs.length, block: receipts.length > 0 ? Number(receipts[0]?.blockNumber) : undefined };
  };

  // Mode setup block (not part of the simulated blocks).
  const setup = await sendAll(await modeTxs(w, mode));
  if (setup.ok.some((x) => !x)) throw new Error(`lab: applying mode ${modeName} failed`);
  failedTxs = 0;

  // Starting books.
  const s0 = await blockState(w);
  const startOracle = w.assets.map((a) => a.spec.initialPriceUsd);
  const keeperBook = async (oracle: number[]): Promise<number> => {
    if (w.agentAddrs.keepers.length === 0) return 0;
    const margins = await readMargins(w, w.agentAddrs.keepers, [], []);
    let v = 0;
    for (const [k, addr] of w.agentAddrs.keepers.entries()) {
      v += fromWad(margins[k].equityOracleWad);
      v += Number(await tokenBalance(w, w.usdcAddr, addr)) / 10 ** QUOTE_DECIMALS;
      // The spot inventory held when flat is outside the book: only what hedges the lots counts.
      for (const a of w.assets) {
        const held = (await tokenBalance(w, a.tokenAddr, addr)) - w.keeperAnchors[a.index];
        v += (Number(held) / 10 ** a.decimals) * oracle[a.index];
      }
    }
    return v;
  };
  const hedgerBook = async (oracle: number[]): Promise<number> => {
    let v = Number(await tokenBalance(w, w.usdcAddr, w.agentAddrs.hedger)) / 10 ** QUOTE_DECIMALS;
    for (const a of w.assets) {
      const held = (await tokenBalance(w, a.tokenAddr, w.agentAddrs.hedger)) - pop.hedgerAnchors[a.index];
      v += (Number(held) / 10 ** a.decimals) * oracle[a.index];
    }
    return v;
  };
  const keeper0 = await timed("books", () => keeperBook(startOracle));
  const hedger0 = await timed("books", () => hedgerBook(startOracle));

  // State tracked across blocks.
  const venue: number[][] = w.assets.map(() => []);
  const venueInit = s0.venueUsd;
  const venueAt = (a: number, b: number): number => (b < 0 ? venueInit[a] : venue[a][b]);
  const oracle = w.assets.map((a) => a.spec.initialPriceUsd);
  const lastWrite = w.assets.map(() => ({ price: 0, time: 0 }));
  w.assets.forEach((a, i) => {
    lastWrite[i] = { price: a.spec.initialPriceUsd, time: pop.startTime };
  });
  const health = new HealthModel(w);
  const decoder = new EventDecoder(w);
  await timed("calibrate", () => health.calibrate(traderAccounts, oracle));
  const scan = (): Promise<string[]> =>
    timed("scan", () => {
      const c = health.candidates(traderAccounts, oracle);
      charge("scanned accounts", 0, c.length);
      return scanLiquidatable(w, c);
    });
  const scans = new Map<number, string[]>();
  scans.set(-1, await scan());
  const realScans = new Set<number>([-1]);
  const auctions = new Map<bigint, AuctionInfo>();
  const m = {
    liquidations: 0,
    notional: 0,
    excess: 0,
    shortfall: 0,
    traderCost: 0,
    gas: 0n,
    txs: 0,
  };
  const series: SeriesRow[] = [];
  let breakerTrips = 0;
  let blocksPaused = 0;
  /** Effective breaker level per asset at the end of the last mined block (0 before any). */
  let lastLevels: number[] = w.assets.map(() => 0);
  /** The state after the last mined block (capacity and levels included). */
  let lastState: ChainState = s0;
  const momentum = scenario.population.momentum;
  let momentumSpent = 0;

  for (let b = 0; b < scenario.blocks; b++) {
    const tBuild = performance.now();
    const txs: TxRequest[] = [];
    const prevVenue = w.assets.map((a) => venueAt(a.index, b - 1));
    // 1. Oracle relayer.
    for (const a of w.assets) {
      const o = a.spec.oracle;
      const stale = o.stale !== undefined && b >= o.stale.fromBlock && b < o.stale.toBlock;
      if (stale) continue;
      const src =
        o.source === "venue" ? venueAt(a.index, b - o.latencyBlocks) : fund[a.index][Math.max(0, b - o.latencyBlocks)];
      const lw = lastWrite[a.index];
      const dev = Math.abs(src / lw.price - 1) * 10_000;
      if (dev < o.deviationBps && t + step - lw.time < o.heartbeatSec) continue;
      const answer = e8(src);
      txs.push({
        from: w.admin,
        to: a.feedAddr,
        data: w.ifaces.feed.encodeFunctionData("setAnswer", [answer]),
        gas: 100_000,
      });
      oracle[a.index] = Number(answer) / 1e8;
      lastWrite[a.index] = { price: oracle[a.index], time: t + step };
      if (mode.thresholds === "dynamic")
        txs.push({
          from: w.admin,
          to: await w.dynamicRisk.getAddress(),
          data: w.ifaces.risk.encodeFunctionData("updatePrice", [a.marketId]),
          gas: 400_000,
        });
      if (w.breakerEnabled) txs.push(pokeTx(w, a.marketId));
    }
    if (w.breakerEnabled && b === 0)
      for (const a of w.assets)
        if (!txs.some((x) => x.to === w.breakerAddr && x.data.includes(a.marketId.slice(2))))
          txs.push(pokeTx(w, a.marketId));
    // 2. Arbitrage toward the fundamental.
    const arbUsd = scenario.arbitrage.maxUsdPerBlock;
    if (arbUsd > 0)
      for (const a of w.assets)
        txs.push({
          from: w.admin,
          to: w.agentAddrs.arb,
          data: w.ifaces.agent.encodeFunctionData("swapToward", [
            a.index,
            sqrtAtUsd(a.shape, fund[a.index][b]),
            units(arbUsd / prevVenue[a.index], a.decimals),
            units(arbUsd, QUOTE_DECIMALS),
          ]),
          gas: 1_500_000,
        });
    // 3. Keepers and bidders.
    const outage = ksp.outage !== undefined && b >= ksp.outage.fromBlock && b < ksp.outage.toBlock;
    if (ksp.count > 0 && !outage) {
      // Keepers read the throttle first: no kick on a market without capacity (it would revert).
      const capacityOk = lastState.capacityOk;
      // ... and the breaker: no kicks on a market at level ≥ 2, no takes or redos at level 3.
      // Levels as of the last mined block: what the previous block's series row recorded.
      const breakerLevels = lastLevels;
      const marketOf = new Map(pop.traders.map((tr) => [tr.address.toLowerCase(), tr.asset]));
      const candidates = (scans.get(b - latency) ?? scans.get(-1) ?? []).filter((acc) => {
        const asset = marketOf.get(acc.toLowerCase()) ?? 0;
        return capacityOk[asset] && breakerLevels[asset] < 2;
      });
      // Only auctions a bidder would act on in this block: past its discount, or stale (redo).
      const now = t + step;
      const ids = [...auctions.keys()].filter((id) => {
        const info = auctions.get(id) as AuctionInfo;
        if (breakerLevels[info.asset] >= 3) return false;
        const f = auctionFactor(now - info.startTime);
        return f.stale || f.factor <= 1 - ksp.minDiscountBps / 10_000;
      });
      const infos = ids.map((id) => auctions.get(id) as AuctionInfo);
      const hedgeCaps = w.assets.map((a) =>
        instant ? MAX_UINT : units(ksp.hedgeUsdPerBlock / prevVenue[a.index], a.decimals),
      );
      for (let k = 0; k < ksp.count; k++) {
        const mine = candidates.filter((_, i) => (i + b) % ksp.count === k);
        const rot = ids.length === 0 ? 0 : (k * Math.ceil(ids.length / ksp.count)) % ids.length;
        const order = ids.map((_, i) => (i + rot) % ids.length);
        const takeIds = order.map((i) => ids[i]);
        const takeAssets = order.map((i) => w.assets[infos[i].asset].tokenAddr);
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
              ksp.minDiscountBps,
              w.keeperAnchors,
              last ? hedgeCaps : w.assets.map(() => 0n),
            ]),
            gas: Math.min(TX_GAS_CAP, 1_500_000 + 700_000 * kicks.length + 400_000 * tIds.length),
          });
        }
      }
    }
    // 4. Momentum sellers.
    if (momentum && momentumSpent < momentum.capitalUsd)
      for (const a of w.assets) {
        const drop = (1 - prevVenue[a.index] / venueInit[a.index]) * 100;
        if (drop < momentum.triggerDropPct) continue;
        const usd = Math.min(momentum.usdPerBlock, momentum.capitalUsd - momentumSpent);
        momentumSpent += usd;
        txs.push({
          from: w.admin,
          to: w.agentAddrs.momentum,
          data: w.ifaces.agent.encodeFunctionData("swapToward", [
            a.index,
            sqrtAtUsd(a.shape, a.spec.initialPriceUsd * 0.1),
            units(usd / prevVenue[a.index], a.decimals),
            0n,
          ]),
          gas: 1_500_000,
        });
      }
    // 5. The pool's hedger (in instant mode liquidations are hedged at once).
    const hedgerMode = scenario.hedger.mode;
    if (hedgerMode !== "off")
      for (const a of w.assets) {
        const cap =
          hedgerMode === "immediate" || instant
            ? MAX_UINT
            : units((scenario.hedger.usdPerBlock ?? 0) / prevVenue[a.index], a.decimals);
        txs.push({
          from: w.admin,
          to: w.agentAddrs.hedger,
          data: w.ifaces.agent.encodeFunctionData("hedgePool", [a.index, pop.hedgerAnchors[a.index], cap]),
          gas: 1_500_000,
        });
      }

    charge("build", performance.now() - tBuild);
    const res = await sendAll(txs);
    m.gas += res.gas;
    m.txs += res.count;
    const bn = res.block ?? (await timed("blockNumber", () => w.chain.blockNumber()));
    const logs = await timed("logs", () =>
      w.chain.logs(bn, bn, [w.auctionAddr, w.vaultAddr, w.breakerAddr, ...w.agentAddrs.keepers], decoder.topics),
    );
    const st = await timed("state", () => blockState(w));
    for (const a of w.assets) venue[a.index][b] = st.venueUsd[a.index];

    // Excess: liquidated accounts that were healthy at the fundamental price, on the state just
    // before this block (a historical call), with the vault's own equity re-marked.
    const tEvents = performance.now();
    const events = logs.map((log) => decoder.decode(log)).filter((ev): ev is LabEvent => ev !== null);
    const liquidated = new Set<string>();
    for (const ev of events) {
      if (ev.name === "Kick" && lotKind(BigInt(ev.args[0])) !== LOT_COLLATERAL)
        liquidated.add(String(ev.args[1]).toLowerCase());
      if (ev.name === "InstantLiquidation") liquidated.add(String(ev.args[0]).toLowerCase());
    }
    charge("events", performance.now() - tEvents);
    const healthyAtFundamental = new Map<string, boolean>();
    if (liquidated.size > 0) {
      const accs = [...liquidated];
      const margins = await timed("margins", () =>
        readMargins(
          w,
          accs,
          w.assets.map((a) => a.tokenAddr),
          w.assets.map((a) => wad(fund[a.index][b])),
          bn - 1,
        ),
      );
      accs.forEach((acc, i) =>
        healthyAtFundamental.set(acc, margins[i].ok && margins[i].equityWad >= margins[i].maintenanceWad),
      );
    }

    // Events of the block.
    const tEvents2 = performance.now();
    const perAsset = w.assets.map(() => ({ liq: 0, notional: 0, discounts: [] as number[] }));
    const touched = new Set<string>();
    for (const ev of events) {
      const args = ev.args;
      if (TOUCHING.has(ev.name)) {
        const id = ev.name === "Take" || ev.name === "Redo" ? BigInt(args[0]) : null;
        const account =
          id === null
            ? String(args[ev.name === "Kick" || ev.name === "Backstop" || ev.name === "AuctionEnded" ? 1 : 0])
            : auctions.get(id)?.account;
        // A pool lot's Take/Redo names its origin account; its Backstop and AuctionEnded name none.
        if (account && account !== ZeroAddress) touched.add(account);
      }
      switch (ev.name) {
        case "Kick": {
          const id = BigInt(args[0]);
          const account = String(args[1]).toLowerCase();
          const asset = assetByKey.get(String(args[2]).toLowerCase()) ?? 0;
          const kind = lotKind(id);
          auctions.set(id, { account, asset, kind, short: BigInt(args[3]) < 0n, startTime: t });
          m.liquidations++;
          perAsset[asset].liq++;
          m.traderCost += fromWad(BigInt(args[5]));
          if (kind !== LOT_COLLATERAL) {
            const notional = fromWad(BigInt(args[4]));
            m.notional += notional;
            perAsset[asset].notional += notional;
            if (healthyAtFundamental.get(account)) m.excess += notional;
          }
          break;
        }
        case "InstantLiquidation": {
          const account = String(args[0]).toLowerCase();
          const asset = assetByKey.get(String(args[1]).toLowerCase()) ?? 0;
          const slice = BigInt(args[2]);
          const notional = fromWad(slice < 0n ? -slice : slice) * fromWad(BigInt(args[3]));
          m.liquidations++;
          m.notional += notional;
          perAsset[asset].liq++;
          perAsset[asset].notional += notional;
          m.traderCost += fromWad(BigInt(args[5]));
          if (healthyAtFundamental.get(account)) m.excess += notional;
          break;
        }
        case "Take": {
          const id = BigInt(args[0]);
          const info = auctions.get(id);
          if (!info) break;
          const price = fromWad(BigInt(args[3]));
          const o = oracle[info.asset];
          const amount = BigInt(args[2]);
          if (info.kind !== LOT_COLLATERAL) {
            const disc = info.short ? price - o : o - price;
            // A pool lot's discount is the pool's cost (in lpPnlUsd), not the account's.
            if (info.kind === LOT_POSITION) m.traderCost += fromWad(amount) * disc;
            perAsset[info.asset].discounts.push((disc / o) * 100);
          } else {
            const qty = Number(amount) / 10 ** decimalsOf(info.asset);
            m.traderCost += qty * o - fromWad(BigInt(args[4]));
            perAsset[info.asset].discounts.push(((o - price) / o) * 100);
          }
          break;
        }
        case "Redo": {
          m.traderCost += fromWad(BigInt(args[3]));
          const info = auctions.get(BigInt(args[0]));
          if (info) info.startTime = t;
          break;
        }
        case "Backstop": {
          const info = auctions.get(BigInt(args[0]));
          if (!info || info.kind === LOT_POOL) break; // the pool keeps its own lot
          const lot = BigInt(args[2]);
          m.traderCost += fromWad(lot < 0n ? -lot : lot) * oracle[info.asset] * (1 - AUCTION.floor);
          break;
        }
        case "AuctionEnded":
          auctions.delete(BigInt(args[0]));
          break;
        case "ShortfallSettled":
          m.shortfall += fromWad(BigInt(args[1]));
          break;
        case "LevelChanged":
          if (Number(args[2]) > Number(args[1])) breakerTrips++;
          break;
        case "ActionFailed": {
          failedActions++;
          const reason = decoder.reason(String(args[2]));
          const key = `${["kick", "take", "redo", "swap"][Number(args[0])]}: ${reason}`;
          failureReasons.set(key, (failureReasons.get(key) ?? 0) + 1);
          break;
        }
      }
    }
    charge("events", performance.now() - tEvents2);
    const levels = w.breakerEnabled ? st.levels : w.assets.map(() => 0);
    lastState = st;
    if (levels.some((l) => l >= 2)) blocksPaused++;
    lastLevels = levels;
    for (const a of w.assets) {
      const d = perAsset[a.index].discounts;
      series.push({
        block: b,
        asset: a.symbol,
        fundamentalUsd: fund[a.index][b],
        venueUsd: st.venueUsd[a.index],
        oracleUsd: oracle[a.index],
        liquidations: perAsset[a.index].liq,
        liquidatedNotionalUsd: perAsset[a.index].notional,
        auctionsActive: [...auctions.values()].filter((x) => x.asset === a.index).length,
        clearingDiscountPct: d.length === 0 ? null : d.reduce((s, x) => s + x, 0) / d.length,
        insuranceUsd: st.insuranceUsd,
        breakerLevel: levels[a.index],
      });
    }
    const recalibrate = b % RECALIBRATE_EVERY === RECALIBRATE_EVERY - 1 ? traderAccounts : [...touched];
    if (recalibrate.length > 0) await timed("calibrate", () => health.calibrate(recalibrate, oracle));
    // Keepers act at b + latency on this scan: skip it when they will be out or absent.
    const user = b + latency;
    const keepersOut =
      ksp.count === 0 || (ksp.outage !== undefined && user >= ksp.outage.fromBlock && user < ksp.outage.toBlock);
    // Under static thresholds health moves only with the oracle (and slow funding): without a new
    // round and without touched accounts, the previous scan still holds.
    const wrote = txs.some((x) => w.assets.some((a) => a.feedAddr === x.to));
    const reuse = mode.thresholds === "static" && !wrote && touched.size === 0 && b % RECALIBRATE_EVERY !== 0;
    const previous = realScans.has(b - 1) ? scans.get(b - 1) : undefined;
    if (keepersOut) scans.set(b, []);
    else {
      scans.set(b, reuse && previous !== undefined ? previous : await scan());
      realScans.add(b);
    }
    scans.delete(b - latency - 1);
    if (progress && (b % 10 === 9 || b === scenario.blocks - 1))
      progress.fn({
        phase: "run",
        mode: modeName,
        seed: pop.seed,
        block: b + 1,
        blocks: scenario.blocks,
        runIndex: progress.runIndex,
        runs: progress.runs,
      });
  }

  // Closing books.
  const sEnd = await blockState(w);
  const endMargins = await timed("books", () => readMargins(w, traderAccounts, [], []));
  const latent = endMargins.reduce(
    (s, mg) => s + (mg.ok && mg.equityOracleWad < 0n ? -fromWad(mg.equityOracleWad) : 0),
    0,
  );
  const keeper1 = await timed("books", () => keeperBook(oracle));
  const hedger1 = await timed("books", () => hedgerBook(oracle));

  // Price metrics: per asset, the adverse move of the fundamental's own direction.
  let fundMove = 0;
  let venueMove = 0;
  let maxImpact = 0;
  let worstAsset = 0;
  for (const a of w.assets) {
    const f = fund[a.index].slice(0, scenario.blocks);
    const v = [venueInit[a.index], ...venue[a.index]];
    const rising = drawupPct(f) > drawdownPct(f);
    const fm = rising ? drawupPct(f) : drawdownPct(f);
    const vm = rising ? drawupPct(v) : drawdownPct(v);
    fundMove = Math.max(fundMove, fm);
    if (vm > venueMove) {
      venueMove = vm;
      worstAsset = a.index;
    }
    for (let i = 1; i < v.length; i++) maxImpact = Math.max(maxImpact, Math.abs(v[i] / v[i - 1] - 1) * 100);
  }
  const vw = venue[worstAsset];
  const rising =
    drawupPct(fund[worstAsset].slice(0, scenario.blocks)) > drawdownPct(fund[worstAsset].slice(0, scenario.blocks));
  let trough = 0;
  for (let i = 1; i < vw.length; i++) if (rising ? vw[i] > vw[trough] : vw[i] < vw[trough]) trough = i;
  let recovery = vw.length - trough;
  for (let i = trough; i < vw.length; i++)
    if (Math.abs(vw[i] / fund[worstAsset][i] - 1) <= 0.01) {
      recovery = i - trough;
      break;
    }

  const metrics: Metrics = {
    fundamentalDrawdownPct: round(fundMove, 4),
    venueDrawdownPct: round(venueMove, 4),
    amplification: round(fundMove > 1e-9 ? venueMove / fundMove : venueMove > 1e-9 ? Infinity : 1, 4),
    liquidations: m.liquidations,
    liquidatedNotionalUsd: round(m.notional, 2),
    excessLiquidatedNotionalUsd: round(m.excess, 2),
    badDebtUsd: round(m.shortfall + latent, 2),
    insuranceDrawdownUsd: round(s0.insuranceUsd - sEnd.insuranceUsd, 2),
    lpPnlUsd: round(sEnd.poolValueUsd - s0.poolValueUsd + (hedger1 - hedger0), 2),
    traderLiquidationCostUsd: round(m.traderCost, 2),
    keeperProfitUsd: round(keeper1 - keeper0, 2),
    maxBlockImpactPct: round(maxImpact, 4),
    recoveryBlocks: recovery,
    breakerTrips,
    blocksPaused,
    gasUsedTotal: Number(m.gas),
    txCount: m.txs,
  };
  return {
    metrics,
    series,
    failures: { txs: failedTxs, actions: failedActions, reasons: Object.fromEntries(failureReasons) },
  };
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A log the engine reads, decoded once. */
interface LabEvent {
  name: string;
  args: Result;
}

/** The events each block's log query asks for, by emitter (every other log is left on the node). */
const READ_EVENTS: [keyof World["ifaces"], string[]][] = [
  ["auction", ["Kick", "Take", "Redo", "Backstop", "AuctionEnded", "InstantLiquidation"]],
  ["vault", ["ShortfallSettled"]],
  ["breaker", ["LevelChanged"]],
  ["agent", ["ActionFailed"]],
];

/**
 * Decodes the events of READ_EVENTS, looking each one up by its first topic in a table built once
 * per world (ethers' `parseLog` searches the ABI and rehashes each event signature on every call,
 * which cost a sixth of a default run). A log is decoded only if its emitter is the contract the
 * event belongs to: the keepers for `ActionFailed`, the named contract for the rest.
 */
class EventDecoder {
  readonly topics: string[];
  private readonly byTopic = new Map<string, { iface: Interface; fragment: EventFragment; from: Set<string> }>();
  private readonly reasons = new Map<string, string>();
  private readonly errorIfaces: Interface[];

  constructor(w: World) {
    this.errorIfaces = [w.ifaces.auction, w.ifaces.vault, w.ifaces.risk];
    const emitters: Record<keyof World["ifaces"], string[]> = {
      agent: w.agentAddrs.keepers,
      lens: [],
      vault: [w.vaultAddr],
      auction: [w.auctionAddr],
      feed: [],
      risk: [],
      breaker: [w.breakerAddr],
    };
    for (const [key, names] of READ_EVENTS)
      for (const name of names) {
        const iface = w.ifaces[key];
        const fragment = iface.getEvent(name);
        if (fragment === null) throw new Error(`lab: ${key} has no event ${name}`);
        const from = new Set(emitters[key].map((a) => a.toLowerCase()));
        this.byTopic.set(fragment.topicHash, { iface, fragment, from });
      }
    this.topics = [...this.byTopic.keys()];
  }

  /** The custom error's name of a revert payload (its selector if no contract knows it), cached:
   * a run fails the same few ways many times. */
  reason(data: string): string {
    let name = this.reasons.get(data);
    if (name === undefined) {
      name = data.slice(0, 10);
      for (const iface of this.errorIfaces) {
        const e = iface.getError(data.slice(0, 10));
        if (e !== null) {
          name = e.name;
          break;
        }
      }
      this.reasons.set(data, name);
    }
    return name;
  }

  decode(log: RpcLog): LabEvent | null {
    const e = this.byTopic.get(log.topics[0]?.toLowerCase() ?? "");
    if (e === undefined || !e.from.has(log.address.toLowerCase())) return null;
    return { name: e.fragment.name, args: e.iface.decodeEventLog(e.fragment, log.data, log.topics) };
  }
}

/**
 * A minimal cascade driver for the fork tests, behind a small interface (`setupFork`,
 * `runCascade`). It drives the deployment that was forked (the Ignition deployment on the node,
 * or any FORK_URL target), so every kick can be checked against the state right before it. The
 * lab's engine (sim/engine, merged from branch `lab`) deploys a world of its own instead of using
 * the forked deployment, and a reduced thin-book run of it on a fork took ~3.5 minutes for two
 * modes: too slow for `npm test`. It is not used here.
 *
 * World (deliberately small):
 * - fundamental: ETH falls `dropPct` over `dropSteps` steps of `stepSec`, then holds;
 * - venue: one spot price with linear depth (`depthUsdPer1Pct` USD moves it 1%); arbitrageurs pull
 *   it toward the fundamental with at most `arbUsdPerStep` per step;
 * - oracle: the venue price is pushed into a fresh mock feed every step (installed on the fork by
 *   the impersonated admin, so real feeds of an external target are replaced too);
 * - keepers kick every liquidatable account each step;
 * - baseline (instant liquidation against the pool): the pool's hedger unwinds the liquidated
 *   notional on the venue at once, as do liquidators with seized collateral;
 * - full (auctions + throttle + dynamic RiskEngine): bidders take lots once the discount reaches
 *   `bidderMinDiscountBps` and hedge on the venue at `bidderHedgeUsdPerStep`.
 * The circuit breaker is not configured in this `full`: the lab (sim/) runs it; this test keeps to
 * the vault, the auction house with pool takeover, the throttle and the dynamic RiskEngine.
 */
import { decodeAuctionId, LotKind } from "../../lib/codec";
import { ZeroAddress, ZeroHash, type TransactionReceipt } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { AuctionHouse, MockAggregator, PerpVault, RiskEngine } from "../../typechain-types";
import { connect, type Bulwark } from "../../lib/client";
import { listLiquidatable } from "../../scripts/lib/actions";
import { auctionParams } from "../../lib/params";
import { DYNAMIC_ENGINE } from "../../sim/engine/modes";
import { drawdownPct } from "../../sim/engine/paths";

const WAD = 10n ** 18n;
export type Mode = "baseline" | "full";
export const MODES: readonly Mode[] = ["baseline", "full"];

export interface CascadeScenario {
  stepSec: number;
  steps: number;
  startStep: number;
  dropPct: number;
  dropSteps: number;
  depthUsdPer1Pct: number;
  arbUsdPerStep: number;
  bidderMinDiscountBps: number;
  bidderHedgeUsdPerStep: number;
  /** full: liquidation notional the market may start per throttle window (USD). */
  throttleUsdPerWindow: number;
  /** After the crash: up to `settleSteps` more steps, long (`settleStepSec`) while no auction runs. */
  settleSteps: number;
  settleStepSec: number;
}

export const THIN_BOOK_CRASH: CascadeScenario = {
  stepSec: 12,
  steps: 30,
  startStep: 3,
  dropPct: 10,
  dropSteps: 5,
  depthUsdPer1Pct: 1_000_000,
  arbUsdPerStep: 400_000,
  bidderMinDiscountBps: 100,
  bidderHedgeUsdPerStep: 150_000,
  throttleUsdPerWindow: 5_000_000,
  settleSteps: 150,
  settleStepSec: 300,
};

export interface ForkContext {
  hre: HardhatRuntimeEnvironment;
  b: Bulwark;
  vault: PerpVault;
  auction: AuctionHouse;
  admin: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  bidders: HardhatEthersSigner[];
  /** The ETH-USD market and the mock feed now pricing its oracle asset. */
  marketId: string;
  feed: MockAggregator;
  feedDecimals: number;
  /** Accounts with an ETH-USD position at the fork. */
  accounts: string[];
  initialPriceWad: bigint;
}

export interface KickRecord {
  account: string;
  block: number;
  /** isLiquidatable in the state right before the kick (the block before it). */
  liquidatableBefore: boolean;
  step: number;
}

export interface CascadeResult {
  mode: Mode;
  fundamentalDrawdownPct: number;
  venueDrawdownPct: number;
  amplification: number;
  kicks: KickRecord[];
  liquidatedNotionalUsd: number;
  /** Shortfalls settled during the run plus negative equity left at the end (USD). */
  badDebtUsd: number;
  /** Where the bad debt came from: settled shortfalls and negative equity left open. */
  shortfalls: { account: string; usd: number }[];
  /** Accounts liquidatable at the end and not in an auction. */
  unresolved: string[];
  venuePath: number[];
  steps: number;
}

const sendOk = async (tx: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> => {
  const r = await (await tx).wait();
  if (!r) throw new Error("no receipt");
  return r;
};

/** Finds an address holding DEFAULT_ADMIN_ROLE on the vault from its RoleGranted events. */
async function findAdmin(vault: PerpVault): Promise<string> {
  const env = process.env.FORK_ADMIN;
  if (env) return env;
  const grants = await vault.queryFilter(vault.filters.RoleGranted(ZeroHash), 0, "latest");
  for (const g of grants.reverse()) {
    if (await vault.hasRole(ZeroHash, g.args.account)) return g.args.account;
  }
  throw new Error("no DEFAULT_ADMIN_ROLE holder found on the vault: set FORK_ADMIN");
}

/**
 * On the freshly forked network: impersonates the admin, replaces every oracle feed by a mock at
 * its current answer, funds a keeper and bidders, and lists the ETH-USD population.
 */
export async function setupFork(
  hre: HardhatRuntimeEnvironment,
  vaultAddr: string,
  population: string[],
): Promise<ForkContext> {
  const { ethers } = hre;
  const b = await connect(hre, { addresses: JSON.stringify({ vault: vaultAddr }) });
  const vault = b.vault;
  const adminAddr = await findAdmin(vault);
  await hre.network.provider.request({
    method: "hardhat_setBalance",
    params: [adminAddr, "0x" + (10n ** 22n).toString(16)],
  });
  const admin = await ethers.getImpersonatedSigner(adminAddr);
  const auctionAddr = (await vault.queryFilter(vault.filters.RoleGranted(await vault.LIQUIDATOR_ROLE()), 0, "latest"))
    .map((g) => g.args.account)
    .at(-1);
  if (!auctionAddr) throw new Error("no liquidator (AuctionHouse) found on the vault");
  const auction = await ethers.getContractAt("AuctionHouse", auctionAddr);

  // Fresh mock feeds at the current answers, with a long heartbeat: the fork's clock may be far
  // ahead of an external target's last round.
  const router = b.oracle.connect(admin);
  const assets = new Set<string>(b.collaterals.slice(1).map((t) => t.address));
  for (const m of b.markets) assets.add((await vault.marketParams(m.id)).oracleAsset);
  const feeds = new Map<string, { feed: MockAggregator; decimals: number }>();
  for (const asset of assets) {
    const cfg = await b.oracle.feedOf(asset);
    const old = await ethers.getContractAt("MockAggregator", cfg.primary);
    const [, answer] = await old.latestRoundData();
    const feed = await (
      await ethers.getContractFactory("MockAggregator", admin)
    ).deploy(cfg.primaryDecimals, "fork feed", answer);
    await sendOk(router.setFeed(asset, await feed.getAddress(), 2 * 86_400, ZeroAddress, 0, 0));
    feeds.set(asset.toLowerCase(), { feed, decimals: Number(cfg.primaryDecimals) });
  }
  const market = b.markets.find((m) => m.name === "ETH-USD");
  if (!market) throw new Error("the forked vault has no ETH-USD market");
  const ethAsset = (await vault.marketParams(market.id)).oracleAsset;
  const { feed, decimals } = feeds.get(ethAsset.toLowerCase())!;

  const signers = await ethers.getSigners();
  const keeper = signers[1];
  const bidders = signers.slice(2, 6);
  const quote = await ethers.getContractAt("MockERC20", b.quote.address);
  const amount = 5_000_000n * 10n ** BigInt(b.quote.decimals);
  for (const bidder of bidders) {
    await sendOk(quote.connect(bidder).mint(bidder.address, amount));
    await sendOk(quote.connect(bidder).approve(await vault.getAddress(), amount));
    await sendOk(vault.connect(bidder).deposit(b.quote.address, amount));
  }

  let accounts = population;
  if (accounts.length === 0) {
    accounts = ((await listLiquidatable(b, { all: true, fromBlock: 0 })).accounts ?? []).map((a) => a.account);
  }
  const withEth: string[] = [];
  for (const a of accounts) if ((await vault.getPosition(a, market.id)).sizeWad !== 0n) withEth.push(a);
  return {
    hre,
    b,
    vault,
    auction,
    admin,
    keeper,
    bidders,
    marketId: market.id,
    feed,
    feedDecimals: decimals,
    accounts: withEth,
    initialPriceWad: await b.oracle.getPrice(ethAsset),
  };
}

/** Applies a mode's parameter set on the fork (as the admin). */
async function applyMode(ctx: ForkContext, mode: Mode, sc: CascadeScenario): Promise<RiskEngine | undefined> {
  const { hre, auction, admin, vault } = ctx;
  const p = await auction.params();
  const params = auctionParams(p, { instantMode: mode === "baseline", poolTakeover: mode === "full" });
  if (p.instantMode !== params.instantMode || p.poolTakeover !== params.poolTakeover)
    await sendOk(auction.connect(admin).setParams(params));
  if (mode === "baseline") return undefined;

  await sendOk(auction.connect(admin).setMarketCapacity(ctx.marketId, BigInt(sc.throttleUsdPerWindow) * WAD));
  const engine = await (
    await hre.ethers.getContractFactory("RiskEngine", admin)
  ).deploy(admin.address, await ctx.b.oracle.getAddress(), DYNAMIC_ENGINE.hardFloorBps);
  const { hardFloorBps: _floor, ...dynamicMarket } = DYNAMIC_ENGINE;
  for (const m of ctx.b.markets) {
    const oracleAsset = (await vault.marketParams(m.id)).oracleAsset;
    await sendOk(
      engine.configureMarket(m.id, {
        oracleAsset,
        // The lab's `full` parameter set (sim/engine/modes.ts): one set everywhere.
        ...dynamicMarket,
        depthUsdWad: BigInt(m.id === ctx.marketId ? sc.depthUsdPer1Pct : 50_000_000) * WAD,
      }),
    );
  }
  await sendOk(vault.connect(admin).setRiskEngine(await engine.getAddress()));
  return engine;
}

const usd = (wadValue: bigint): number => Number(wadValue) / 1e18;

/**
 * One cascade's state on the fork, shared by its phases (as the lab's RunState is by
 * sim/engine/phases/): each step runs the venue (bidders' hedging, then arbitrage), the relayer,
 * the keepers and the bidders, in that order.
 */
interface ForkRun {
  ctx: ForkContext;
  mode: Mode;
  sc: CascadeScenario;
  engine: RiskEngine | undefined;
  p0: number;
  /** Spot price of the virtual venue. */
  venue: number;
  /** Feed answer units per WAD. */
  scale: bigint;
  /** The last oracle answer written (feed decimals). */
  answer: bigint;
  step: number;
  /** A long post-crash step (no auction running). */
  settling: boolean;
  venuePath: number[];
  fundamentalPath: number[];
  kicks: KickRecord[];
  liquidatedNotional: number;
  /** Bidders' unhedged exposure (positive: to sell). */
  hedgeQueueUsd: number;
  running: Set<bigint>;
}

function fundamentalAt(run: ForkRun, step: number): number {
  const sc = run.sc;
  return run.p0 * (1 - (sc.dropPct / 100) * Math.min(Math.max(step - sc.startStep, 0) / sc.dropSteps, 1));
}

/** Sells `usdAmount` on the venue (negative: buys); linear depth. */
function sell(run: ForkRun, usdAmount: number): void {
  run.venue *= Math.max(1 - usdAmount / run.sc.depthUsdPer1Pct / 100, 0.01);
}

/** Per-step pace multiple: a settling step is `settleStepSec / stepSec` ordinary steps long. */
const pace = (run: ForkRun): number => (run.settling ? run.sc.settleStepSec / run.sc.stepSec : 1);

/** The venue phase: bidders hedge what they took at their pace, then arbitrage toward the fundamental. */
function venuePhase(run: ForkRun): void {
  const sc = run.sc;
  const f = fundamentalAt(run, run.step);
  if (run.hedgeQueueUsd !== 0) {
    const now =
      Math.sign(run.hedgeQueueUsd) * Math.min(Math.abs(run.hedgeQueueUsd), sc.bidderHedgeUsdPerStep * pace(run));
    sell(run, now);
    run.hedgeQueueUsd -= now;
  }
  // Arbitrageurs pull the venue toward the fundamental with finite capital per step.
  const gapUsd = ((f - run.venue) / run.venue) * 100 * sc.depthUsdPer1Pct;
  sell(run, -Math.sign(gapUsd) * Math.min(Math.abs(gapUsd), sc.arbUsdPerStep * pace(run)));
  run.venuePath.push(run.venue);
  run.fundamentalPath.push(f);
}

/** The relayer phase: an oracle round at the venue price, then the dynamic engine's observation. */
async function relayerPhase(run: ForkRun): Promise<void> {
  const { feed, keeper, marketId } = run.ctx;
  run.answer = (BigInt(Math.round(run.venue * 1e6)) * WAD) / 1_000_000n / run.scale;
  await sendOk(feed.connect(keeper).setAnswer(run.answer));
  if (run.engine) await sendOk(run.engine.connect(keeper).updatePrice(marketId));
}

/** A kick's logs: the liquidated notional, the instant-mode hedger's and liquidators' sales, the lot. */
function bookKick(run: ForkRun, receipt: TransactionReceipt): void {
  const { vault, auction } = run.ctx;
  for (const log of receipt.logs) {
    const ev = vault.interface.parseLog(log);
    // Takeover (full): the pool takes the slice at the kick and auctions it; its hedger leaves
    // what is on sale alone, so only instant mode sells here.
    if (ev?.name === "PositionLiquidated" && run.mode === "baseline") {
      const delta = ev.args.sizeDeltaWad as bigint;
      const n = usd(((delta < 0n ? -delta : delta) * (ev.args.priceWad as bigint)) / WAD);
      run.liquidatedNotional += n;
      // Instant: the pool's hedger unwinds at once (a closed long was hedged by spot the hedger held).
      sell(run, delta < 0n ? n : -n);
    } else if (ev?.name === "CollateralSeized") {
      sell(run, usd(ev.args.amount as bigint) * run.venue); // liquidators dump seized collateral (18-decimal WETH)
    }
    const ah = auction.interface.parseLog(log);
    if (ah?.name === "Kick") {
      run.running.add(ah.args.id as bigint);
      run.liquidatedNotional += usd(ah.args.tabWad as bigint);
    }
  }
}

/** Kicks `account` while it is liquidatable and not in liquidation (instant mode may need several slices). */
async function kickAccount(run: ForkRun, account: string): Promise<boolean> {
  const { vault, auction, keeper } = run.ctx;
  let kicked = false;
  for (let slice = 0; slice < 4; slice++) {
    const [liq] = await vault.isLiquidatable(account);
    if (!liq || (await vault.isInLiquidation(account))) break;
    let receipt: TransactionReceipt;
    try {
      receipt = await sendOk(auction.connect(keeper).kick(account));
    } catch (e) {
      if (process.env.FORK_DEBUG)
        console.log(`        ${run.mode} step ${run.step} kick failed: ${(e as Error).message.slice(0, 120)}`);
      break; // NoCapacity (throttle) or nothing left: try again next step
    }
    kicked = true;
    const [liquidatableBefore] = await vault.isLiquidatable(account, { blockTag: receipt.blockNumber - 1 });
    run.kicks.push({ account, block: receipt.blockNumber, step: run.step, liquidatableBefore });
    bookKick(run, receipt);
    // Takeover releases the account at once: a still-liquidatable account is kicked again
    // (the slice joins its pool lot).
  }
  return kicked;
}

/** The keepers' phase: kick everything liquidatable. Returns whether anything was kicked. */
async function keeperPhase(run: ForkRun): Promise<boolean> {
  let kicked = false;
  for (const account of run.ctx.accounts) if (await kickAccount(run, account)) kicked = true;
  return kicked;
}

/** A bidder's take of lot `id` at `price` if its discount reached the minimum; false if it did not take. */
async function bid(run: ForkRun, id: bigint, price: bigint, lot: bigint, bidderTurn: number): Promise<boolean> {
  const { auction, bidders } = run.ctx;
  const isPosition = decodeAuctionId(id).kind !== LotKind.Collateral; // a position or a pool lot
  const oracleWad = run.answer * run.scale;
  const shortLot = lot < 0n && isPosition;
  const discountBps = Number(
    shortLot ? ((price - oracleWad) * 10_000n) / oracleWad : ((oracleWad - price) * 10_000n) / oracleWad,
  );
  if (discountBps < run.sc.bidderMinDiscountBps) return false;
  const bidder = bidders[bidderTurn % bidders.length];
  const amount = lot < 0n ? -lot : lot;
  try {
    // auctionStatus rounds its price down, take rounds the clearing price for the account (up on
    // long and collateral lots): the two can differ by 1 wei, so allow 1 ppm.
    const limit = shortLot ? price - price / 1_000_000n : price + price / 1_000_000n;
    await sendOk(auction.connect(bidder).take(id, amount, limit, bidder.address, "0x"));
  } catch (e) {
    if (process.env.FORK_DEBUG)
      console.log(`        ${run.mode} take ${id} failed: ${(e as Error).message.slice(0, 400)}`);
    return true; // e.g. the bidder's margin: another bidder tries next step
  }
  const notional = usd((amount * price) / WAD);
  run.hedgeQueueUsd += shortLot ? -notional : notional;
  return true;
}

/** The bidders' phase: take lots whose discount reached their minimum; redo stale auctions. */
async function bidderPhase(run: ForkRun): Promise<void> {
  const { auction, keeper } = run.ctx;
  let bidderTurn = 0;
  for (const id of [...run.running]) {
    const [price, needsRedo, a] = await auction.auctionStatus(id);
    if (a.lot === 0n) {
      run.running.delete(id);
      continue;
    }
    if (needsRedo) {
      await sendOk(auction.connect(keeper).redo(id));
      continue;
    }
    if (await bid(run, id, price, a.lot, bidderTurn)) bidderTurn++;
  }
}

/** After the crash, with nothing running nor to hedge: whether no account is liquidatable any more. */
async function settled(run: ForkRun, busy: boolean): Promise<boolean> {
  if (run.step < run.sc.steps || busy || Math.abs(run.hedgeQueueUsd) >= 1) return false;
  for (const account of run.ctx.accounts) if ((await run.ctx.vault.isLiquidatable(account))[0]) return false;
  return true;
}

/** Bad debt: shortfalls settled since `fromBlock`, plus negative equity still open; and what is left unresolved. */
async function closingBooks(
  run: ForkRun,
  fromBlock: number,
): Promise<Pick<CascadeResult, "badDebtUsd" | "shortfalls" | "unresolved">> {
  const { hre, vault } = run.ctx;
  const toBlock = Number(await hre.network.provider.request({ method: "eth_blockNumber", params: [] }));
  let badDebt = 0;
  const shortfalls: { account: string; usd: number }[] = [];
  for (const ev of await vault.queryFilter(vault.filters.ShortfallSettled(), fromBlock, toBlock)) {
    badDebt += usd(ev.args.shortfallWad);
    shortfalls.push({ account: ev.args.account, usd: usd(ev.args.shortfallWad) });
  }
  const unresolved: string[] = [];
  for (const account of run.ctx.accounts) {
    const h = await vault.accountHealth(account);
    if (h.equityWad < 0n) badDebt += usd(-h.equityWad);
    if (h.equityWad < 0n) shortfalls.push({ account, usd: usd(-h.equityWad) });
    if ((await vault.isLiquidatable(account))[0] && !(await vault.isInLiquidation(account))) unresolved.push(account);
  }
  return { badDebtUsd: badDebt, shortfalls, unresolved };
}

/** Drives one cascade on the fork in `mode`. Call between evm_snapshot/evm_revert per mode. */
export async function runCascade(ctx: ForkContext, mode: Mode, sc: CascadeScenario): Promise<CascadeResult> {
  const provider = ctx.hre.network.provider;
  const engine = await applyMode(ctx, mode, sc);
  const fromBlock = Number(await provider.request({ method: "eth_blockNumber", params: [] }));
  const p0 = usd(ctx.initialPriceWad);
  const run: ForkRun = {
    ctx,
    mode,
    sc,
    engine,
    p0,
    venue: p0,
    scale: 10n ** BigInt(18 - ctx.feedDecimals),
    answer: 0n,
    step: 0,
    settling: false,
    venuePath: [],
    fundamentalPath: [],
    kicks: [],
    liquidatedNotional: 0,
    hedgeQueueUsd: 0,
    running: new Set<bigint>(),
  };
  const totalSteps = sc.steps + sc.settleSteps;
  let busy = true; // auctions running or kicks last step: bidders need fine time steps
  for (; run.step < totalSteps; run.step++) {
    // After the crash, time moves in long steps (throttle refills, smoothed price catches up),
    // except while auctions run: bidders take as soon as their discount is reached.
    run.settling = run.step >= sc.steps && !busy;
    await provider.request({ method: "evm_increaseTime", params: [run.settling ? sc.settleStepSec : sc.stepSec] });
    venuePhase(run);
    await relayerPhase(run);
    const kicked = await keeperPhase(run);
    await bidderPhase(run);
    busy = kicked || run.running.size > 0;
    if (await settled(run, busy)) break;
  }
  const fundamentalDrawdownPct = drawdownPct(run.fundamentalPath);
  const venueDrawdownPct = drawdownPct(run.venuePath);
  return {
    mode,
    fundamentalDrawdownPct,
    venueDrawdownPct,
    amplification: venueDrawdownPct / fundamentalDrawdownPct,
    kicks: run.kicks,
    liquidatedNotionalUsd: run.liquidatedNotional,
    ...(await closingBooks(run, fromBlock)),
    venuePath: run.venuePath,
    steps: run.step,
  };
}

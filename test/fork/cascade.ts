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
import { connect, type Bulwark } from "../../scripts/lib/client";
import { listLiquidatable } from "../../scripts/lib/actions";
import { DYNAMIC_ENGINE } from "../../sim/engine/modes";

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
  const params = {
    curve: p.curve,
    bufWad: p.bufWad,
    tailSec: p.tailSec,
    cuspWad: p.cuspWad,
    floorWad: p.floorWad,
    dustWad: p.dustWad,
    penaltyWad: p.penaltyWad,
    chipWad: p.chipWad,
    tipWad: p.tipWad,
    rewardCapWad: p.rewardCapWad,
    targetHealthWad: p.targetHealthWad,
    maxResets: p.maxResets,
    instantMode: mode === "baseline",
    poolTakeover: mode === "full",
    instantBonusWad: p.instantBonusWad,
  };
  if (p.instantMode !== params.instantMode || p.poolTakeover !== params.poolTakeover)
    await sendOk(auction.connect(admin).setParams(params));
  if (mode === "baseline") return undefined;

  await sendOk(auction.connect(admin).setMarketCapacity(ctx.marketId, BigInt(sc.throttleUsdPerWindow) * WAD));
  const engine = await (
    await hre.ethers.getContractFactory("RiskEngine", admin)
  ).deploy(admin.address, await ctx.b.oracle.getAddress(), DYNAMIC_ENGINE.hardFloorBps);
  for (const m of ctx.b.markets) {
    const oracleAsset = (await vault.marketParams(m.id)).oracleAsset;
    await sendOk(
      engine.configureMarket(m.id, {
        oracleAsset,
        // The lab's `full` parameter set (sim/engine/modes.ts): one set everywhere.
        volHalfLifeSec: DYNAMIC_ENGINE.volHalfLifeSec,
        liquidationHorizonSec: DYNAMIC_ENGINE.liquidationHorizonSec,
        smoothingHalfLifeSec: DYNAMIC_ENGINE.smoothingHalfLifeSec,
        volMultiplierBps: DYNAMIC_ENGINE.volMultiplierBps,
        initialVolBps: DYNAMIC_ENGINE.initialVolBps,
        baseImrBps: DYNAMIC_ENGINE.baseImrBps,
        baseMmrBps: DYNAMIC_ENGINE.baseMmrBps,
        maintenanceFractionBps: DYNAMIC_ENGINE.maintenanceFractionBps,
        maxMmrRisePerHourBps: DYNAMIC_ENGINE.maxMmrRisePerHourBps,
        impactFactorBps: DYNAMIC_ENGINE.impactFactorBps,
        depthUsdWad: BigInt(m.id === ctx.marketId ? sc.depthUsdPer1Pct : 50_000_000) * WAD,
      }),
    );
  }
  await sendOk(vault.connect(admin).setRiskEngine(await engine.getAddress()));
  return engine;
}

/** Largest peak-to-trough drop of a path, in percent. */
export function drawdownPct(path: number[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const x of path) {
    peak = Math.max(peak, x);
    worst = Math.max(worst, (peak - x) / peak);
  }
  return worst * 100;
}

const usd = (wadValue: bigint): number => Number(wadValue) / 1e18;

/** Drives one cascade on the fork in `mode`. Call between evm_snapshot/evm_revert per mode. */
export async function runCascade(ctx: ForkContext, mode: Mode, sc: CascadeScenario): Promise<CascadeResult> {
  const { hre, vault, auction, keeper, bidders, feed, marketId } = ctx;
  const provider = hre.network.provider;
  const engine = await applyMode(ctx, mode, sc);
  const fromBlock = Number(await provider.request({ method: "eth_blockNumber", params: [] }));

  const p0 = usd(ctx.initialPriceWad);
  let venue = p0;
  const fundamental = (step: number): number =>
    p0 * (1 - (sc.dropPct / 100) * Math.min(Math.max(step - sc.startStep, 0) / sc.dropSteps, 1));
  const sell = (usdAmount: number): void => void (venue *= Math.max(1 - usdAmount / sc.depthUsdPer1Pct / 100, 0.01));
  const venuePath: number[] = [];
  const fundamentalPath: number[] = [];
  const kicks: KickRecord[] = [];
  let liquidatedNotional = 0;
  let hedgeQueueUsd = 0; // bidders' unhedged exposure (positive: to sell)
  const running = new Set<bigint>();
  const scale = 10n ** BigInt(18 - ctx.feedDecimals);

  const totalSteps = sc.steps + sc.settleSteps;
  let step = 0;
  let busy = true; // auctions running or kicks last step: bidders need fine time steps
  for (; step < totalSteps; step++) {
    // After the crash, time moves in long steps (throttle refills, smoothed price catches up),
    // except while auctions run: bidders take as soon as their discount is reached.
    const settling = step >= sc.steps && !busy;
    await provider.request({ method: "evm_increaseTime", params: [settling ? sc.settleStepSec : sc.stepSec] });
    const f = fundamental(step);

    // Bidders hedge what they took, at their pace (full).
    if (hedgeQueueUsd !== 0) {
      const pace = sc.bidderHedgeUsdPerStep * (settling ? sc.settleStepSec / sc.stepSec : 1);
      const now = Math.sign(hedgeQueueUsd) * Math.min(Math.abs(hedgeQueueUsd), pace);
      sell(now);
      hedgeQueueUsd -= now;
    }
    // Arbitrageurs pull the venue toward the fundamental with finite capital per step.
    const gapUsd = ((f - venue) / venue) * 100 * sc.depthUsdPer1Pct;
    const arbCap = sc.arbUsdPerStep * (settling ? sc.settleStepSec / sc.stepSec : 1);
    sell(-Math.sign(gapUsd) * Math.min(Math.abs(gapUsd), arbCap));
    venuePath.push(venue);
    fundamentalPath.push(f);

    // Oracle round: the venue price, then the dynamic engine's observation.
    const answer = (BigInt(Math.round(venue * 1e6)) * WAD) / 1_000_000n / scale;
    await sendOk(feed.connect(keeper).setAnswer(answer));
    if (engine) await sendOk(engine.connect(keeper).updatePrice(marketId));

    // Keepers: kick everything liquidatable (instant mode may need several slices).
    let kickedThisStep = false;
    for (const account of ctx.accounts) {
      for (let slice = 0; slice < 4; slice++) {
        const [liq] = await vault.isLiquidatable(account);
        if (!liq || (await vault.isInLiquidation(account))) break;
        let receipt: TransactionReceipt;
        try {
          receipt = await sendOk(auction.connect(keeper).kick(account));
        } catch (e) {
          if (process.env.FORK_DEBUG)
            console.log(`        ${mode} step ${step} kick failed: ${(e as Error).message.slice(0, 120)}`);
          break; // NoCapacity (throttle) or nothing left: try again next step
        }
        kickedThisStep = true;
        const [liquidatableBefore] = await vault.isLiquidatable(account, { blockTag: receipt.blockNumber - 1 });
        kicks.push({ account, block: receipt.blockNumber, step, liquidatableBefore });
        for (const log of receipt.logs) {
          const ev = vault.interface.parseLog(log);
          // Takeover (full): the pool takes the slice at the kick and auctions it; its hedger leaves
          // what is on sale alone, so only instant mode sells here.
          if (ev?.name === "PositionLiquidated" && mode === "baseline") {
            const delta = ev.args.sizeDeltaWad as bigint;
            const n = usd(((delta < 0n ? -delta : delta) * (ev.args.priceWad as bigint)) / WAD);
            liquidatedNotional += n;
            // Instant: the pool's hedger unwinds at once (a closed long was hedged by spot the hedger held).
            sell(delta < 0n ? n : -n);
          } else if (ev?.name === "CollateralSeized") {
            sell(usd(ev.args.amount as bigint) * venue); // liquidators dump seized collateral (18-decimal WETH)
          }
          const ah = auction.interface.parseLog(log);
          if (ah?.name === "Kick") {
            running.add(ah.args.id as bigint);
            liquidatedNotional += usd(ah.args.tabWad as bigint);
          }
        }
        // Takeover releases the account at once: a still-liquidatable account is kicked again
        // (the slice joins its pool lot).
      }
    }

    // Bidders: take lots whose discount reached their minimum; redo stale auctions.
    let bidderTurn = 0;
    for (const id of [...running]) {
      const [price, needsRedo, a] = await auction.auctionStatus(id);
      if (a.lot === 0n) {
        running.delete(id);
        continue;
      }
      if (needsRedo) {
        await sendOk(auction.connect(keeper).redo(id));
        continue;
      }
      const isPosition = decodeAuctionId(id).kind !== LotKind.Collateral; // a position or a pool lot
      const oracleWad = answer * scale;
      const discountBps = Number(
        a.lot < 0n && isPosition
          ? ((price - oracleWad) * 10_000n) / oracleWad
          : ((oracleWad - price) * 10_000n) / oracleWad,
      );
      if (discountBps < sc.bidderMinDiscountBps) continue;
      const bidder = bidders[bidderTurn++ % bidders.length];
      const amount = a.lot < 0n ? -a.lot : a.lot;
      try {
        // auctionStatus rounds its price down, take rounds the clearing price for the account (up on
        // long and collateral lots): the two can differ by 1 wei, so allow 1 ppm.
        const shortLot = a.lot < 0n && isPosition;
        const limit = shortLot ? price - price / 1_000_000n : price + price / 1_000_000n;
        await sendOk(auction.connect(bidder).take(id, amount, limit, bidder.address, "0x"));
      } catch (e) {
        if (process.env.FORK_DEBUG)
          console.log(`        ${mode} take ${id} failed: ${(e as Error).message.slice(0, 400)}`);
        continue; // e.g. the bidder's margin: another bidder tries next step
      }
      const notional = usd((amount * price) / WAD);
      hedgeQueueUsd += a.lot < 0n && isPosition ? -notional : notional;
    }

    busy = kickedThisStep || running.size > 0;
    if (step >= sc.steps && !busy && Math.abs(hedgeQueueUsd) < 1) {
      let pending = false;
      for (const account of ctx.accounts) if ((await vault.isLiquidatable(account))[0]) pending = true;
      if (!pending) break;
    }
  }

  // Bad debt: shortfalls settled during the run, plus negative equity still open.
  const toBlock = Number(await provider.request({ method: "eth_blockNumber", params: [] }));
  let badDebt = 0;
  const shortfalls: { account: string; usd: number }[] = [];
  for (const ev of await vault.queryFilter(vault.filters.ShortfallSettled(), fromBlock, toBlock)) {
    badDebt += usd(ev.args.shortfallWad);
    shortfalls.push({ account: ev.args.account, usd: usd(ev.args.shortfallWad) });
  }
  const unresolved: string[] = [];
  for (const account of ctx.accounts) {
    const h = await vault.accountHealth(account);
    if (h.equityWad < 0n) badDebt += usd(-h.equityWad);
    if (h.equityWad < 0n) shortfalls.push({ account, usd: usd(-h.equityWad) });
    if ((await vault.isLiquidatable(account))[0] && !(await vault.isInLiquidation(account))) unresolved.push(account);
  }
  const fundamentalDrawdownPct = drawdownPct(fundamentalPath);
  const venueDrawdownPct = drawdownPct(venuePath);
  return {
    mode,
    fundamentalDrawdownPct,
    venueDrawdownPct,
    amplification: venueDrawdownPct / fundamentalDrawdownPct,
    kicks,
    liquidatedNotionalUsd: liquidatedNotional,
    badDebtUsd: badDebt,
    shortfalls,
    unresolved,
    venuePath,
    steps: step,
  };
}

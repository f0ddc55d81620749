/**
 * What the user tasks do, as functions returning plain JSON-ready objects (amounts as exact decimal
 * strings in human units: USD, base units, tokens). `tasks/user.ts` prints them; your own scripts
 * can call them directly after `connect(hre)`.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { decodeBytes32String } from "ethers";
import { type Bulwark, explainRevert, resolveMarket, resolveToken } from "../../lib/client";
import { BulwarkError } from "../../lib/errors";
import { BPS_PER_ONE, WAD, dec, divCeil, divFloor, parseAmount } from "../../lib/units";
import {
  accountAtLastPrices,
  assetName,
  isStalePrice,
  lastPrices,
  staleInfo,
  type LastPrice,
  type StaleInfo,
} from "./stale";

const REASONS = ["None", "BelowMaintenance", "BelowHardFloor"] as const;
export type Reason = (typeof REASONS)[number];
const reasonName = (r: bigint): Reason => REASONS[Number(r)] ?? "None";

// ------------------------------------------------------------------------------------ deposit

export interface DepositResult {
  account: string;
  token: string;
  tokenAddress: string;
  amount: string;
  /** "vault": trader collateral; "pool": LP deposit for pool shares. */
  target: "vault" | "pool";
  minted: boolean;
  approved: boolean;
  txHash: string;
  /** Vault collateral balance after (target vault), or pool shares held after (target pool). */
  balanceAfter: string;
}

export async function deposit(
  b: Bulwark,
  signer: HardhatEthersSigner,
  tokenArg: string,
  amountArg: string,
  opts: { pool?: boolean; mint?: boolean } = {},
): Promise<DepositResult> {
  const token = resolveToken(b, tokenArg);
  const amount = parseAmount("amount", amountArg, token.decimals);
  const target = opts.pool ? "pool" : "vault";
  if (opts.pool && token.address !== b.quote.address) {
    throw new BulwarkError(`the pool takes only the quote token ${b.quote.symbol}, not ${token.symbol}`);
  }
  const spender = opts.pool ? await b.pool.getAddress() : await b.vault.getAddress();
  const erc20 = token.contract.connect(signer);

  let minted = false;
  if (opts.mint) {
    const mock = (await b.hre.ethers.getContractAt("MockERC20", token.address)).connect(signer);
    await explainRevert(b, `mint ${token.symbol} (--mint works only with the local mock tokens)`, async () =>
      (await mock.mint(signer.address, amount)).wait(),
    );
    minted = true;
  }
  const balance = await erc20.balanceOf(signer.address);
  if (balance < amount) {
    throw new BulwarkError(
      `${signer.address} holds ${dec(balance, token.decimals)} ${token.symbol}, less than ${amountArg}` +
        " (on a local node, add --mint to mint mock tokens first)",
    );
  }
  let approved = false;
  if ((await erc20.allowance(signer.address, spender)) < amount) {
    await explainRevert(b, "approve", async () => (await erc20.approve(spender, amount)).wait());
    approved = true;
  }
  const receipt = await explainRevert(b, `deposit into the ${target}`, async () =>
    opts.pool
      ? (await b.pool.connect(signer).deposit(amount, signer.address)).wait()
      : (await b.vault.connect(signer).deposit(token.address, amount)).wait(),
  );
  let balanceAfter: string;
  if (opts.pool) {
    balanceAfter = dec(await b.pool.balanceOf(signer.address), Number(await b.pool.decimals()));
  } else if (token.address === b.quote.address) {
    balanceAfter = dec(await b.vault.quoteBalance(signer.address));
  } else {
    balanceAfter = dec(await b.vault.collateralBalance(signer.address, token.address));
  }
  return {
    account: signer.address,
    token: token.symbol,
    tokenAddress: token.address,
    amount: dec(amount, token.decimals),
    target,
    minted,
    approved,
    txHash: receipt?.hash ?? "",
    balanceAfter,
  };
}

// ------------------------------------------------------------------------------------ trade

export interface TradeResult {
  account: string;
  market: string;
  sizeDelta: string;
  /** Fill price previewed with `fillPrice` before sending. */
  expectedFillPrice: string;
  /** The acceptable price sent: preview × (1 ± slippage). */
  limitPrice: string;
  slippageBps: number;
  fillPrice: string;
  newSize: string;
  fee: string;
  realizedPnl: string;
  txHash: string;
}

export async function trade(
  b: Bulwark,
  signer: HardhatEthersSigner,
  marketArg: string,
  sizeArg: string,
  slippageBps: number,
): Promise<TradeResult> {
  const market = resolveMarket(b, marketArg);
  const size = parseAmount("size", sizeArg, 18, true);
  if (!Number.isInteger(slippageBps) || slippageBps < 0 || slippageBps >= 10_000) {
    throw new BulwarkError(`slippage must be whole basis points in [0, 10000): got ${slippageBps}`);
  }
  const bps = BigInt(slippageBps);
  const preview = await explainRevert(b, "fillPrice", () => b.vault.fillPrice(market.id, size));
  // A buy accepts up to preview × (1 + slippage), rounded up; a sell down to preview × (1 − slippage).
  const limit =
    size > 0n
      ? divCeil(preview * (BPS_PER_ONE + bps), BPS_PER_ONE)
      : divFloor(preview * (BPS_PER_ONE - bps), BPS_PER_ONE);
  const receipt = await explainRevert(b, "trade", async () => {
    const vault = b.vault.connect(signer);
    // 30% over the estimate: it runs at the pending timestamp and can miss funding accrual work
    // that the mined transaction then does.
    const gasLimit = ((await vault.trade.estimateGas(market.id, size, limit)) * 13n) / 10n;
    return (await vault.trade(market.id, size, limit, { gasLimit })).wait();
  });
  if (!receipt) throw new BulwarkError("trade: no receipt");
  const traded = receipt.logs
    .map((l) => b.vault.interface.parseLog(l))
    .find((ev) => ev !== null && ev.name === "Traded");
  if (!traded) throw new BulwarkError(`trade ${receipt.hash}: no Traded event`);
  return {
    account: signer.address,
    market: market.name,
    sizeDelta: dec(size),
    expectedFillPrice: dec(preview),
    limitPrice: dec(limit),
    slippageBps,
    fillPrice: dec(traded.args.fillPriceWad as bigint),
    newSize: dec(traded.args.newSizeWad as bigint),
    fee: dec(traded.args.feeWad as bigint),
    realizedPnl: dec(traded.args.realizedPnlWad as bigint),
    txHash: receipt.hash,
  };
}

// ------------------------------------------------------------------------------------ lp-redeem

export interface RedeemResult {
  account: string;
  /** Pool shares burned. */
  shares: string;
  /** Quote tokens paid to the account. */
  assets: string;
  token: string;
  txHash: string;
  /** Pool shares held after. */
  sharesAfter: string;
}

/** Burns `sharesArg` pool shares (or `all`: as many as `maxRedeem` allows now) for quote tokens. */
export async function lpRedeem(b: Bulwark, signer: HardhatEthersSigner, sharesArg: string): Promise<RedeemResult> {
  const decimals = Number(await b.pool.decimals());
  const max = await b.pool.maxRedeem(signer.address);
  let shares: bigint;
  if (sharesArg.trim().toLowerCase() === "all") {
    shares = max;
    if (shares === 0n) {
      const held = await b.pool.balanceOf(signer.address);
      throw new BulwarkError(
        held === 0n
          ? `${signer.address} holds no pool shares`
          : `${signer.address} holds ${dec(held, decimals)} pool shares but can redeem none now (no free liquidity)`,
      );
    }
  } else {
    shares = parseAmount("shares", sharesArg, decimals);
  }
  const receipt = await explainRevert(b, "redeem from the pool", async () =>
    (await b.pool.connect(signer).redeem(shares, signer.address, signer.address)).wait(),
  );
  // What was paid, from the pool's ERC-4626 Withdraw event (a preview may differ by accrual).
  const poolAddress = (await b.pool.getAddress()).toLowerCase();
  const paid = receipt!.logs
    .map((l) => (l.address.toLowerCase() === poolAddress ? b.pool.interface.parseLog(l) : null))
    .find((ev) => ev !== null && ev.name === "Withdraw");
  if (!paid) throw new BulwarkError(`redeem ${receipt!.hash}: no Withdraw event`);
  const assets = paid.args.assets as bigint;
  return {
    account: signer.address,
    shares: dec(shares, decimals),
    assets: dec(assets, b.quote.decimals),
    token: b.quote.symbol,
    txHash: receipt!.hash,
    sharesAfter: dec(await b.pool.balanceOf(signer.address), decimals),
  };
}

// ------------------------------------------------------------------------------------ withdraw

export interface WithdrawResult {
  account: string;
  token: string;
  tokenAddress: string;
  /** Token units sent to the account. */
  amount: string;
  source: "vault" | "pool";
  txHash: string;
  /** Vault collateral balance after (source vault), or pool shares held after (source pool). */
  balanceAfter: string;
}

/**
 * Takes `amountArg` of `tokenArg` (or `all`: the whole balance, in whole token units; from the
 * pool, what `maxWithdraw` allows) out of the vault, or with `pool` out of the LP pool.
 */
export async function withdraw(
  b: Bulwark,
  signer: HardhatEthersSigner,
  tokenArg: string,
  amountArg: string,
  opts: { pool?: boolean } = {},
): Promise<WithdrawResult> {
  const token = resolveToken(b, tokenArg);
  const source = opts.pool ? "pool" : "vault";
  if (opts.pool && token.address !== b.quote.address) {
    throw new BulwarkError(`the pool pays out only the quote token ${b.quote.symbol}, not ${token.symbol}`);
  }
  const scale = 10n ** BigInt(18 - token.decimals);
  let amount: bigint;
  if (amountArg.trim().toLowerCase() === "all") {
    if (opts.pool) amount = await b.pool.maxWithdraw(signer.address);
    else if (token.address === b.quote.address) {
      const q = await b.vault.quoteBalance(signer.address);
      amount = q > 0n ? q / scale : 0n;
    } else amount = (await b.vault.collateralBalance(signer.address, token.address)) / scale;
    if (amount === 0n)
      throw new BulwarkError(`${signer.address} has no ${token.symbol} to withdraw from the ${source}`);
  } else {
    amount = parseAmount("amount", amountArg, token.decimals);
  }
  const receipt = await explainRevert(b, `withdraw from the ${source}`, async () =>
    opts.pool
      ? (await b.pool.connect(signer).withdraw(amount, signer.address, signer.address)).wait()
      : (await b.vault.connect(signer).withdraw(token.address, amount)).wait(),
  );
  let balanceAfter: string;
  if (opts.pool) balanceAfter = dec(await b.pool.balanceOf(signer.address), Number(await b.pool.decimals()));
  else if (token.address === b.quote.address) balanceAfter = dec(await b.vault.quoteBalance(signer.address));
  else balanceAfter = dec(await b.vault.collateralBalance(signer.address, token.address));
  return {
    account: signer.address,
    token: token.symbol,
    tokenAddress: token.address,
    amount: dec(amount, token.decimals),
    source,
    txHash: receipt?.hash ?? "",
    balanceAfter,
  };
}

/** Closes the signer's whole position in `marketArg` (a reduce-only trade of −size). */
export async function close(
  b: Bulwark,
  signer: HardhatEthersSigner,
  marketArg: string,
  slippageBps: number,
): Promise<TradeResult> {
  const market = resolveMarket(b, marketArg);
  const size = (await b.vault.getPosition(signer.address, market.id)).sizeWad;
  if (size === 0n) throw new BulwarkError(`${signer.address} has no ${market.name} position to close`);
  return trade(b, signer, market.name, dec(-size), slippageBps);
}

// ------------------------------------------------------------------------------------ set-price

export interface SetPriceResult {
  market: string;
  asset: string;
  feed: string;
  /** The new answer in USD (the feed's own decimals). */
  price: string;
  previous: string;
  txHash: string;
}

/** Local chain ids whose feeds are the project's mocks (Hardhat's and anvil's default). */
const LOCAL_CHAIN_IDS = new Set([31337, 1337]);

/**
 * Writes a new round to the primary mock feed of `marketArg`'s oracle asset, at the current
 * time (local networks only: a real Chainlink feed cannot be written). Refreshes a stale local
 * feed, or moves a price to try a crash.
 */
export async function setPrice(
  b: Bulwark,
  signer: HardhatEthersSigner,
  marketArg: string,
  priceArg: string,
): Promise<SetPriceResult> {
  if (!LOCAL_CHAIN_IDS.has(b.chainId)) {
    throw new BulwarkError(`set-price writes the local mock feeds only; chain ${b.chainId} is not a local network`);
  }
  const market = resolveMarket(b, marketArg);
  const asset = (await b.vault.marketParams(market.id)).oracleAsset;
  const feedInfo = await b.oracle.feedOf(asset);
  const feed = (await b.hre.ethers.getContractAt("MockAggregator", feedInfo.primary)).connect(signer);
  const decimals = Number(feedInfo.primaryDecimals);
  const answer = parseAmount("price", priceArg, decimals); // rejects zero, negatives and excess decimals
  const [, previous] = await feed.latestRoundData();
  const receipt = await explainRevert(b, "set-price (a MockAggregator)", async () =>
    (await feed.setAnswer(answer)).wait(),
  );
  return {
    market: market.name,
    asset,
    feed: feedInfo.primary,
    price: dec(answer, decimals),
    previous: dec(previous, decimals),
    txHash: receipt?.hash ?? "",
  };
}

// ------------------------------------------------------------------------------------ status

export interface PositionStatus {
  market: string;
  size: string;
  entryPrice: string;
  oraclePrice: string;
  notional: string;
  unrealizedPnl: string;
  imr: string;
  mmr: string;
  /** Oracle price at which equity = MM, all else fixed; null when no such positive price exists. */
  liquidationPrice: string | null;
  /** With a wick filter (hard floor < 1): price at which equity = hardFloor × MM (liquidatable at once). */
  hardFloorPrice: string | null;
}

export interface StatusResult {
  account: string;
  block: number;
  equity: string;
  initialMargin: string;
  maintenanceMargin: string;
  collateralValue: string;
  unrealizedPnl: string;
  accruedFunding: string;
  /** equity / MM; null without a requirement. Liquidatable below 1 (see `liquidatable`). */
  health: string | null;
  liquidatable: boolean;
  reason: Reason;
  inLiquidation: boolean;
  collateral: { token: string; balance: string; valueUsd: string }[];
  positions: PositionStatus[];
  /** Set when a price is stale: the figures are at the feeds' last prices (scripts/lib/stale.ts). */
  stale?: StaleInfo;
}

interface CollateralRow {
  token: string;
  address: string;
  balanceWad: bigint;
  valueWad: bigint;
  /** Balance × weight, in the token's units (WAD): the slope C of equity in its price. */
  weightedWad: bigint;
}

/** Every collateral balance of `account`, valued at the oracle and weighted (the quote at par). */
async function readCollateral(b: Bulwark, account: string): Promise<CollateralRow[]> {
  return await Promise.all(
    b.collaterals.map(async (t, i) => {
      if (i === 0) {
        const bal = await b.vault.quoteBalance(account);
        return { token: t.symbol, address: t.address, balanceWad: bal, valueWad: bal, weightedWad: 0n };
      }
      const [bal, cfg, price] = await Promise.all([
        b.vault.collateralBalance(account, t.address),
        b.vault.collateralConfig(t.address),
        b.oracle.getPrice(t.address),
      ]);
      const valueWad = (((bal * price) / WAD) * cfg.weightWad) / WAD;
      return {
        token: t.symbol,
        address: t.address,
        balanceWad: bal,
        valueWad,
        weightedWad: (bal * cfg.weightWad) / WAD,
      };
    }),
  );
}

interface PositionRow {
  snap: { marketId: string; oracleAsset: string; sizeWad: bigint; priceWad: bigint; notionalWad: bigint };
  entry: bigint;
  mmr: bigint;
  imr: bigint;
}

/** One position's row of `status`, with its liquidation prices (see `status` for the formula). */
function positionStatus(
  r: PositionRow,
  rows: PositionRow[],
  collateral: CollateralRow[],
  E0: bigint,
  MM0: bigint,
  hardFloor: bigint,
): PositionStatus {
  const asset = r.snap.oracleAsset.toLowerCase();
  const same = rows.filter((x) => x.snap.oracleAsset.toLowerCase() === asset);
  const S = same.reduce((acc, x) => acc + x.snap.sizeWad, 0n);
  const N = same.reduce((acc, x) => acc + ((x.snap.sizeWad < 0n ? -x.snap.sizeWad : x.snap.sizeWad) * x.mmr) / WAD, 0n);
  const C = collateral.filter((c) => c.address.toLowerCase() === asset).reduce((acc, c) => acc + c.weightedWad, 0n);
  const p0 = r.snap.priceWad;
  const solve = (floorWad: bigint): string | null => {
    const denom = (N * floorWad) / WAD - S - C;
    if (denom === 0n) return null;
    const p = p0 + ((E0 - (MM0 * floorWad) / WAD) * WAD) / denom; // truncation: toward p0
    return p > 0n ? dec(p) : null;
  };
  const size = r.snap.sizeWad;
  return {
    market: decodeBytes32String(r.snap.marketId),
    size: dec(size),
    entryPrice: dec(r.entry),
    oraclePrice: dec(p0),
    notional: dec(r.snap.notionalWad),
    unrealizedPnl: dec((size * (p0 - r.entry)) / WAD),
    imr: dec(r.imr),
    mmr: dec(r.mmr),
    liquidationPrice: solve(WAD),
    hardFloorPrice: hardFloor < WAD ? solve(hardFloor) : null,
  };
}

/**
 * An account's margin and per-position liquidation prices.
 *
 * Liquidation price of a position in market m (oracle asset A), holding every other price and the
 * accrued funding fixed. Equity and MM are linear in A's price p near the current price p0:
 *   E(p)  = E0  + (S + C) · (p − p0)      S = Σ sizes of the account's positions marked by A
 *                                          C = Σ balance × weight of collateral priced by A
 *   MM(p) = MM0 + N · (p − p0)            N = Σ |size| × mmr over the same positions
 * E(p) = MM(p) gives  p* = p0 + (E0 − MM0) / (N − S − C), rounded toward p0. With a wick filter
 * the account is liquidatable at p* once the smoothed price has crossed it too, and at once at
 * p_hf = p0 + (E0 − hf·MM0) / (hf·N − S − C). mmr is the engine's ratio at the current notional:
 * exact for the static engine; for the dynamic engine (mmr grows with notional, rises at a capped
 * rate) it is the first-order estimate.
 */
export async function status(b: Bulwark, account: string): Promise<StatusResult> {
  const [snap, inLiquidation, hardFloor, block] = await Promise.all([
    b.vault.liquidationSnapshot(account).catch((e: unknown) => {
      if (isStalePrice(e)) return null;
      return explainRevert(b, "liquidationSnapshot", () => Promise.reject(e));
    }),
    b.vault.isInLiquidation(account),
    b.engine.hardFloorWad(),
    b.hre.ethers.provider.getBlockNumber(),
  ]);
  if (snap === null) return staleStatus(b, account, block, inLiquidation, hardFloor);
  const h = snap.health;
  const collateral = await readCollateral(b, account);

  const rows = await Promise.all(
    snap.positions.map(async (p) => {
      const [pos, ratios] = await Promise.all([
        b.vault.getPosition(account, p.marketId),
        b.engine.marginRatios(p.marketId, p.notionalWad),
      ]);
      return { snap: p, entry: pos.entryPriceWad, mmr: ratios.mmrWad, imr: ratios.imrWad };
    }),
  );
  const E0 = h.equityWad;
  const MM0 = BigInt(h.maintenanceMarginWad);
  const positions = rows.map((r) => positionStatus(r, rows, collateral, E0, MM0, hardFloor));

  return {
    account,
    block,
    equity: dec(E0),
    initialMargin: dec(h.initialMarginWad),
    maintenanceMargin: dec(MM0),
    collateralValue: dec(h.collateralValueWad),
    unrealizedPnl: dec(h.unrealizedPnlWad),
    accruedFunding: dec(h.accruedFundingWad),
    health: MM0 > 0n ? dec((E0 * WAD) / MM0) : null,
    liquidatable: snap.liquidatable,
    reason: reasonName(snap.reason),
    inLiquidation,
    collateral: collateral
      .filter((c) => c.balanceWad !== 0n)
      .map((c) => ({ token: c.token, balance: dec(c.balanceWad), valueUsd: dec(c.valueWad) })),
    positions,
  };
}

/** `status` at the feeds' last prices, when the vault refuses a stale price (liquidation prices as usual). */
async function staleStatus(
  b: Bulwark,
  account: string,
  block: number,
  inLiquidation: boolean,
  hardFloor: bigint,
): Promise<StatusResult> {
  const a = await accountAtLastPrices(b, account);
  const liquidatable = a.equityWad < a.maintenanceMarginWad;
  const rows: PositionRow[] = a.positions.map((p) => ({
    snap: {
      marketId: p.marketId,
      oracleAsset: p.oracleAsset,
      sizeWad: p.sizeWad,
      priceWad: p.priceWad,
      notionalWad: p.notionalWad,
    },
    entry: p.entryWad,
    mmr: p.mmrWad,
    imr: p.imrWad,
  }));
  return {
    account,
    block,
    equity: dec(a.equityWad),
    initialMargin: dec(a.initialMarginWad),
    maintenanceMargin: dec(a.maintenanceMarginWad),
    collateralValue: dec(a.collateralValueWad),
    unrealizedPnl: dec(a.unrealizedPnlWad),
    accruedFunding: dec(a.fundingOwedWad),
    health: a.maintenanceMarginWad > 0n ? dec((a.equityWad * WAD) / a.maintenanceMarginWad) : null,
    liquidatable,
    reason: liquidatable ? "BelowMaintenance" : "None",
    inLiquidation,
    collateral: a.collateral.map((c) => ({ token: c.token, balance: dec(c.balanceWad), valueUsd: dec(c.valueWad) })),
    positions: rows.map((r) => positionStatus(r, rows, a.collateral, a.equityWad, a.maintenanceMarginWad, hardFloor)),
    stale: staleInfo(a.prices, (asset) => assetName(b, asset)),
  };
}

// ------------------------------------------------------------------------------------ liquidatable

export interface AccountRow {
  account: string;
  equity: string;
  maintenanceMargin: string;
  health: string | null;
  liquidatable: boolean;
  reason: Reason;
  /** A running auction holds the account (a new kick waits for it to end). */
  inLiquidation: boolean;
}

export interface LiquidatableResult {
  block: number;
  fromBlock: number;
  /** Distinct accounts seen in the vault's Deposited, Traded and PositionLiquidated events. */
  accountsScanned: number;
  liquidatable: AccountRow[];
  /** Every scanned account (only with `all`). */
  accounts?: AccountRow[];
}

/**
 * Accounts discovered from the vault's events (depositors, traders, and bidders who took
 * positions over), checked with `isLiquidatable` at the latest block. Logs are read in chunks of
 * `chunk` blocks from `fromBlock` (default: the vault's deployment block from Ignition's journal,
 * else 0).
 */
export async function listLiquidatable(
  b: Bulwark,
  opts: { fromBlock?: number; all?: boolean; chunk?: number } = {},
): Promise<LiquidatableResult> {
  const latest = await b.hre.ethers.provider.getBlockNumber();
  const fromBlock = opts.fromBlock ?? b.addresses.deployBlock ?? 0;
  const chunk = opts.chunk ?? 10_000;
  const seen = new Set<string>();
  const add = (a: string): void => void seen.add(b.hre.ethers.getAddress(a));
  for (let from = fromBlock; from <= latest; from += chunk) {
    const to = Math.min(from + chunk - 1, latest);
    const [deposits, trades, takeovers] = await Promise.all([
      b.vault.queryFilter(b.vault.filters.Deposited(), from, to),
      b.vault.queryFilter(b.vault.filters.Traded(), from, to),
      b.vault.queryFilter(b.vault.filters.PositionLiquidated(), from, to),
    ]);
    for (const ev of deposits) add(ev.args.account);
    for (const ev of trades) add(ev.args.account);
    for (const ev of takeovers) {
      add(ev.args.account);
      if (ev.args.to !== b.hre.ethers.ZeroAddress) add(ev.args.to);
    }
  }
  const accounts = [...seen].sort();
  const rows: AccountRow[] = [];
  for (let i = 0; i < accounts.length; i += 25) {
    rows.push(
      ...(await Promise.all(
        accounts.slice(i, i + 25).map(async (account): Promise<AccountRow> => {
          const [[liq, reason], h, inLiquidation] = await Promise.all([
            b.vault.isLiquidatable(account, { blockTag: latest }),
            b.vault.accountHealth(account, { blockTag: latest }),
            b.vault.isInLiquidation(account, { blockTag: latest }),
          ]);
          const mm = BigInt(h.maintenanceMarginWad);
          return {
            account,
            equity: dec(h.equityWad),
            maintenanceMargin: dec(mm),
            health: mm > 0n ? dec((h.equityWad * WAD) / mm) : null,
            liquidatable: liq,
            reason: reasonName(reason),
            inLiquidation,
          };
        }),
      )),
    );
  }
  const out: LiquidatableResult = {
    block: latest,
    fromBlock,
    accountsScanned: accounts.length,
    liquidatable: rows.filter((r) => r.liquidatable),
  };
  if (opts.all) out.accounts = rows;
  return out;
}

// ------------------------------------------------------------------------------------ pool status

export interface PoolStatusResult {
  block: number;
  pool: string;
  quoteToken: string;
  /** Pool value: realised balance minus traders' unrealised PnL plus unsettled funding (USD); null
   * when a price is stale (the vault cannot value the pool then). */
  poolValue: string | null;
  /** Realised quote the pool owns in the vault (USD). */
  poolBalance: string;
  /** What LPs can withdraw now (USD); null when a price is stale (no LP can withdraw then). */
  freeLiquidity: string | null;
  /** reserveRatio × Σ max(long, short) open notional at oracle prices (USD). */
  reserve: string;
  reserveRatio: string;
  totalShares: string;
  /** Quote tokens one whole pool share redeems for; null when a price is stale. */
  sharePrice: string | null;
  insuranceBalance: string;
  insuranceTarget: string;
  markets: { market: string; oraclePrice: string; openLong: string; openShort: string; fundingRatePerDay: string }[];
  /** Set when a price is stale: prices are the feeds' last ones, the funding rate the stored one. */
  stale?: StaleInfo;
}

export async function poolStatus(b: Bulwark): Promise<PoolStatusResult> {
  try {
    return await poolStatusAt(b);
  } catch (e) {
    if (!isStalePrice(e)) throw e;
    // The vault cannot value the pool on a stale price: the ledger, and open interest at the last prices.
    const params = await Promise.all(b.markets.map((m) => b.vault.marketParams(m.id)));
    return poolStatusAt(
      b,
      await lastPrices(
        b,
        params.map((p) => String(p.oracleAsset)),
      ),
    );
  }
}

/** `pool-status` at the oracle, or, given the feeds' last prices, without what needs a fresh one. */
async function poolStatusAt(b: Bulwark, last?: Map<string, LastPrice>): Promise<PoolStatusResult> {
  const [block, balance, ratio, supply, shareDecimals, insurance, target] = await Promise.all([
    b.hre.ethers.provider.getBlockNumber(),
    b.vault.poolBalance(),
    b.vault.reserveRatioWad(),
    b.pool.totalSupply(),
    b.pool.decimals(),
    b.vault.insuranceBalance(),
    b.insurance.targetBalanceWad(),
  ]);
  const [value, free, sharePrice] =
    last === undefined
      ? await Promise.all([
          b.vault.poolValue(),
          b.vault.poolFreeLiquidity(),
          b.pool.convertToAssets(10n ** shareDecimals),
        ])
      : [null, null, null];
  let openMax = 0n;
  const markets = await Promise.all(
    b.markets.map(async (m) => {
      const [params, state] = await Promise.all([b.vault.marketParams(m.id), b.vault.marketState(m.id)]);
      const asset = String(params.oracleAsset);
      const price = last === undefined ? await b.oracle.getPrice(asset) : last.get(asset.toLowerCase())!.priceWad;
      const rate = last === undefined ? (await b.vault.currentFunding(m.id)).rateWad : BigInt(state.fundingRateWad);
      const [long, short] = [BigInt(state.oiLongWad), BigInt(state.oiShortWad)];
      openMax += ((long > short ? long : short) * price) / WAD;
      return {
        market: m.name,
        oraclePrice: dec(price),
        openLong: dec(long),
        openShort: dec(short),
        fundingRatePerDay: dec(rate),
      };
    }),
  );
  return {
    block,
    pool: await b.pool.getAddress(),
    quoteToken: b.quote.symbol,
    poolValue: value === null ? null : dec(value),
    poolBalance: dec(balance),
    freeLiquidity: free === null ? null : dec(free),
    reserve: dec(divCeil(openMax * ratio, WAD)),
    reserveRatio: dec(ratio),
    totalShares: dec(supply, Number(shareDecimals)),
    sharePrice: sharePrice === null ? null : dec(sharePrice, b.quote.decimals),
    insuranceBalance: dec(insurance),
    insuranceTarget: dec(target),
    markets,
    ...(last === undefined ? {} : { stale: staleInfo(last, (asset) => assetName(b, asset)) }),
  };
}

/**
 * User tasks: deposit, withdraw, lp-deposit, lp-redeem, trade, close, status, liquidatable, pool-status, and set-price
 * (local networks). Each runs against any network
 * (`--network localhost`) and finds the deployment in deploy/deployments/chain-<chainId>/, or in
 * `--addresses` / BULWARK_ADDRESSES / `--deployment-id`. Human-readable output by default, `--json`
 * for machine output. See docs/deploy.md for examples.
 */
import { task } from "hardhat/config";
import type { ConfigurableTaskDefinition, HardhatRuntimeEnvironment } from "hardhat/types";
import {
  close,
  deposit,
  lpRedeem,
  setPrice,
  withdraw,
  listLiquidatable,
  poolStatus,
  status,
  trade,
  type AccountRow,
  type DepositResult,
  type LiquidatableResult,
  type PoolStatusResult,
  type RedeemResult,
  type StatusResult,
  type TradeResult,
  type SetPriceResult,
  type WithdrawResult,
} from "../scripts/lib/actions";
import { connect, resolveAccount, resolveSigner, type Bulwark } from "../lib/client";
import { BulwarkError, describeRevert, findRevertData } from "../lib/errors";
import { intFlag } from "../scripts/lib/flags";
import type { StaleInfo } from "../scripts/lib/stale";
import { WAD, num, pct, usd } from "../lib/units";

interface CommonArgs {
  addresses?: string;
  deploymentId?: string;
  json: boolean;
}

/** Adds --addresses, --deployment-id and --json to a task. */
function common(t: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  return t
    .addOptionalParam(
      "addresses",
      "Deployment addresses: a deployed_addresses.json, its folder, or inline JSON (default: BULWARK_ADDRESSES, else deploy/deployments/chain-<chainId>/)",
    )
    .addOptionalParam("deploymentId", "Ignition deployment id under deploy/deployments/ (default chain-<chainId>)")
    .addFlag("json", "Print machine-readable JSON");
}

/**
 * Runs a task body: connects, then prints the result as text or JSON. A BulwarkError (bad input,
 * no deployment, a decoded revert) or any other contract revert prints one line (a sentence in
 * human units, lib/errors) and sets exit code 1; anything else is a bug and propagates with its
 * stack.
 */
async function run<T>(
  hre: HardhatRuntimeEnvironment,
  args: CommonArgs,
  body: (b: Bulwark) => Promise<T>,
  text: (r: T) => string,
  /** Validates the task's own flags before connecting (throws a BulwarkError naming the flag). */
  check?: () => void,
): Promise<T | undefined> {
  try {
    check?.();
    const b = await connect(hre, { addresses: args.addresses, deploymentId: args.deploymentId });
    const result = await body(b);
    console.log(args.json ? JSON.stringify(result, null, 2) : text(result));
    return result;
  } catch (e) {
    // A user mistake or a revert that no explainRevert caught (decoded by lib/errors): one line on
    // stderr (and a JSON error object with --json), exit code 1. Anything else is a bug.
    const message =
      e instanceof BulwarkError
        ? e.message
        : findRevertData(e) !== undefined
          ? `reverted: ${describeRevert(e)}`
          : undefined;
    if (message === undefined) throw e;
    if (args.json) console.log(JSON.stringify({ error: message }));
    console.error(`Error: ${message}`);
    process.exitCode = 1;
    return undefined;
  }
}

/** A WAD decimal string back to bigint, for display helpers. */
const w = (s: string): bigint => {
  const [i, f = ""] = s.replace("-", "").split(".");
  const v = BigInt(i) * WAD + BigInt((f + "0".repeat(18)).slice(0, 18));
  return s.startsWith("-") ? -v : v;
};

// ------------------------------------------------------------------------------------ deposit

common(
  task("deposit", "Deposits collateral into your Bulwark account (or quote into the LP pool with --pool)")
    .addParam("token", "Collateral symbol (USDC, WETH, WBTC) or address")
    .addParam("amount", "Amount in token units, e.g. 1000 or 0.5")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)")
    .addFlag("pool", "Deposit the quote token into the LiquidityPool for LP shares")
    .addFlag("mint", "Mint the amount first (local mock tokens only)"),
).setAction(
  async (args: CommonArgs & { token: string; amount: string; account?: string; pool: boolean; mint: boolean }, hre) =>
    run(
      hre,
      args,
      async (b) => deposit(b, await resolveSigner(hre, args.account), args.token, args.amount, args),
      (r: DepositResult) =>
        [
          `${r.account} deposited ${r.amount} ${r.token} into the ${r.target}` +
            `${r.minted ? " (minted first)" : ""}${r.approved ? " (approved)" : ""}`,
          `  tx ${r.txHash}`,
          r.target === "pool"
            ? `  pool shares held: ${r.balanceAfter}`
            : `  ${r.token} balance in the vault: ${r.balanceAfter}`,
        ].join("\n"),
    ),
);

// ------------------------------------------------------------------------------------ lp-deposit, lp-redeem

common(
  task("lp-deposit", "Deposits the quote token into the LiquidityPool for LP shares (deposit --pool)")
    .addParam("amount", "Amount of the quote token, e.g. 100000")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)")
    .addFlag("mint", "Mint the amount first (local mock tokens only)"),
).setAction(async (args: CommonArgs & { amount: string; account?: string; mint: boolean }, hre) =>
  run(
    hre,
    args,
    async (b) =>
      deposit(b, await resolveSigner(hre, args.account), b.quote.symbol, args.amount, { pool: true, mint: args.mint }),
    (r: DepositResult) =>
      [
        `${r.account} deposited ${r.amount} ${r.token} into the pool${r.minted ? " (minted first)" : ""}`,
        `  tx ${r.txHash}`,
        `  pool shares held: ${r.balanceAfter}`,
      ].join("\n"),
  ),
);

common(
  task("lp-redeem", "Burns LP shares for the quote token at the pool's share price")
    .addParam("shares", "Pool shares to burn, e.g. 1000, or `all` (as many as the free liquidity allows)")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)"),
).setAction(async (args: CommonArgs & { shares: string; account?: string }, hre) =>
  run(
    hre,
    args,
    async (b) => lpRedeem(b, await resolveSigner(hre, args.account), args.shares),
    (r: RedeemResult) =>
      [
        `${r.account} redeemed ${r.shares} pool shares for ${r.assets} ${r.token}`,
        `  tx ${r.txHash}`,
        `  pool shares held: ${r.sharesAfter}`,
      ].join("\n"),
  ),
);

// ------------------------------------------------------------------------------------ trade

common(
  task("trade", "Opens, changes or closes a position at the vault's fill price, with a slippage bound")
    .addParam("market", "Market name, e.g. ETH-USD or BTC-USD")
    .addParam("size", "Signed size in base units: 2.5 buys, -2.5 sells")
    .addOptionalParam("slippageBps", "Accepted move from the previewed fill price, in basis points", "50")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)"),
).setAction(async (args: CommonArgs & { market: string; size: string; slippageBps: string; account?: string }, hre) =>
  run(
    hre,
    args,
    async (b) =>
      trade(
        b,
        await resolveSigner(hre, args.account),
        args.market,
        args.size,
        intFlag("slippageBps", args.slippageBps, 0, 9_999) as number,
      ),
    (r: TradeResult) =>
      [
        `${r.account} ${w(r.sizeDelta) > 0n ? "bought" : "sold"} ${num(w(r.sizeDelta) < 0n ? -w(r.sizeDelta) : w(r.sizeDelta))} ${r.market} at ${usd(w(r.fillPrice))}` +
          ` (preview ${usd(w(r.expectedFillPrice))}, limit ${usd(w(r.limitPrice))}, ${r.slippageBps} bps)`,
        `  new size ${num(w(r.newSize))}, fee ${usd(w(r.fee))}, realized PnL ${usd(w(r.realizedPnl))}`,
        `  tx ${r.txHash}`,
      ].join("\n"),
    () => intFlag("slippageBps", args.slippageBps, 0, 9_999),
  ),
);

// ------------------------------------------------------------------------------------ withdraw and close

common(
  task("withdraw", "Withdraws collateral from your Bulwark account (or quote from the LP pool with --pool)")
    .addParam("token", "Collateral symbol (USDC, WETH, WBTC) or address")
    .addParam("amount", "Amount in token units, e.g. 1000 or 0.5, or `all`")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)")
    .addFlag("pool", "Withdraw the quote token from the LiquidityPool (burns LP shares)"),
).setAction(async (args: CommonArgs & { token: string; amount: string; account?: string; pool: boolean }, hre) =>
  run(
    hre,
    args,
    async (b) => withdraw(b, await resolveSigner(hre, args.account), args.token, args.amount, args),
    (r: WithdrawResult) =>
      [
        `${r.account} withdrew ${r.amount} ${r.token} from the ${r.source}`,
        `  tx ${r.txHash}`,
        r.source === "pool"
          ? `  pool shares held: ${r.balanceAfter}`
          : `  ${r.token} balance in the vault: ${r.balanceAfter}`,
      ].join("\n"),
  ),
);

common(
  task("close", "Closes your whole position in a market at the vault's fill price, with a slippage bound")
    .addParam("market", "Market name, e.g. ETH-USD or BTC-USD")
    .addOptionalParam("slippageBps", "Accepted move from the previewed fill price, in basis points", "50")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)"),
).setAction(async (args: CommonArgs & { market: string; slippageBps: string; account?: string }, hre) =>
  run(
    hre,
    args,
    async (b) =>
      close(
        b,
        await resolveSigner(hre, args.account),
        args.market,
        intFlag("slippageBps", args.slippageBps, 0, 9_999) as number,
      ),
    (r: TradeResult) =>
      [
        `${r.account} closed ${r.market} at ${usd(w(r.fillPrice))}: fee ${usd(w(r.fee))}, realized PnL ${usd(w(r.realizedPnl))}`,
        `  tx ${r.txHash}`,
      ].join("\n"),
    () => intFlag("slippageBps", args.slippageBps, 0, 9_999),
  ),
);

// ------------------------------------------------------------------------------------ set-price

common(
  task("set-price", "Local networks only: writes a new round to a market's mock price feed, at the current time")
    .addParam("market", "Market name, e.g. ETH-USD or BTC-USD")
    .addParam("price", "New price in USD, e.g. 2500 or 61234.5")
    .addOptionalParam("account", "Signer: index into the network's accounts or an address (default 0)"),
).setAction(async (args: CommonArgs & { market: string; price: string; account?: string }, hre) =>
  run(
    hre,
    args,
    async (b) => setPrice(b, await resolveSigner(hre, args.account), args.market, args.price),
    (r: SetPriceResult) =>
      [`${r.market}: price ${r.previous} → ${r.price} (feed ${r.feed})`, `  tx ${r.txHash}`].join("\n"),
  ),
);

// ------------------------------------------------------------------------------------ status

/** The note `status` and `pool-status` print when a price is stale (their figures are at the last prices). */
const staleLines = (stale: StaleInfo | undefined): string[] =>
  stale === undefined
    ? []
    : [
        `  at the last prices, stale since ${stale.since} (${stale.assets.join(", ")}): the vault refuses ` +
          `price-dependent actions until a new round` +
          (stale.assets.length > 0 ? `; on a local node: npx hardhat set-price --market <market> --price <usd>` : ""),
      ];

const orNa = (x: string | null, f: (x: string) => string): string => (x === null ? "n/a (stale price)" : f(x));

common(
  task(
    "status",
    "An account's equity, margin requirements, health and per-position liquidation prices",
  ).addOptionalParam("account", "Account: an address or an index into the network's accounts (default 0)"),
).setAction(async (args: CommonArgs & { account?: string }, hre) =>
  run(
    hre,
    args,
    async (b) => status(b, await resolveAccount(hre, args.account)),
    (r: StatusResult) => {
      const lines = [
        `account ${r.account} at block ${r.block}`,
        ...staleLines(r.stale),
        `  equity ${usd(w(r.equity))}   IM ${usd(w(r.initialMargin))}   MM ${usd(w(r.maintenanceMargin))}` +
          `   health ${r.health === null ? "n/a" : num(w(r.health), 18, 3)}` +
          `   ${r.liquidatable ? `LIQUIDATABLE (${r.reason})` : "healthy"}${r.inLiquidation ? "   IN LIQUIDATION" : ""}`,
        `  collateral ${usd(w(r.collateralValue))} (weighted, volatile assets)   uPnL ${usd(w(r.unrealizedPnl))}   funding owed ${usd(w(r.accruedFunding))}`,
      ];
      for (const c of r.collateral)
        lines.push(`  ${c.token.padEnd(6)} ${num(w(c.balance)).padStart(16)}  ${usd(w(c.valueUsd))}`);
      if (r.positions.length === 0) lines.push("  no positions");
      for (const p of r.positions) {
        lines.push(
          `  ${p.market.padEnd(8)} size ${num(w(p.size)).padStart(10)}  entry ${usd(w(p.entryPrice))}  oracle ${usd(w(p.oraclePrice))}` +
            `  notional ${usd(w(p.notional))}  uPnL ${usd(w(p.unrealizedPnl))}  mmr ${pct(w(p.mmr))}` +
            `  liq. price ${p.liquidationPrice === null ? "none" : usd(w(p.liquidationPrice))}` +
            (p.hardFloorPrice === null ? "" : ` (hard floor ${usd(w(p.hardFloorPrice))})`),
        );
      }
      return lines.join("\n");
    },
  ),
);

// ------------------------------------------------------------------------------------ liquidatable

const accountLine = (a: AccountRow): string =>
  `  ${a.account}  equity ${usd(w(a.equity)).padStart(14)}  MM ${usd(w(a.maintenanceMargin)).padStart(12)}` +
  `  health ${a.health === null ? "n/a" : num(w(a.health), 18, 3)}  ${a.liquidatable ? a.reason : "healthy"}` +
  (a.inLiquidation ? "  (in auction)" : "");

common(
  task("liquidatable", "Lists liquidatable accounts, discovered from the vault's events")
    .addOptionalParam("fromBlock", "First block to scan (default: the vault's deployment block)")
    .addOptionalParam("chunk", "Blocks per eth_getLogs request", "10000")
    .addFlag("all", "List every account seen, not only the liquidatable ones"),
).setAction(async (args: CommonArgs & { fromBlock?: string; chunk: string; all: boolean }, hre) =>
  run(
    hre,
    args,
    (b) =>
      listLiquidatable(b, {
        all: args.all,
        fromBlock: intFlag("fromBlock", args.fromBlock, 0),
        chunk: intFlag("chunk", args.chunk, 1),
      }),
    (r: LiquidatableResult) =>
      [
        `block ${r.block}: ${r.liquidatable.length} liquidatable of ${r.accountsScanned} accounts (events from block ${r.fromBlock})`,
        ...(r.accounts ?? r.liquidatable).map(accountLine),
      ].join("\n"),
    () => {
      intFlag("fromBlock", args.fromBlock, 0);
      intFlag("chunk", args.chunk, 1);
    },
  ),
);

// ------------------------------------------------------------------------------------ pool-status

common(task("pool-status", "LP pool value, share price, reserve, free liquidity and insurance balance")).setAction(
  async (args: CommonArgs, hre) =>
    run(
      hre,
      args,
      (b) => poolStatus(b),
      (r: PoolStatusResult) =>
        [
          `pool ${r.pool} (${r.quoteToken}) at block ${r.block}`,
          ...staleLines(r.stale),
          `  value ${orNa(r.poolValue, (x) => usd(w(x)))}   realised balance ${usd(w(r.poolBalance))}   free liquidity ${orNa(r.freeLiquidity, (x) => usd(w(x)))}`,
          `  reserve ${usd(w(r.reserve))} (${pct(w(r.reserveRatio))} of open notional)   shares ${num(w(r.totalShares), 18, 2)}`,
          `  share price ${orNa(r.sharePrice, (x) => `${x} ${r.quoteToken}`)}`,
          `  insurance ${usd(w(r.insuranceBalance))} (target ${usd(w(r.insuranceTarget))})`,
          ...r.markets.map(
            (m) =>
              `  ${m.market.padEnd(8)} oracle ${usd(w(m.oraclePrice))}  open long ${num(w(m.openLong))}  open short ${num(w(m.openShort))}` +
              `  funding ${pct(w(m.fundingRatePerDay), 4)}/day`,
          ),
        ].join("\n"),
    ),
);

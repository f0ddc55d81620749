/**
 * The user tasks against a running node, run as a user runs them: `npx hardhat <task> --network
 * localhost` child processes, asserting on their --json output and on chain state read directly.
 * Deploy → deposit (LP and traders) → trade → status (liquidation price checked on chain) →
 * crash → liquidatable → pool-status, plus the errors users hit.
 */
import { expect } from "chai";
import fs from "node:fs";
import { JsonRpcProvider, formatUnits as ethersFormatUnits, parseUnits, type JsonRpcSigner } from "ethers";
import { startNode, portInUse, type LocalNode } from "../../lib/devnode";
import {
  MockAggregator__factory,
  MockERC20__factory,
  PerpVault__factory,
  LiquidityPool__factory,
} from "../../typechain-types";
import type {
  DepositResult,
  LiquidatableResult,
  PoolStatusResult,
  RedeemResult,
  StatusResult,
  SetPriceResult,
  TradeResult,
  WithdrawResult,
} from "../../scripts/lib/actions";
import { addressOf, hardhat, hardhatJson, ignitionDeploy, testDeploymentId, type Deployment } from "./cli";

const WAD = 10n ** 18n;
const w = (s: string): bigint => parseUnits(s, 18);

describe("user tasks against a local node (child processes)", function () {
  let node: LocalNode;
  let dep: Deployment;
  let provider: JsonRpcProvider;
  let admin: JsonRpcSigner;
  let env: Record<string, string>;
  let at: string[]; // --network localhost --deployment-id <id>
  const accounts: string[] = [];

  before(async function () {
    node = await startNode();
    env = { LOCALHOST_RPC_URL: node.url };
    // One request per HTTP call: ethers otherwise holds each request 10 ms to batch it with others.
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
    admin = await provider.getSigner(0);
    for (let i = 0; i < 5; i++) accounts.push((await provider.getSigner(i)).address);
  });

  after(async function () {
    provider?.destroy();
    if (dep) fs.rmSync(dep.dir, { recursive: true, force: true });
    if (node) {
      await node.stop();
      expect(await portInUse(node.port), "node port still open").to.equal(false);
    }
  });

  it("deploys with the Ignition CLI (BulwarkLocal + local.json)", async function () {
    dep = await ignitionDeploy({
      module: "deploy/modules/BulwarkLocal.ts",
      parameters: "deploy/parameters/local.json",
      network: "localhost",
      chainId: node.chainId,
      deploymentId: testDeploymentId("tasks"),
      env,
    });
    at = ["--network", "localhost", "--deployment-id", dep.id];
    expect(await provider.getCode(addressOf(dep, "PerpVault"))).to.not.equal("0x");
    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    expect(await vault.pool()).to.equal(addressOf(dep, "LiquidityPool"));
  });

  it("deposit: an LP funds the pool, traders deposit USDC and WETH (approving as needed)", async function () {
    const lp = await hardhatJson<DepositResult>(
      ["deposit", "--token", "USDC", "--amount", "1000000", "--pool", "--mint", "--account", "1", ...at],
      env,
    );
    expect(lp).to.include({ target: "pool", token: "USDC", amount: "1000000", minted: true, approved: true });
    const pool = LiquidityPool__factory.connect(addressOf(dep, "LiquidityPool"), provider);
    expect(await pool.balanceOf(accounts[1])).to.be.greaterThan(0n);
    expect(await pool.totalAssets()).to.equal(1_000_000n * 10n ** 6n);

    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    const deposits: [number, string, string][] = [
      [2, "USDC", "10000"],
      [3, "usdc", "20000"], // symbols are case-insensitive
      [3, "WETH", "2"],
      [4, addressOf(dep, "USDC"), "10000"], // or an address
    ];
    for (const [i, token, amount] of deposits) {
      const r = await hardhatJson<DepositResult>(
        ["deposit", "--token", token, "--amount", amount, "--mint", "--account", String(i), ...at],
        env,
      );
      expect(r.account).to.equal(accounts[i]);
      expect(r.target).to.equal("vault");
      expect(r.balanceAfter).to.equal(token === "WETH" ? "2" : amount);
    }
    expect(await vault.quoteBalance(accounts[2])).to.equal(10_000n * WAD);
    expect(await vault.collateralBalance(accounts[3], addressOf(dep, "WETH"))).to.equal(2n * WAD);

    // Approvals are for the exact amount (never unlimited): a second deposit approves again.
    const again = await hardhatJson<DepositResult>(
      ["deposit", "--token", "USDC", "--amount", "1", "--mint", "--account", "4", ...at],
      env,
    );
    expect(again.approved).to.equal(true);
  });

  it("trade: longs and shorts at the previewed fill price within the slippage bound", async function () {
    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    const trades: [number, string, string][] = [
      [2, "ETH-USD", "50"], // alice: ~15x long
      [3, "eth-usd", "10"], // bob: ~1.3x long, with WETH collateral
      [4, "BTC-USD", "-0.5"], // carol: short BTC
    ];
    for (const [i, market, size] of trades) {
      const r = await hardhatJson<TradeResult>(
        ["trade", "--market", market, "--size", size, "--slippage-bps", "30", "--account", String(i), ...at],
        env,
      );
      expect(r.newSize).to.equal(size);
      expect(r.market).to.equal(market.toUpperCase());
      const fill = w(r.fillPrice);
      if (size.startsWith("-")) expect(fill).to.be.gte(w(r.limitPrice));
      else expect(fill).to.be.lte(w(r.limitPrice));
      expect(w(r.limitPrice)).to.equal(
        size.startsWith("-")
          ? (w(r.expectedFillPrice) * 9970n) / 10000n
          : (w(r.expectedFillPrice) * 10030n + 9999n) / 10000n,
      );
      const id = (await vault.marketIds()).find((m) => Buffer.from(m.slice(2, 16), "hex").toString() === r.market);
      expect((await vault.getPosition(accounts[i], id!)).sizeWad).to.equal(w(size));
    }
  });

  it("status: equity and requirements match the vault; the liquidation price is where health crosses 1", async function () {
    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    // BULWARK_ADDRESSES (a deployment folder) instead of --deployment-id.
    const r = await hardhatJson<StatusResult>(["status", "--account", accounts[2], "--network", "localhost"], {
      ...env,
      BULWARK_ADDRESSES: dep.dir,
    });
    const h = await vault.accountHealth(accounts[2], { blockTag: r.block });
    expect(w(r.equity)).to.equal(h.equityWad);
    expect(w(r.maintenanceMargin)).to.equal(h.maintenanceMarginWad);
    expect(w(r.initialMargin)).to.equal(h.initialMarginWad);
    expect(r.liquidatable).to.equal(false);
    expect(r.positions).to.have.length(1);
    const liq = w(r.positions[0].liquidationPrice!);
    // Long 50 ETH, ~$10k margin, mmr 2.5%: about $3000 - 6150/48.75 ≈ $2874.
    expect(liq).to.be.within(2_850n * WAD, 2_900n * WAD);

    const feed = MockAggregator__factory.connect(addressOf(dep, "EthUsdFeed"), admin);
    const e8 = (x: bigint): bigint => x / 10n ** 10n;
    await (await feed.setAnswer(e8((liq * 10_005n) / 10_000n))).wait(); // 0.05% above: still healthy
    expect((await vault.isLiquidatable(accounts[2]))[0]).to.equal(false);
    await (await feed.setAnswer(e8((liq * 9_995n) / 10_000n))).wait(); // 0.05% below: liquidatable
    expect((await vault.isLiquidatable(accounts[2]))[0]).to.equal(true);

    const after = await hardhatJson<StatusResult>(["status", "--account", "2", ...at], env);
    expect(after.liquidatable).to.equal(true);
    expect(after.reason).to.equal("BelowHardFloor"); // the static engine's hard floor is 1 × MM
    expect(w(after.health!)).to.be.lessThan(WAD);
  });

  it("liquidatable: after the crash lists exactly the undercollateralized account", async function () {
    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    const r = await hardhatJson<LiquidatableResult>(["liquidatable", "--all", ...at], env);
    expect(r.accountsScanned).to.equal(3); // alice, bob, carol; the LP deposited into the pool
    expect(r.liquidatable.map((a) => a.account)).to.deep.equal([accounts[2]]);
    for (const a of r.accounts!) {
      expect(a.liquidatable).to.equal((await vault.isLiquidatable(a.account, { blockTag: r.block }))[0]);
    }
    // Inline JSON addresses work too, and without --all only liquidatable accounts are listed.
    const inline = await hardhatJson<LiquidatableResult>(
      ["liquidatable", "--network", "localhost", "--addresses", JSON.stringify({ vault: addressOf(dep, "PerpVault") })],
      env,
    );
    expect(inline.accounts).to.equal(undefined);
    expect(inline.liquidatable.map((a) => a.account)).to.deep.equal([accounts[2]]);
  });

  it("pool-status: pool value, shares, reserve and insurance match the chain", async function () {
    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    const pool = LiquidityPool__factory.connect(addressOf(dep, "LiquidityPool"), provider);
    const r = await hardhatJson<PoolStatusResult>(["pool-status", ...at], env);
    const tag = { blockTag: r.block };
    expect(r.stale).to.equal(undefined);
    expect(w(r.poolValue!)).to.equal(await vault.poolValue(tag));
    expect(w(r.freeLiquidity!)).to.equal(await vault.poolFreeLiquidity(tag));
    expect(w(r.insuranceBalance)).to.equal(await vault.insuranceBalance(tag));
    expect(w(r.insuranceBalance)).to.be.greaterThan(0n); // a share of the trading fees
    expect(parseUnits(r.sharePrice!, 6)).to.equal(await pool.convertToAssets(10n ** (await pool.decimals()), tag));
    expect(r.reserveRatio).to.equal("0.25");
    expect(r.markets.map((m) => m.market)).to.deep.equal(["ETH-USD", "BTC-USD"]);
    expect(r.markets[0].openLong).to.equal("60");
    expect(r.markets[1].openShort).to.equal("0.5");
  });

  it("close and withdraw: a trader closes its position and takes its USDC out; an LP withdraws from the pool", async function () {
    const vault = PerpVault__factory.connect(addressOf(dep, "PerpVault"), provider);
    const pool = LiquidityPool__factory.connect(addressOf(dep, "LiquidityPool"), provider);
    const closed = await hardhatJson<TradeResult>(["close", "--market", "BTC-USD", "--account", "4", ...at], env);
    expect(closed.newSize).to.equal("0");
    expect(closed.sizeDelta).to.equal("0.5");
    const btc = (await vault.marketIds())[1];
    expect((await vault.getPosition(accounts[4], btc)).sizeWad).to.equal(0n);
    const quote = await vault.quoteBalance(accounts[4]);
    const out = await hardhatJson<WithdrawResult>(
      ["withdraw", "--token", "USDC", "--amount", "all", "--account", "4", ...at],
      env,
    );
    expect(out).to.include({ source: "vault", token: "USDC" });
    expect(parseUnits(out.amount, 6)).to.equal(quote / 10n ** 12n);
    expect(await vault.quoteBalance(accounts[4])).to.equal(quote % 10n ** 12n);
    const shares = await pool.balanceOf(accounts[1]);
    const lp = await hardhatJson<WithdrawResult>(
      ["withdraw", "--token", "USDC", "--amount", "1000", "--pool", "--account", "1", ...at],
      env,
    );
    expect(lp).to.include({ source: "pool", amount: "1000" });
    expect(await pool.balanceOf(accounts[1])).to.be.lessThan(shares);
    // set-price moves a local feed (and refreshes its timestamp).
    const set = await hardhatJson<SetPriceResult>(
      ["set-price", "--market", "BTC-USD", "--price", "61234.5", ...at],
      env,
    );
    expect(set).to.include({ market: "BTC-USD", price: "61234.5" });
    const feed = MockAggregator__factory.connect(set.feed, provider);
    expect((await feed.latestRoundData())[1]).to.equal(6_123_450_000_000n);
    const bad = await hardhat(["set-price", "--market", "BTC-USD", "--price", "0", ...at], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr.trim()).to.equal("Error: price must not be zero");
    // Nothing left to close: one clear line, exit code 1.
    const again = await hardhat(["close", "--market", "BTC-USD", "--account", "4", ...at], env);
    expect(again.code).to.equal(1);
    expect(again.stderr.trim()).to.match(/^Error: .* has no BTC-USD position to close$/);
  });

  it("bad input and missing deployments fail with one clear line and exit code 1", async function () {
    // Input validation is unit-tested in lib.spec.ts; here, one of each kind through the CLI.
    const cases: [string[], string][] = [
      [
        ["trade", "--market", "DOGE-USD", "--size", "1", ...at],
        'unknown market "DOGE-USD"; listed markets: ETH-USD, BTC-USD',
      ],
      // Alice is liquidatable: a risk-increasing trade fails the margin check, decoded.
      [
        ["trade", "--market", "ETH-USD", "--size", "1", "--account", "2", ...at],
        "of margin required (Undercollateralized)",
      ],
      [
        ["status", "--network", "localhost", "--deployment-id", "no-such-deployment"],
        `no deployment found for chain id ${node.chainId}`,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await hardhat(args, env);
      expect(r.code, args.join(" ")).to.equal(1);
      expect(r.stderr).to.include(message);
      expect(r.stderr).to.not.include("    at "); // no stack trace
    }
  });

  it("status and pool-status on a stale oracle: the figures at the last prices, stale since when; set-price ends it", async function () {
    // Two hours idle: every local feed (heartbeat 1 h) is stale, and the vault refuses its prices.
    await provider.send("evm_increaseTime", [7_300]);
    await provider.send("evm_mine", []);
    const stale = await hardhatJson<StatusResult>(["status", "--account", "2", ...at], env);
    expect(stale.stale, "marked stale").to.not.equal(undefined);
    expect(stale.stale!.assets).to.include.members(["WETH"]);
    expect(Date.parse(stale.stale!.since)).to.be.lessThan(Date.now() + 86_400_000);
    expect(stale.positions.length).to.be.greaterThan(0);
    const text = await hardhat(["status", "--account", "2", ...at], env);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.match(/at the last prices, stale since \S+ \(.*WETH.*\)/);
    const pool = await hardhatJson<PoolStatusResult>(["pool-status", ...at], env);
    expect(pool.stale).to.not.equal(undefined);
    expect(pool.poolValue).to.equal(null);
    expect(pool.markets.map((m) => m.market)).to.deep.equal(["ETH-USD", "BTC-USD"]);

    // A new round at the same last prices: the vault's own figures equal those shown at the last
    // prices, up to the funding accrued over the idle time (they leave it out).
    for (const m of pool.markets) {
      await hardhatJson<SetPriceResult>(["set-price", "--market", m.market, "--price", m.oraclePrice, ...at], env);
    }
    const fresh = await hardhatJson<StatusResult>(["status", "--account", "2", ...at], env);
    expect(fresh.stale).to.equal(undefined);
    const diff = w(fresh.equity) - w(stale.equity);
    expect(diff < 0n ? -diff : diff, `equity ${fresh.equity} vs ${stale.equity} at the last prices`).to.be.lessThan(
      w("1"),
    );
    expect(fresh.maintenanceMargin).to.equal(stale.maintenanceMargin);
    expect(fresh.initialMargin).to.equal(stale.initialMargin);
    expect(fresh.positions.map((p) => p.liquidationPrice)).to.have.length(stale.positions.length);
  });

  it("lp-deposit and lp-redeem: an LP buys shares and burns them back for quote at the share price", async function () {
    const pool = LiquidityPool__factory.connect(addressOf(dep, "LiquidityPool"), provider);
    const dep1 = await hardhatJson<DepositResult>(
      ["lp-deposit", "--amount", "5000", "--mint", "--account", "3", ...at],
      env,
    );
    expect(dep1).to.include({ target: "pool", token: "USDC", amount: "5000", minted: true });
    const held = await pool.balanceOf(accounts[3]);
    expect(held).to.be.greaterThan(0n);
    const half = held / 2n;
    const expected = await pool.previewRedeem(half);
    const usdcBefore = await MockERC20__factory.connect(dep1.tokenAddress, provider).balanceOf(accounts[3]);
    const r = await hardhatJson<RedeemResult>(
      ["lp-redeem", "--shares", ethersFormatUnits(half, await pool.decimals()), "--account", "3", ...at],
      env,
    );
    expect(await pool.balanceOf(accounts[3])).to.equal(held - half);
    const usdcAfter = await MockERC20__factory.connect(dep1.tokenAddress, provider).balanceOf(accounts[3]);
    // What the task reports is what arrived (the Withdraw event); a preview a block earlier differs
    // only by accrual.
    expect(usdcAfter - usdcBefore).to.equal(parseUnits(r.assets, 6));
    const gap = usdcAfter - usdcBefore - expected;
    expect(gap < 0n ? -gap : gap).to.be.lessThan(expected / 10_000n);
    const all = await hardhatJson<RedeemResult>(["lp-redeem", "--shares", "all", "--account", "3", ...at], env);
    expect(all.sharesAfter).to.equal("0");
    const none = await hardhat(["lp-redeem", "--shares", "all", "--account", "3", ...at], env);
    expect(none.code).to.equal(1);
    expect(none.stderr.trim()).to.match(/^Error: 0x[0-9a-fA-F]{40} holds no pool shares$/);
  });
});

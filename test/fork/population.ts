/**
 * The pre-crash state: an LP pool and a trader population on a BulwarkLocal-style deployment
 * (mock quote and collateral tokens that anyone can mint). Works on any ethers provider: the
 * separate node before the fork, or the in-process fork for external targets.
 *
 * Population: ETH at $3,000; 36 ETH-USD longs at 3x-16x leverage (liquidation prices spread
 * from about -4% to -30%), 6 of them with WETH as part of their collateral, and 6 low-leverage
 * shorts. Deterministic: trader keys derive from fixed labels.
 */
import { Wallet, id, type JsonRpcProvider, type Signer } from "ethers";
import { MockERC20__factory, PerpVault__factory, LiquidityPool__factory } from "../../typechain-types";

const WAD = 10n ** 18n;
export const ETH_USD = "0x4554482d55534400000000000000000000000000000000000000000000000000";

export interface Trader {
  address: string;
  key: string;
  sizeWad: bigint;
  collateralUsd: number;
  wethCollateral: bigint;
}

export interface PopulationSpec {
  lpUsd: number;
  longs: number;
  shorts: number;
}

export const DEFAULT_POPULATION: PopulationSpec = { lpUsd: 30_000_000, longs: 36, shorts: 6 };

/** The traders of a population (addresses and sizes), without touching the chain. */
export function traders(spec: PopulationSpec = DEFAULT_POPULATION): Trader[] {
  const out: Trader[] = [];
  for (let i = 0; i < spec.longs + spec.shorts; i++) {
    const key = id(`bulwark-fork-trader-${i}`);
    const long = i < spec.longs;
    // Longs: leverage 3x..16x in even steps; notional $150k..$500k. Shorts: 2x-3x.
    const leverage = long ? 3 + (13 * i) / Math.max(spec.longs - 1, 1) : 2 + (i % 2);
    const notionalUsd = 150_000 + ((i * 7919) % 11) * 35_000;
    const collateralUsd = Math.round(notionalUsd / leverage);
    const sizeWad = (BigInt(Math.round((notionalUsd / 3000) * 1e6)) * WAD) / 1_000_000n;
    const weth = long && i % 6 === 5 ? 5n * WAD : 0n; // some hold 5 WETH besides USDC
    out.push({
      address: new Wallet(key).address,
      key,
      sizeWad: long ? sizeWad : -sizeWad,
      collateralUsd,
      wethCollateral: weth,
    });
  }
  return out;
}

/** Sets an account's ETH on a development node (hardhat or anvil) or an in-process fork. */
export async function setBalance(provider: JsonRpcProvider, address: string, wei: bigint): Promise<void> {
  const version = String(await provider.send("web3_clientVersion", []));
  const method = /anvil/i.test(version) ? "anvil_setBalance" : "hardhat_setBalance";
  await provider.send(method, [address, "0x" + wei.toString(16)]);
}

/**
 * Funds the pool and opens every trader's position. `admin` pays: it mints mock USDC/WETH and
 * deposits for each trader (`depositFor`); traders sign only their trade.
 */
export async function populate(
  provider: JsonRpcProvider,
  admin: Signer,
  addrs: { vault: string; pool: string; usdc: string; weth: string },
  spec: PopulationSpec = DEFAULT_POPULATION,
): Promise<Trader[]> {
  const adminAddr = await admin.getAddress();
  const vault = PerpVault__factory.connect(addrs.vault, admin);
  const pool = LiquidityPool__factory.connect(addrs.pool, admin);
  const usdc = MockERC20__factory.connect(addrs.usdc, admin);
  const weth = MockERC20__factory.connect(addrs.weth, admin);
  const ok = async (tx: Promise<{ wait(): Promise<unknown> }>): Promise<void> => void (await (await tx).wait());

  const list = traders(spec);
  const totalUsd = spec.lpUsd + list.reduce((a, t) => a + t.collateralUsd, 0);
  await ok(usdc.mint(adminAddr, BigInt(totalUsd) * 10n ** 6n));
  await ok(
    weth.mint(
      adminAddr,
      list.reduce((a, t) => a + t.wethCollateral, 0n),
    ),
  );
  await ok(usdc.approve(addrs.pool, BigInt(spec.lpUsd) * 10n ** 6n));
  await ok(usdc.approve(addrs.vault, BigInt(totalUsd) * 10n ** 6n));
  await ok(
    weth.approve(
      addrs.vault,
      list.reduce((a, t) => a + t.wethCollateral, 0n),
    ),
  );
  await ok(pool.deposit(BigInt(spec.lpUsd) * 10n ** 6n, adminAddr));

  for (const t of list) {
    await setBalance(provider, t.address, 10n * WAD);
    await ok(vault.depositFor(t.address, addrs.usdc, BigInt(t.collateralUsd) * 10n ** 6n));
    if (t.wethCollateral > 0n) await ok(vault.depositFor(t.address, addrs.weth, t.wethCollateral));
    const wallet = new Wallet(t.key, provider);
    const limit = t.sizeWad > 0n ? 3_100n * WAD : 2_900n * WAD;
    // An explicit gas limit: an estimate made at the pending timestamp can miss the funding
    // accrual the mined transaction then runs (seen on anvil as an out-of-gas revert).
    await ok(vault.connect(wallet).trade(ETH_USD, t.sizeWad, limit, { gasLimit: 2_000_000 }));
  }
  return list;
}

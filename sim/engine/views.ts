/**
 * Batched reads through SimLens and plain `eth_call`s: the engine's only view path. Account lists
 * are chunked so that one call stays well under the node's gas cap.
 */
import type { World } from "./world";
import { usdAtSqrt } from "./venue";

const CHUNK = 20;

export interface Margin {
  ok: boolean;
  equityWad: bigint;
  maintenanceWad: bigint;
  equityOracleWad: bigint;
  maintenanceOracleWad: bigint;
}

/** Accounts the vault would let a keeper kick now (reason 1 or 2). */
export async function scanLiquidatable(w: World, accounts: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < accounts.length; i += CHUNK) {
    const chunk = accounts.slice(i, i + CHUNK);
    const raw = await w.chain.call(w.lensAddr, w.ifaces.lens.encodeFunctionData("scan", [w.vaultAddr, chunk]));
    const [codes] = w.ifaces.lens.decodeFunctionResult("scan", raw) as unknown as [bigint[]];
    codes.forEach((c, j) => {
      if (Number(c) === 1 || Number(c) === 2) out.push(chunk[j]);
    });
  }
  return out;
}

/** Margins of `accounts` re-marked at `pricesWad` for `assets` (others at the oracle). */
export async function readMargins(
  w: World,
  accounts: string[],
  assets: string[],
  pricesWad: bigint[],
  blockTag?: number,
): Promise<Margin[]> {
  const out: Margin[] = [];
  for (let i = 0; i < accounts.length; i += CHUNK) {
    const chunk = accounts.slice(i, i + CHUNK);
    const raw = await w.chain.call(
      w.lensAddr,
      w.ifaces.lens.encodeFunctionData("marginsAt", [w.vaultAddr, chunk, assets, pricesWad]),
      undefined,
      blockTag,
    );
    const [rows] = w.ifaces.lens.decodeFunctionResult("marginsAt", raw) as unknown as [
      [boolean, bigint, bigint, bigint, bigint][],
    ];
    for (const r of rows)
      out.push({ ok: r[0], equityWad: r[1], maintenanceWad: r[2], equityOracleWad: r[3], maintenanceOracleWad: r[4] });
  }
  return out;
}

export interface ChainState {
  venueUsd: number[];
  insuranceUsd: number;
  poolValueUsd: number;
  /** Per asset: whether the auction throttle leaves at least dust of capacity for a kick. */
  capacityOk: boolean[];
  /** Per asset: the breaker's effective level (whether or not the mode reports to it). */
  levels: number[];
}

/** Capacity below this is no room for a kick. */
const CAPACITY_DUST_WAD = 100n * 10n ** 18n;

/** The state after the latest block: venue prices, books, and what keepers read before the next. */
export async function blockState(w: World): Promise<ChainState> {
  const raw = await w.chain.call(
    w.lensAddr,
    w.ifaces.lens.encodeFunctionData("blockState", [
      w.vaultAddr,
      w.assets.map((a) => a.pool),
      w.auctionAddr,
      w.breakerAddr,
      w.assets.map((a) => a.marketId),
    ]),
  );
  const [s] = w.ifaces.lens.decodeFunctionResult("blockState", raw) as unknown as [
    [bigint[], bigint, bigint, bigint, bigint[], bigint[]],
  ];
  return {
    venueUsd: s[0].map((sq, i) => usdAtSqrt(w.assets[i].shape, BigInt(sq))),
    insuranceUsd: Number(s[1]) / 1e18,
    poolValueUsd: Number(s[2]) / 1e18,
    capacityOk: s[4].map((c) => BigInt(c) >= CAPACITY_DUST_WAD),
    levels: s[5].map(Number),
  };
}

export async function tokenBalance(w: World, token: string, holder: string): Promise<bigint> {
  const raw = await w.chain.call(token, w.usdc.interface.encodeFunctionData("balanceOf", [holder]));
  return BigInt(raw);
}

/**
 * Auction ids, as AuctionHouse encodes them (`auctionId`): `(uint160(account) << 16) |
 * (uint8(kind) << 8) | index`, where `kind` is IAuctionHouse.LotKind and `index` the market index
 * (position and pool lots) or the collateral index (collateral lots). This module imports nothing
 * from the project: keeper, lab and tests share it.
 */

/** IAuctionHouse.LotKind, in the enum's order. */
export const LotKind = {
  /** An account's position slice, sold by auction. */
  Position: 0,
  /** An account's collateral, sold to raise its debt. */
  Collateral: 1,
  /** Takeover mode: the slice the pool took over at the kick, sold on the pool's behalf. */
  Pool: 2,
} as const;
export type LotKind = (typeof LotKind)[keyof typeof LotKind];

const KINDS: readonly number[] = Object.values(LotKind);
const UINT160 = (1n << 160n) - 1n;

export interface DecodedAuctionId {
  /** The account, checksum-free lowercase 0x-prefixed 20-byte hex. */
  account: string;
  kind: LotKind;
  index: number;
}

function toAccount(account: string | bigint): bigint {
  if (typeof account === "bigint") {
    if (account < 0n || account > UINT160) throw new RangeError(`auction id: account out of range: ${account}`);
    return account;
  }
  if (!/^0x[0-9a-fA-F]{40}$/.test(account)) throw new RangeError(`auction id: not a 20-byte address: ${account}`);
  return BigInt(account);
}

/** The id of the auction of `account`'s lot of `kind` at `index` (AuctionHouse.auctionId). */
export function auctionId(account: string | bigint, kind: LotKind, index: number | bigint): bigint {
  if (!KINDS.includes(Number(kind))) throw new RangeError(`auction id: unknown lot kind ${kind}`);
  const i = BigInt(index);
  if (i < 0n || i > 0xffn) throw new RangeError(`auction id: index out of range: ${index}`);
  return (toAccount(account) << 16n) | (BigInt(kind) << 8n) | i;
}

/**
 * The (account, kind, index) of an auction id, as AuctionHouse `_decode` reads it. Throws a
 * RangeError on an id no auction house emits (negative, wider than 176 bits, or an unknown kind).
 */
export function decodeAuctionId(id: bigint): DecodedAuctionId {
  if (id < 0n || id >> 176n !== 0n) throw new RangeError(`auction id out of range: ${id}`);
  const kind = Number((id >> 8n) & 0xffn);
  if (!KINDS.includes(kind)) throw new RangeError(`auction id ${id}: unknown lot kind ${kind}`);
  return {
    account: "0x" + (id >> 16n).toString(16).padStart(40, "0"),
    kind: kind as LotKind,
    index: Number(id & 0xffn),
  };
}

/** The keeper's name for each kind. */
export const LOT_KIND_NAMES = {
  [LotKind.Position]: "position",
  [LotKind.Collateral]: "collateral",
  [LotKind.Pool]: "pool",
} as const;
export type LotKindName = (typeof LOT_KIND_NAMES)[LotKind];

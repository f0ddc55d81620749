/**
 * Auction ids, as AuctionHouse encodes them (`auctionId`): `(uint160(account) << 16) |
 * (uint8(kind) << 8) | index`, where `kind` is IAuctionHouse.LotKind and `index` the market index
 * (position and pool lots) or the collateral index (collateral lots). This module imports nothing
 * from the project: keeper, lab and tests share it. Also the circuit breaker's levels and state words.
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

// ------------------------------------------------------------------ breaker words

/**
 * Circuit-breaker levels (docs/circuit-breakers.md, "Levels"). A market's effective level is the
 * higher of its own and the global one (key `bytes32(0)`).
 */
export enum BreakerLevel {
  /** Nothing changes. */
  Normal = 0,
  /** Risk-increasing trades need IM × `cautionImWad`; kicks use part of the capacity. */
  Caution = 1,
  /** No kicks, no risk-increasing trades, no LP withdrawals. */
  LiquidationPause = 2,
  /** A liquidation pause, plus no takes and no redo; withdrawals keep IM × `haltImWad`. */
  Halt = 3,
}

/** The docs' name of each level. */
export const BREAKER_LEVEL_NAMES: Record<BreakerLevel, string> = {
  [BreakerLevel.Normal]: "normal",
  [BreakerLevel.Caution]: "caution",
  [BreakerLevel.LiquidationPause]: "liquidation pause",
  [BreakerLevel.Halt]: "halt",
};

/** A level read from a contract (`uint8`/`uint256`) as a `BreakerLevel`; RangeError above 3. */
export function breakerLevel(value: number | bigint): BreakerLevel {
  const n = Number(value);
  if (!Number.isInteger(n) || n < BreakerLevel.Normal || n > BreakerLevel.Halt) {
    throw new RangeError(`breaker level out of range: ${value}`);
  }
  return n as BreakerLevel;
}

/** "2 (liquidation pause)". */
export const describeBreakerLevel = (level: BreakerLevel): string => `${level} (${BREAKER_LEVEL_NAMES[level]})`;

/** The fields of a breaker state word (`BreakerState`), as `CircuitBreaker.stateOf` returns it. */
export interface DecodedBreakerWord {
  /** The stored level, before recovery (`storedLevel`). */
  level: BreakerLevel;
  /** When the first step down happens, unix seconds. */
  stepAt: bigint;
  /** Cooldown of each further step, seconds. */
  stepSec: bigint;
  /** Hard end of the trip: the level is 0 from then on. */
  endAt: bigint;
  /** IM multiple for risk-increasing trades at caution (WAD; 1.0 when unset). Market words only. */
  cautionImWad: bigint;
  /** IM multiple a withdrawal must keep at halt (WAD; 1.0 when unset). Market words only. */
  haltImWad: bigint;
}

const ONE_WAD = 10n ** 18n;
const U32 = 0xffffffffn;
const U64 = (1n << 64n) - 1n;

/**
 * Decodes a state word as `BreakerState` lays it out: bits 0..7 level, 8..39 stepAt, 40..63
 * stepSec, 64..95 endAt, and on a market word 96..159 cautionImWad and 160..223 haltImWad.
 */
export function decodeBreakerWord(word: bigint): DecodedBreakerWord {
  if (word < 0n || word >> 256n !== 0n) throw new RangeError(`breaker word out of range: ${word}`);
  const caution = (word >> 96n) & U64;
  const halt = (word >> 160n) & U64;
  return {
    level: breakerLevel(word & 0xffn),
    stepAt: (word >> 8n) & U32,
    stepSec: (word >> 40n) & 0xffffffn,
    endAt: (word >> 64n) & U32,
    cautionImWad: caution === 0n ? ONE_WAD : caution,
    haltImWad: halt === 0n ? ONE_WAD : halt,
  };
}

/** `BreakerState.levelAt`: the level of `word` at `nowSec`, after its time-based recovery. */
export function breakerLevelAt(word: bigint, nowSec: bigint): BreakerLevel {
  const { level, stepAt, stepSec, endAt } = decodeBreakerWord(word);
  if (level === BreakerLevel.Normal || nowSec >= endAt) return BreakerLevel.Normal;
  if (nowSec < stepAt) return level;
  const steps = 1n + (stepSec === 0n ? BigInt(level) : (nowSec - stepAt) / stepSec);
  return steps >= BigInt(level) ? BreakerLevel.Normal : breakerLevel(BigInt(level) - steps);
}

/** `BreakerState.zeroAt`: when `breakerLevelAt` first returns Normal. */
export function breakerZeroAt(word: bigint): bigint {
  const { level, stepAt, stepSec, endAt } = decodeBreakerWord(word);
  if (level === BreakerLevel.Normal) return endAt;
  const stepped = stepAt + BigInt(level - 1) * stepSec;
  return stepped < endAt ? stepped : endAt;
}

import { WAD, rpow } from "./auction-math";

/**
 * Reference model pieces of the system fuzz (test/invariant/SystemInvariants.spec.ts): the
 * breaker's time-based level (`BreakerState.levelAt`), the decoding of the contracts' permission
 * matrix, and the auction's curve price at a given second.
 */

/** `BreakerState.levelAt`: the level of a state word at `nowSec`. */
export function levelAt(word: bigint, nowSec: bigint): number {
  const level = word & 0xffn;
  const stepAt = (word >> 8n) & 0xffffffffn;
  const stepSec = (word >> 40n) & 0xffffffn;
  const endAt = (word >> 64n) & 0xffffffffn;
  if (level === 0n || nowSec >= endAt) return 0;
  if (nowSec < stepAt) return Number(level);
  const steps = 1n + (stepSec === 0n ? level : (nowSec - stepAt) / stepSec);
  return steps >= level ? 0 : Number(level - steps);
}

export type Operation =
  | "deposit"
  | "withdraw"
  | "risk-increasing trade"
  | "reduce-only trade"
  | "kick"
  | "take"
  | "redo"
  | "LP deposit"
  | "LP withdraw"
  | "takeover"
  | "LP instant exit";

/** The operations of the permission matrix, in the order of the contracts' `BreakerAction`. */
export const OPERATIONS: readonly Operation[] = [
  "deposit",
  "withdraw",
  "risk-increasing trade",
  "reduce-only trade",
  "kick",
  "take",
  "redo",
  "LP deposit",
  "LP withdraw",
  "takeover",
  "LP instant exit",
];

/** Allowed at levels 0, 1, 2, 3, per operation. */
export type Matrix = Record<Operation, [boolean, boolean, boolean, boolean]>;

/**
 * The permission matrix from the contracts' one table, `CircuitBreaker.permissions()`
 * (`BreakerState.PERMISSIONS`): bit 4 × action + level is set when the action is allowed.
 */
export function decodePermissions(word: bigint): Matrix {
  const bit = (action: number, level: number): boolean => ((word >> BigInt(4 * action + level)) & 1n) === 1n;
  return Object.fromEntries(OPERATIONS.map((op, a) => [op, [bit(a, 0), bit(a, 1), bit(a, 2), bit(a, 3)]])) as Matrix;
}

export interface CurveParams {
  stepSec: bigint;
  cutWad: bigint;
  bufWad: bigint;
  cuspWad: bigint;
  floorWad: bigint;
  tailSec: bigint;
}

/** m(t) = max(floor, ⌊buf × cut^⌊t/step⌋⌋) and whether the auction is stale at t. */
export function curveFactor(p: CurveParams, elapsed: bigint): { factorWad: bigint; stale: boolean } {
  const raw = (p.bufWad * rpow(p.cutWad, elapsed / p.stepSec)) / WAD;
  return { factorWad: raw > p.floorWad ? raw : p.floorWad, stale: elapsed > p.tailSec || raw < p.cuspWad };
}

/**
 * The price a take must clear at: long position lots and collateral lots ⌈oracle × m⌉ (the
 * account sells, rounded for it), short position lots ⌊oracle × (2 − m)⌋.
 */
export function curvePrice(oracleWad: bigint, factorWad: bigint, shortLot: boolean): bigint {
  if (shortLot) return (oracleWad * (2n * WAD - factorWad)) / WAD;
  return (oracleWad * factorWad + WAD - 1n) / WAD;
}

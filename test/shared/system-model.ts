import { BreakerLevel, breakerLevelAt } from "../../lib/codec";
import { WAD, rpow } from "./auction-math";

/**
 * Reference model pieces of the system fuzz (test/invariant/SystemInvariants.spec.ts): the
 * breaker's time-based level (`BreakerState.levelAt`), the permission matrix of
 * docs/circuit-breakers.md, and the auction's curve price at a given second.
 */

/** `BreakerState.levelAt`: the level of a state word at `nowSec` (lib/codec). */
export const levelAt = (word: bigint, nowSec: bigint): BreakerLevel => breakerLevelAt(word, nowSec);

export type Operation =
  | "deposit"
  | "withdraw"
  | "risk-increasing trade"
  | "reduce-only trade"
  | "kick"
  | "take"
  | "redo"
  | "LP deposit"
  | "LP withdraw";

/**
 * docs/circuit-breakers.md, "Permission matrix": allowed at levels Normal, Caution,
 * LiquidationPause and Halt (the row's index is the `BreakerLevel`).
 */
export const MATRIX: Record<Operation, [boolean, boolean, boolean, boolean]> = {
  deposit: [true, true, true, true],
  withdraw: [true, true, true, true],
  "risk-increasing trade": [true, true, false, false],
  "reduce-only trade": [true, true, true, true],
  kick: [true, true, false, false],
  take: [true, true, true, false],
  redo: [true, true, true, false],
  "LP deposit": [true, true, true, true],
  "LP withdraw": [true, true, false, false],
};

export const allowed = (op: Operation, level: BreakerLevel): boolean => MATRIX[op][level];

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

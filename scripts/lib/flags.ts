/**
 * Validation of the tasks' numeric flags, before anything connects or compiles: a bad value fails
 * with one line naming the flag as typed (`--chunk must be an integer ≥ 1, got 0`), a BulwarkError.
 */
import { BulwarkError } from "../../lib/errors";

/** `--kebab-case` of a task parameter name. */
export const flagName = (param: string): string => "--" + param.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/**
 * An integer flag in [min, max] (undefined when not given). Accepts a number, or a string of
 * decimal digits (no sign for non-negative ranges, no fraction, no exponent, no hex).
 */
export function intFlag(param: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new BulwarkError(`${flagName(param)} must be an integer ${range}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A decimal flag ≥ 0 (> 0 with `positive`), kept as given (undefined when not given). */
export function decimalFlag(param: string, v: unknown, positive = false): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  if (!/^\d+(\.\d+)?$/.test(s) || (positive && Number(s) === 0)) {
    const what = positive ? "a positive decimal number" : "a non-negative decimal number";
    throw new BulwarkError(`${flagName(param)} must be ${what}, got ${JSON.stringify(v)}`);
  }
  return s;
}

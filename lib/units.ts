/**
 * Unit helpers shared by every TypeScript folder: WAD fixed point, decimal numbers to integer
 * units (and back), parsing of human amounts and formatting of WAD figures. Imports nothing of the
 * project but `lib/errors`.
 */
import { formatUnits, parseUnits } from "ethers";
import { BulwarkError } from "./errors";

/** 1.0 in WAD fixed point (18 decimals). */
export const WAD = 10n ** 18n;
/**
 * Basis points in one whole: a fraction in bps is `x * BPS_PER_ONE` (10,000 bps = 100%).
 * Not the contracts' `BPS` constant: RiskEngine's `BPS` is 1e14, one basis point in WAD
 * (`WAD_PER_BP` here).
 */
export const BPS_PER_ONE = 10_000n;
/** One basis point in WAD (RiskEngine's `BPS` constant, 1e14). */
export const WAD_PER_BP = WAD / BPS_PER_ONE;
/** Decimals of a Chainlink USD answer. */
export const FEED_DECIMALS = 8;

/** WAD from a decimal number, to 6 decimal places (`wad(0.998)` is 998e15). */
export const wad = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;
/** A WAD as a (lossy) JavaScript number. */
export const fromWad = (x: bigint): number => Number(x) / 1e18;
/** A Chainlink 8-decimal answer from a USD price. */
export const e8 = (x: number): bigint => BigInt(Math.round(x * 1e8));
/** Integer units of a `decimals` token from a decimal number (6 decimal places). */
export const units = (x: number, decimals: number): bigint =>
  (BigInt(Math.round(x * 1e6)) * 10n ** BigInt(decimals)) / 1_000_000n;
/** A USD amount in WAD from whole dollars (exact, for large round figures). */
export const usdWad = (dollars: number | bigint): bigint => BigInt(dollars) * WAD;

/**
 * Parses a decimal amount in human units (`"1000"`, `"0.5"`, `"-2.5"` when `signed`) into integer
 * units of `decimals`. Rejects zero, too many decimals, exponents and anything else.
 */
export function parseAmount(what: string, text: string, decimals: number, signed = false): bigint {
  const re = signed ? /^-?\d+(\.\d+)?$/ : /^\d+(\.\d+)?$/;
  const t = text.trim();
  if (!re.test(t)) {
    throw new BulwarkError(
      `${what} must be a ${signed ? "signed " : "positive "}decimal number (e.g. ${signed ? "-2.5" : "1000"}): got "${text}"`,
    );
  }
  const fraction = t.split(".")[1] ?? "";
  if (fraction.length > decimals) {
    throw new BulwarkError(`${what} "${text}" has more than ${decimals} decimals`);
  }
  const value = parseUnits(t, decimals);
  if (value === 0n) throw new BulwarkError(`${what} must not be zero`);
  return value;
}

/** Exact decimal string of a WAD (or `decimals`-unit) integer, for JSON output. */
export const dec = (value: bigint, decimals = 18): string => {
  const s = formatUnits(value, decimals);
  return s.endsWith(".0") ? s.slice(0, -2) : s;
};

/** `$1,234.56` from a USD WAD (rounded half away from zero to cents for display). */
export function usd(wadValue: bigint, digits = 2): string {
  const neg = wadValue < 0n;
  const abs = neg ? -wadValue : wadValue;
  const unit = 10n ** BigInt(18 - digits);
  const cents = (abs + unit / 2n) / unit;
  const whole = (cents / 10n ** BigInt(digits)).toLocaleString("en-US");
  const frac = digits > 0 ? "." + (cents % 10n ** BigInt(digits)).toString().padStart(digits, "0") : "";
  return `${neg ? "-" : ""}$${whole}${frac}`;
}

/** A number with up to `digits` decimals for display (no thousands separators). */
export function num(value: bigint, decimals = 18, digits = 4): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const unit = 10n ** BigInt(Math.max(decimals - digits, 0));
  const scaled = decimals > digits ? (abs + unit / 2n) / unit : abs * 10n ** BigInt(digits - decimals);
  const s = formatUnits(scaled, digits).replace(/\.?0+$/, "");
  return `${neg ? "-" : ""}${s}`;
}

/** A WAD ratio as a percentage string, e.g. `2.5%`. */
export const pct = (ratioWad: bigint, digits = 2): string => `${num(ratioWad * 100n, 18, digits)}%`;

/** Integer division rounding toward negative infinity (bigint `/` truncates toward zero). */
export function divFloor(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Integer division rounding toward positive infinity. */
export const divCeil = (a: bigint, b: bigint): bigint => -divFloor(-a, b);

/** Parsing of human amounts and formatting of WAD figures for the user scripts. */
import { formatUnits, parseUnits } from "ethers";
import { BulwarkError } from "./deployment";

export const WAD = 10n ** 18n;
export const BPS = 10_000n;

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

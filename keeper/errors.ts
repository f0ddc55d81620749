/**
 * Error handling: which RPC failures are worth a retry, exponential backoff, and revert reasons:
 * a stable name for the keeper's revert memory, and a sentence in human units for its logs (both
 * decoded against every protocol ABI by lib/errors).
 */
import { isError } from "ethers";
import { decodeRevertData, describeRevert, findRevertData } from "../lib/errors";

/** The revert data carried by an ethers error, if any (lib/errors). */
const revertData = (e: unknown): string | undefined => {
  const data = findRevertData(e);
  return data !== undefined && data.length >= 10 ? data : undefined;
};

/** True for an EVM revert (the call itself fails), as opposed to a transport or node failure. */
export function isRevert(e: unknown): boolean {
  return isError(e, "CALL_EXCEPTION") || revertData(e) !== undefined;
}

/**
 * A stable reason, for the revert memory and for logging a skip once: the custom error's name
 * (e.g. `NotLiquidatable`), `Panic(0x11)`, `Error(message)`, `selector 0x…`, or the message.
 * `explainRevert` gives the sentence in human units.
 */
export function revertReason(e: unknown): string {
  const data = revertData(e);
  if (data) {
    const d = decodeRevertData(data);
    if (d.name === "Error") return `Error(${d.args.reason})`;
    if (d.name === "Panic") return d.args.code ? `Panic(${d.args.code})` : "Panic";
    if (d.name !== "unknown") return d.name;
    return `selector ${data.slice(0, 10)}`;
  }
  const err = e as { reason?: unknown; shortMessage?: unknown; message?: unknown };
  if (typeof err.reason === "string" && err.reason) return err.reason;
  if (typeof err.shortMessage === "string") return err.shortMessage;
  return String(err.message ?? e);
}

/** A revert as one sentence in human units (lib/errors), for the logs. */
export const explainRevert = (e: unknown): string => describeRevert(e);

/** Nonce conflicts: resync the local nonce from the node. */
export function isNonceError(e: unknown): boolean {
  if (isError(e, "NONCE_EXPIRED") || isError(e, "REPLACEMENT_UNDERPRICED")) return true;
  const m = message(e).toLowerCase();
  return m.includes("nonce too low") || m.includes("nonce has already been used") || m.includes("nonce too high");
}

export function message(e: unknown): string {
  const err = e as { shortMessage?: unknown; message?: unknown };
  return String(err.shortMessage ?? err.message ?? e);
}

/** Failures that a retry cannot fix: reverts, bad arguments, no funds. Everything else is retried. */
export function isRetryable(e: unknown): boolean {
  if (isRevert(e)) return false;
  for (const code of ["INVALID_ARGUMENT", "INSUFFICIENT_FUNDS", "NONCE_EXPIRED", "REPLACEMENT_UNDERPRICED"] as const) {
    if (isError(e, code)) return false;
  }
  return true;
}

export interface RetryOptions {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** Called before each wait, with the attempt number (1-based) and the error. */
  onRetry?: (attempt: number, error: unknown) => void;
  /** Gives up early (e.g. on shutdown). */
  aborted?: () => boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn`, retrying retryable failures with exponential backoff (base × 2^attempt, capped, with
 * deterministic ±25% jitter derived from the attempt number so runs stay reproducible).
 */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryable(e) || attempt >= o.retries || o.aborted?.()) throw e;
      o.onRetry?.(attempt + 1, e);
      const base = Math.min(o.maxMs, o.baseMs * 2 ** attempt);
      const jitter = 0.75 + ((attempt * 7919) % 100) / 200;
      await sleep(Math.round(base * jitter));
    }
  }
}

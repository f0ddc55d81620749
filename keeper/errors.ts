/**
 * Error handling: which RPC failures are worth a retry, exponential backoff, and the decoding of
 * revert reasons into a stable `Name(args)` string for the keeper's revert memory.
 */
import { Interface, isError, type ErrorFragment, type InterfaceAbi } from "ethers";
import {
  AuctionHouse__factory,
  ICircuitBreaker__factory,
  PerpVault__factory,
  UniswapFlashTaker__factory,
} from "../typechain-types";

/** Every custom error the keeper's calls can revert with (auction house, vault, flash taker, breaker). */
export const ERRORS = (() => {
  const seen = new Set<string>();
  const frags: ErrorFragment[] = [];
  for (const abi of [
    AuctionHouse__factory.abi,
    PerpVault__factory.abi,
    UniswapFlashTaker__factory.abi,
    ICircuitBreaker__factory.abi,
  ] as InterfaceAbi[]) {
    for (const f of new Interface(abi).fragments) {
      if (f.type !== "error") continue;
      const e = f as ErrorFragment;
      if (seen.has(e.selector)) continue;
      seen.add(e.selector);
      frags.push(e);
    }
  }
  return new Interface(frags);
})();

/** The revert data carried by an ethers error, if any. */
function revertData(e: unknown): string | undefined {
  const err = e as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [err.data, err.info?.error?.data, err.error?.data]) {
    if (typeof d === "string" && d.startsWith("0x")) return d;
    if (d && typeof d === "object" && typeof (d as { data?: unknown }).data === "string") {
      return (d as { data: string }).data;
    }
  }
  return undefined;
}

/** True for an EVM revert (the call itself fails), as opposed to a transport or node failure. */
export function isRevert(e: unknown): boolean {
  return isError(e, "CALL_EXCEPTION") || revertData(e) !== undefined;
}

/** A stable reason: the custom error's name, e.g. `NotLiquidatable`, or the revert message. */
export function revertReason(e: unknown): string {
  const data = revertData(e);
  if (data && data.length >= 10) {
    try {
      const parsed = ERRORS.parseError(data);
      if (parsed) return parsed.name;
    } catch {
      /* unknown selector */
    }
    if (data.startsWith("0x08c379a0")) {
      try {
        return `Error(${String(ERRORS.getAbiCoder().decode(["string"], "0x" + data.slice(10))[0])})`;
      } catch {
        /* malformed */
      }
    }
    return `selector ${data.slice(0, 10)}`;
  }
  const err = e as { reason?: unknown; shortMessage?: unknown; message?: unknown };
  if (typeof err.reason === "string" && err.reason) return err.reason;
  if (typeof err.shortMessage === "string") return err.shortMessage;
  return String(err.message ?? e);
}

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

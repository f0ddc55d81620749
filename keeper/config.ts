/**
 * Keeper configuration: defaults < config file (JSON) < environment (KEEPER_*) < command-line flags,
 * validated with zod. Contract addresses come from an Ignition deployment folder
 * (`deploy/deployments/<id>/deployed_addresses.json`) unless given explicitly.
 */
import fs from "node:fs";
import path from "node:path";
import { isAddress, parseUnits } from "ethers";
import { z } from "zod";

const address = z.string().refine((s) => isAddress(s), { message: "must be a 0x-prefixed 20-byte address" });
const optionalAddress = address.optional();
/** A decimal USD amount ("250", "0.5") or a number, kept as WAD. */
const usd = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const wad = parseUnits(String(v), 18);
    if (wad < 0n) throw new Error("negative");
    return wad;
  } catch {
    ctx.addIssue({ code: "custom", message: `must be a non-negative USD amount, got ${String(v)}` });
    return z.NEVER;
  }
});
/** Gwei as a decimal string or number, kept in wei. */
const gwei = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const wei = parseUnits(String(v), 9);
    if (wei <= 0n) throw new Error("not positive");
    return wei;
  } catch {
    ctx.addIssue({ code: "custom", message: `must be a positive gwei amount, got ${String(v)}` });
    return z.NEVER;
  }
});
const int = (min: number) => z.coerce.number().int().min(min);
const bool = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
  .transform((v) => v === true || v === "true" || v === "1");

export const KeeperConfigSchema = z
  .object({
    /** Deployment folder id under deploy/deployments (default: chain-<chainId>). */
    deploymentId: z.string().min(1).optional(),
    deploymentsDir: z.string().min(1).default("deploy/deployments"),
    vault: optionalAddress,
    auctionHouse: optionalAddress,
    /** ICircuitBreaker; without one the keeper assumes level 0 everywhere and pokes nothing. */
    circuitBreaker: optionalAddress,
    /** A UniswapFlashTaker owned by the keeper's signer: takes collateral lots without capital. */
    flashTaker: optionalAddress,
    /** Uniswap v3 fee tier of the collateral/quote pools the flash taker swaps on. */
    flashPoolFee: int(1).default(500),
    /** Prefer the flash taker for collateral lots even when the keeper has vault capital. */
    preferFlash: bool.default(true),
    /** First block scanned for vault events (the vault's deployment block is a good choice). */
    startBlock: int(0).default(0),
    /** Blocks per eth_getLogs request during the backfill and catch-up. */
    logChunk: int(1).default(2_000),
    /** Smallest profit (USD, after gas) a take must make. */
    minProfitUsd: usd.default(10n ** 18n),
    /** Smallest reward (USD, after gas) a redo must pay. */
    minRedoRewardUsd: usd.default(0n),
    /** Highest max fee per gas the keeper pays (gwei); above it, it sends nothing. */
    maxGasPriceGwei: gwei.default(200_000_000_000n),
    /** Priority fee (gwei). */
    priorityFeeGwei: gwei.default(1_000_000_000n),
    /** USD price of the chain's native token, to value gas. */
    nativeUsd: usd.default(3_000n * 10n ** 18n),
    /** Most transactions the keeper sends per block. */
    maxTxPerBlock: int(1).default(8),
    /** Milliseconds between polls for a new block. */
    pollMs: int(10).default(2_000),
    /** Accounts checked per round of concurrent view calls (one JSON-RPC batch each). */
    batchSize: int(1).default(100),
    /** Close the position a position-lot take hands over (reduce-only trade) in the next block. */
    closeTakenPositions: bool.default(true),
    /**
     * Also close positions the signer opened itself (every position it holds), not only those
     * takes handed over. Off by default: the keeper never trades its signer's own book unless asked.
     */
    closeOwnPositions: bool.default(false),
    /** Redo stale pool lots (takeover mode), which pay no reward, so that they reach their backstop. */
    redoPoolLots: bool.default(true),
    /** Attempts per RPC call before giving up on it for this block. */
    rpcRetries: int(0).default(6),
    retryBaseMs: int(1).default(100),
    retryMaxMs: int(1).default(5_000),
    /** Blocks a sent transaction may stay unmined before the keeper resyncs its nonce. */
    stuckAfterBlocks: int(1).default(20),
    /**
     * Seconds the keeper waits at start for an unreachable node, retrying with backoff and logging
     * each attempt (`node_unreachable`); 0 waits until the node answers.
     */
    nodeWaitSec: int(0).default(0),
    /** Stop after this many blocks (0: run until SIGINT/SIGTERM). */
    maxBlocks: int(0).default(0),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  })
  .strict();

export type KeeperConfigInput = z.input<typeof KeeperConfigSchema>;
export type KeeperConfig = z.output<typeof KeeperConfigSchema>;

/** Fully resolved: addresses known. */
export type ResolvedConfig = KeeperConfig & { vault: string; auctionHouse: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Environment variable for each option: KEEPER_ + SCREAMING_SNAKE_CASE of the key. */
export function envName(key: string): string {
  return "KEEPER_" + key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(KeeperConfigSchema.shape)) {
    const v = env[envName(key)];
    if (v !== undefined && v !== "") out[key] = v;
  }
  return out;
}

/** Parses and validates; errors name the field: `ConfigError: maxTxPerBlock: Too small: ...`. */
export function parseConfig(input: Record<string, unknown>): KeeperConfig {
  const r = KeeperConfigSchema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new ConfigError(msg);
  }
  return r.data;
}

/** Merges a JSON config file (optional), the environment and flags, then validates. */
export function loadConfig(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: Record<string, unknown>;
}): KeeperConfig {
  let fileValues: Record<string, unknown> = {};
  const file = opts.file ?? opts.env?.KEEPER_CONFIG;
  if (file) {
    try {
      fileValues = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
  }
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  return parseConfig({ ...fileValues, ...fromEnv(opts.env ?? {}), ...flags });
}

/** Ignition future ids of the contracts the keeper looks up, by config key. */
const DEPLOYED_NAMES: Record<"vault" | "auctionHouse" | "circuitBreaker" | "flashTaker", string[]> = {
  vault: ["PerpVault"],
  auctionHouse: ["AuctionHouse"],
  circuitBreaker: ["CircuitBreaker"],
  flashTaker: ["UniswapFlashTaker"],
};

/**
 * Fills missing addresses from `<deploymentsDir>/<deploymentId or chain-<chainId>>/deployed_addresses.json`
 * (keys `Module#Future`, e.g. `BulwarkLocal#PerpVault`). Fails with a ConfigError naming what is missing.
 */
export function resolveAddresses(cfg: KeeperConfig, chainId: bigint, root = process.cwd()): ResolvedConfig {
  const dir = path.resolve(root, cfg.deploymentsDir, cfg.deploymentId ?? `chain-${chainId}`);
  const file = path.join(dir, "deployed_addresses.json");
  let deployed: Record<string, string> = {};
  if (fs.existsSync(file)) deployed = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
  const out: KeeperConfig = { ...cfg };
  for (const [key, names] of Object.entries(DEPLOYED_NAMES) as [keyof typeof DEPLOYED_NAMES, string[]][]) {
    if (out[key]) continue;
    const hit = Object.entries(deployed).find(([k]) => names.includes(k.split("#")[1] ?? ""));
    if (hit) out[key] = hit[1];
  }
  if (!out.vault || !out.auctionHouse) {
    throw new ConfigError(
      `vault and auctionHouse addresses are required: pass them (--vault, --auction-house, KEEPER_VAULT, ` +
        `KEEPER_AUCTION_HOUSE) or deploy with Ignition so that ${file} lists them`,
    );
  }
  return { ...out, vault: out.vault, auctionHouse: out.auctionHouse };
}

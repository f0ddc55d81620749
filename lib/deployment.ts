/**
 * Where a Bulwark deployment lives: the addresses Hardhat Ignition recorded in
 * `deploy/deployments/<deployment id>/deployed_addresses.json` (default id `chain-<chainId>`), or
 * an override. Everything else (pool, insurance fund, tokens, markets) is read from the vault.
 */
import fs from "node:fs";
import path from "node:path";

import { BulwarkError } from "./errors";

export interface DeploymentAddresses {
  vault: string;
  /** Absent when the override names only the vault. */
  auctionHouse?: string;
  /** Where the addresses came from (a file path, `BULWARK_ADDRESSES`, or `--addresses`). */
  source: string;
  /** Block of the vault's deployment, from Ignition's journal when available (a log-scan start). */
  deployBlock?: number;
}

export interface AddressOptions {
  chainId: number;
  /** `--addresses`: a deployed_addresses.json file, a deployment folder, or inline JSON. */
  addresses?: string;
  /** `--deployment-id`: an Ignition deployment id under deploy/deployments/. */
  deploymentId?: string;
  /** Repository root (defaults to the current directory). */
  root?: string;
  env?: NodeJS.ProcessEnv;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The Ignition deployments folder (hardhat.config.ts sets `paths.ignition` to `deploy`). */
export const deploymentsDir = (root: string): string => path.join(root, "deploy", "deployments");

/**
 * Resolves the vault (and auction house) address. Order: `--addresses`, then `BULWARK_ADDRESSES`,
 * then `--deployment-id` / `BULWARK_DEPLOYMENT_ID`, then `deploy/deployments/chain-<chainId>/`.
 * An override is a path to a `deployed_addresses.json` (or to its folder), or inline JSON: either
 * Ignition's `{ "<Module>#PerpVault": "0x…" }` form or `{ "vault": "0x…", "auctionHouse": "0x…" }`.
 */
export function resolveAddresses(opts: AddressOptions): DeploymentAddresses {
  const root = opts.root ?? process.cwd();
  const env = opts.env ?? process.env;
  const override = opts.addresses ?? env.BULWARK_ADDRESSES;
  if (override !== undefined && override.trim() !== "") {
    const label = opts.addresses !== undefined ? "--addresses" : "BULWARK_ADDRESSES";
    const text = override.trim();
    if (text.startsWith("{")) return fromRecord(parseJson(text, label), label);
    return fromPath(path.resolve(root, text), label);
  }
  const id = opts.deploymentId ?? env.BULWARK_DEPLOYMENT_ID ?? `chain-${opts.chainId}`;
  const dir = path.join(deploymentsDir(root), id);
  const file = path.join(dir, "deployed_addresses.json");
  if (!fs.existsSync(file)) {
    throw new BulwarkError(
      `no deployment found for chain id ${opts.chainId}: ${path.relative(root, file)} does not exist. ` +
        `Deploy first (npm run deploy:local), or pass --addresses <file|folder|json> or BULWARK_ADDRESSES.`,
    );
  }
  return fromPath(dir, path.relative(root, file));
}

function parseJson(text: string, label: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new BulwarkError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BulwarkError(`${label}: expected a JSON object of addresses`);
  }
  return parsed as Record<string, unknown>;
}

function fromPath(p: string, label: string): DeploymentAddresses {
  const file = fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, "deployed_addresses.json") : p;
  if (!fs.existsSync(file)) throw new BulwarkError(`${label}: ${file} does not exist`);
  const out = fromRecord(parseJson(fs.readFileSync(file, "utf8"), file), label === file ? file : `${label} (${file})`);
  const block = vaultDeployBlock(path.join(path.dirname(file), "journal.jsonl"));
  return block === undefined ? out : { ...out, deployBlock: block };
}

/** Picks the vault and auction house out of Ignition keys (`Module#PerpVault`) or plain keys. */
function fromRecord(rec: Record<string, unknown>, source: string): DeploymentAddresses {
  const pick = (plain: string, contract: string): string | undefined => {
    const direct = rec[plain];
    if (typeof direct === "string") return check(direct, plain, source);
    const keys = Object.keys(rec).filter((k) => k.endsWith(`#${contract}`));
    if (keys.length > 1) {
      throw new BulwarkError(`${source}: several ${contract} addresses (${keys.join(", ")}); pass --addresses`);
    }
    return keys.length === 1 ? check(rec[keys[0]], keys[0], source) : undefined;
  };
  const vault = pick("vault", "PerpVault");
  if (vault === undefined)
    throw new BulwarkError(`${source}: no PerpVault address (key "vault" or "<Module>#PerpVault")`);
  const auctionHouse = pick("auctionHouse", "AuctionHouse");
  return auctionHouse === undefined ? { vault, source } : { vault, auctionHouse, source };
}

function check(value: unknown, key: string, source: string): string {
  if (typeof value !== "string" || !ADDRESS.test(value)) {
    throw new BulwarkError(`${source}: ${key} is not an address: ${JSON.stringify(value)}`);
  }
  return value;
}

/** The block of the PerpVault deployment's receipt in Ignition's journal, if recorded. */
function vaultDeployBlock(journal: string): number | undefined {
  if (!fs.existsSync(journal)) return undefined;
  for (const line of fs.readFileSync(journal, "utf8").split("\n")) {
    if (!line.includes("TRANSACTION_CONFIRM") || !line.includes("#PerpVault")) continue;
    try {
      const msg = JSON.parse(line) as { futureId?: string; receipt?: { blockNumber?: number } };
      if (msg.futureId?.endsWith("#PerpVault") && typeof msg.receipt?.blockNumber === "number") {
        return msg.receipt.blockNumber;
      }
    } catch {
      /* a torn last line while Ignition writes: ignore */
    }
  }
  return undefined;
}

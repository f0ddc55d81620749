/**
 * Builds a keeper from a JSON-RPC URL and a configuration: a batching JsonRpcProvider on a static
 * network (no chain-id probing, so it starts and recovers cleanly when the node is down), the
 * signer, and the addresses from the Ignition deployment folder.
 */
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, type Signer } from "ethers";
import { ConfigError, resolveAddresses, type KeeperConfig } from "./config";
import { sleep, withRetry } from "./errors";
import { Keeper } from "./keeper";
import { createLogger, type Logger, type LogSink } from "./log";

export { Keeper } from "./keeper";
export { loadConfig, parseConfig, resolveAddresses, ConfigError, envName, KeeperConfigSchema } from "./config";
export type { KeeperConfig, KeeperConfigInput, ResolvedConfig } from "./config";
export { createLogger } from "./log";
export type { LogRecord, LogSink, Logger } from "./log";

/** Hardhat's and anvil's default development mnemonic: account 0 is the node's first account. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** eth_chainId over plain HTTP (an ethers provider would probe the network in the background). */
export async function chainIdOf(url: string): Promise<bigint> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  const body = (await res.json()) as { result?: string; error?: { message: string } };
  if (!body.result) throw new Error(`eth_chainId: ${body.error?.message ?? `HTTP ${res.status}`}`);
  return BigInt(body.result);
}

export function keeperProvider(url: string, chainId: bigint): JsonRpcProvider {
  return new JsonRpcProvider(url, Number(chainId), {
    staticNetwork: true,
    batchMaxCount: 100,
    batchStallTime: 5,
    cacheTimeout: -1,
  });
}

/**
 * The signer: a private key (KEEPER_PRIVATE_KEY, or Hardhat's configuration variable of the same
 * name, read by the task); otherwise, on a development node, the node's first account.
 */
export async function resolveSigner(
  provider: JsonRpcProvider,
  privateKey: string | undefined,
): Promise<{ signer: Signer; address: string; source: string }> {
  if (privateKey) {
    try {
      const w = new Wallet(privateKey.startsWith("0x") ? privateKey : `0x${privateKey}`, provider);
      return { signer: w, address: w.address, source: "private key" };
    } catch (e) {
      throw new ConfigError(`KEEPER_PRIVATE_KEY is not a valid private key: ${(e as Error).message}`);
    }
  }
  const accounts = await withRetry(() => provider.send("eth_accounts", []) as Promise<string[]>, {
    retries: 3,
    baseMs: 200,
    maxMs: 1_000,
  });
  const dev = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0/0").connect(provider);
  if (accounts.length > 0 && accounts[0].toLowerCase() === dev.address.toLowerCase()) {
    return { signer: dev, address: dev.address, source: "node's first account (development mnemonic)" };
  }
  throw new ConfigError(
    "no signer: set KEEPER_PRIVATE_KEY (environment) or `npx hardhat vars set KEEPER_PRIVATE_KEY`; " +
      "the node's first account is used only on a development node",
  );
}

export interface StartOptions {
  url: string;
  config: KeeperConfig;
  privateKey?: string;
  /** Where deploy/deployments lives (the repository root). */
  root?: string;
  sink?: LogSink;
}

/**
 * The node's chain id, waiting for the node: while it does not answer, retries with backoff
 * (250 ms doubling to 5 s) and logs each attempt, for up to `waitSec` seconds (0: until it answers).
 */
export async function waitForNode(url: string, waitSec: number, log: Logger): Promise<bigint> {
  const start = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await chainIdOf(url);
    } catch (e) {
      const error = describeFetchError(e);
      const waited = (Date.now() - start) / 1000;
      if (waitSec > 0 && waited >= waitSec) {
        throw new ConfigError(`cannot reach the node at ${url} after ${Math.round(waited)} s: ${error}`);
      }
      const backoff = Math.min(5_000, 250 * 2 ** Math.min(attempt - 1, 5));
      const retryInMs = waitSec > 0 ? Math.min(backoff, Math.ceil((waitSec - waited) * 1000)) : backoff;
      log.warn("node_unreachable", { url, attempt, retryInMs, error });
      await sleep(retryInMs);
    }
  }
}

/** `fetch failed` hides its cause (ECONNREFUSED, ENOTFOUND…): name it. */
function describeFetchError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}

export async function createKeeper(o: StartOptions): Promise<Keeper> {
  const log = createLogger(o.config.logLevel, o.sink);
  const chainId = await waitForNode(o.url, o.config.nodeWaitSec, log);
  const provider = keeperProvider(o.url, chainId);
  const cfg = resolveAddresses(o.config, chainId, o.root);
  const { signer, address, source } = await resolveSigner(provider, o.privateKey);
  log.info("signer", { address, source });
  return new Keeper(provider, signer, address, chainId, cfg, log);
}

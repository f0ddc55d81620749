/**
 * `npx hardhat keeper --network <json-rpc network>` (or `npm run keeper -- --network localhost`):
 * runs the liquidation keeper until SIGINT/SIGTERM. Options override the config file and the
 * KEEPER_* environment variables (see docs/keeper.md). The keeper's modules are loaded inside the
 * action, so this file registers the task before the first compile.
 */
import { task, vars } from "hardhat/config";
import type { HardhatRuntimeEnvironment, HttpNetworkConfig } from "hardhat/types";

task("keeper", "Runs the Bulwark liquidation keeper against a JSON-RPC node")
  .addOptionalParam("keeperConfig", "JSON config file (also KEEPER_CONFIG)")
  .addOptionalParam("deploymentId", "Ignition deployment id under deploy/deployments (default chain-<id>)")
  .addOptionalParam("vault", "PerpVault address")
  .addOptionalParam("auctionHouse", "AuctionHouse address")
  .addOptionalParam("circuitBreaker", "ICircuitBreaker address")
  .addOptionalParam("flashTaker", "UniswapFlashTaker owned by the keeper's signer")
  .addOptionalParam("startBlock", "First block scanned for vault events")
  .addOptionalParam("minProfitUsd", "Minimum profit of a take after gas, USD")
  .addOptionalParam("maxGasPriceGwei", "Highest max fee per gas, gwei")
  .addOptionalParam("maxTxPerBlock", "Most transactions sent per block")
  .addOptionalParam("pollMs", "Milliseconds between polls for a new block")
  .addOptionalParam("maxBlocks", "Stop after this many blocks (0: run until a signal)")
  .addOptionalParam("nodeWaitSec", "Seconds to wait at start for an unreachable node (0: until it answers)")
  .addOptionalParam("logLevel", "debug | info | warn | error")
  .addFlag(
    "closeOwnPositions",
    "Also close positions the keeper's signer opened itself (off: only what takes handed over)",
  )
  .setAction(async (args: Record<string, unknown>, hre) => {
    const { BulwarkError } = await import("../lib/errors");
    const { ConfigError } = await import("../keeper/config");
    try {
      // Every numeric flag, before connecting: one line naming the flag, no stack trace.
      const { decimalFlag, intFlag } = await import("../scripts/lib/flags");
      args.startBlock = intFlag("startBlock", args.startBlock, 0);
      args.maxTxPerBlock = intFlag("maxTxPerBlock", args.maxTxPerBlock, 1);
      args.pollMs = intFlag("pollMs", args.pollMs, 10);
      args.maxBlocks = intFlag("maxBlocks", args.maxBlocks, 0);
      args.nodeWaitSec = intFlag("nodeWaitSec", args.nodeWaitSec, 0);
      decimalFlag("minProfitUsd", args.minProfitUsd);
      decimalFlag("maxGasPriceGwei", args.maxGasPriceGwei, true);
      await runKeeperTask(args, hre);
    } catch (e) {
      if (!(e instanceof BulwarkError || e instanceof ConfigError)) throw e;
      console.error(`Error: ${e.message}`);
      process.exitCode = 1;
    }
  });

async function runKeeperTask(args: Record<string, unknown>, hre: HardhatRuntimeEnvironment): Promise<void> {
  {
    const { createKeeper, loadConfig } = await import("../keeper");
    const net = hre.network.config as Partial<HttpNetworkConfig>;
    if (!net.url) {
      const { ConfigError } = await import("../keeper/config");
      throw new ConfigError(
        `the keeper needs a JSON-RPC network (e.g. --network localhost), not "${hre.network.name}"`,
      );
    }
    const { keeperConfig: file, closeOwnPositions, ...rest } = args;
    // A flag is false when absent: only a given flag overrides the config file and the environment.
    const flags = closeOwnPositions === true ? { ...rest, closeOwnPositions: true } : rest;
    const config = loadConfig({ file: file as string | undefined, env: process.env, flags });
    const privateKey =
      process.env.KEEPER_PRIVATE_KEY ?? (vars.has("KEEPER_PRIVATE_KEY") ? vars.get("KEEPER_PRIVATE_KEY") : undefined);
    const keeper = await createKeeper({ url: net.url, config, privateKey, root: hre.config.paths.root });
    let signals = 0;
    const onSignal = (sig: string): void => {
      signals++;
      if (signals > 1) process.exit(130);
      keeper.log.info("shutdown", { signal: sig, note: "finishing in-flight transactions; signal again to force" });
      keeper.stop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await keeper.run();
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      keeper.provider.destroy();
    }
  }
}

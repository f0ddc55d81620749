import fs from "node:fs";
import path from "node:path";
import { HardhatUserConfig, subtask, vars } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";

const SOLC_VERSION = "0.8.28";

// Hardhat cannot download compilers on machines that reach only the npm registry: compile with the
// npm `solc` package (solcjs/WebAssembly) when its version is the one the contracts pin.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(
  async ({ solcVersion }: { solcVersion: string }, _hre, runSuper) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const solcPkg = require("solc/package.json") as { version: string };
    if (solcVersion !== solcPkg.version) return runSuper();
    const compilerPath = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const solc = require("solc") as { version(): string };
    return { compilerPath, isSolcJs: true, version: solcVersion, longVersion: solc.version() };
  },
);

// Ignition reads and parses a contract's whole build-info file (12 MB with viaIR) once per contract
// it deploys: most of an in-process deploy's time. Parse each build-info file once per process instead (keyed by
// path, size and mtime, so a recompile in the same process is still seen). The object is only read.
// Both patches touch Ignition internals (pinned by package-lock.json): if a newer Ignition moves
// them, the patches are skipped and deploys run unpatched: slower, with the same result.
try {
  const resolverFile = path.join(
    path.dirname(require.resolve("@nomicfoundation/hardhat-ignition")),
    "hardhat-artifact-resolver.js",
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HardhatArtifactResolver } = require(resolverFile) as {
    HardhatArtifactResolver: { prototype: Record<string, unknown> };
  };
  type Resolver = {
    getBuildInfo(contractName: string): Promise<unknown>;
    _resolvePath(contractName: string): Promise<string | undefined>;
  };
  const proto = HardhatArtifactResolver.prototype as unknown as Resolver;
  if (typeof proto.getBuildInfo !== "function" || typeof proto._resolvePath !== "function") {
    throw new Error("HardhatArtifactResolver internals moved");
  }
  const original = proto.getBuildInfo;
  const parsed = new Map<string, { stamp: string; value: Promise<unknown> }>();
  proto.getBuildInfo = async function (this: Resolver, contractName: string): Promise<unknown> {
    const artifactPath = contractName.includes(":") ? undefined : await this._resolvePath(contractName);
    if (artifactPath === undefined) return original.call(this, contractName);
    const debugPath = artifactPath.replace(".json", ".dbg.json");
    const debug = JSON.parse(await fs.promises.readFile(debugPath, "utf8")) as { buildInfo: string };
    const file = path.join(path.dirname(debugPath), debug.buildInfo);
    const st = await fs.promises.stat(file);
    const stamp = `${st.size}:${st.mtimeMs}`;
    const hit = parsed.get(file);
    if (hit?.stamp === stamp) return hit.value;
    const value = fs.promises.readFile(file, "utf8").then((text) => JSON.parse(text) as unknown);
    parsed.set(file, { stamp, value });
    value.catch(() => parsed.delete(file));
    return value;
  };

  // A file deployment (the CLI) then stores that build info once per contract too: the same
  // `<id>.json` (the id is the hash of the compiler input) stringified and rewritten each time.
  // Write each one once per process; the per-contract `.dbg.json` pointer is still written.
  const loaderFile = path.join(
    path.dirname(require.resolve("@nomicfoundation/ignition-core")),
    "internal",
    "deployment-loader",
    "file-deployment-loader.js",
  );
  type Loader = {
    _initialize(): Promise<void>;
    _paths: { artifactsDir: string; buildInfoDir: string };
    storeBuildInfo(futureId: string, buildInfo: { id: string }): Promise<void>;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { FileDeploymentLoader } = require(loaderFile) as { FileDeploymentLoader: { prototype: Loader } };
  if (typeof FileDeploymentLoader.prototype.storeBuildInfo !== "function") {
    throw new Error("FileDeploymentLoader internals moved");
  }
  const written = new Set<string>();
  FileDeploymentLoader.prototype.storeBuildInfo = async function (this: Loader, futureId, buildInfo) {
    await this._initialize();
    const file = path.join(this._paths.buildInfoDir, `${buildInfo.id}.json`);
    if (!written.has(file) || !fs.existsSync(file)) {
      await fs.promises.writeFile(file, JSON.stringify(buildInfo, undefined, 2));
      written.add(file);
    }
    const debugFile = path.join(this._paths.artifactsDir, `${futureId}.dbg.json`);
    const pointer = { _format: "hh-sol-dbg-1", buildInfo: path.relative(this._paths.artifactsDir, file) };
    await fs.promises.writeFile(debugFile, JSON.stringify(pointer, undefined, 2));
  };
} catch {
  // Ignition's internals moved (see above): leave it unpatched.
}

// Every file in tasks/ registers Hardhat tasks (simulate, keeper, user scripts). Tasks import
// TypeChain types with `import type` only, so they load before the first compile.
const TASKS_DIR = path.join(__dirname, "tasks");
if (fs.existsSync(TASKS_DIR)) {
  for (const file of fs.readdirSync(TASKS_DIR).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (file.endsWith(".ts")) require(path.join(TASKS_DIR, file));
  }
}

/** An environment variable, else a Hardhat configuration variable (`npx hardhat vars set NAME`), else undefined. */
const setting = (name: string): string | undefined =>
  process.env[name] || (vars.has(name) ? vars.get(name) : undefined) || undefined;

// The public testnet (Sepolia) comes only from the environment or `vars`: no URL or key lives in
// the repository. Without them every other command still works; `--network sepolia` then fails
// on the placeholder host, which names the missing variable.
const SEPOLIA_RPC_URL = setting("SEPOLIA_RPC_URL");
const SEPOLIA_PRIVATE_KEY = setting("SEPOLIA_PRIVATE_KEY");

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      evmVersion: "cancun",
      viaIR: true,
      optimizer: { enabled: true, runs: 200 },
    },
  },
  networks: {
    // A `hardhat node` started by scripts/lib/node.ts may run under another chain id (testnet-path checks).
    hardhat: { chainId: Number(process.env.BULWARK_NODE_CHAIN_ID ?? 31337) },
    localhost: { url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
    sepolia: {
      url: SEPOLIA_RPC_URL ?? "http://sepolia-rpc-url-not-set--set-SEPOLIA_RPC_URL.invalid",
      chainId: 11155111,
      // One key, or several separated by commas (account 0 deploys and is the admin).
      accounts: SEPOLIA_PRIVATE_KEY ? SEPOLIA_PRIVATE_KEY.split(",").map((k) => k.trim()) : [],
    },
  },
  paths: { ignition: "deploy" },
  mocha: { timeout: 600_000 },
  gasReporter: { enabled: process.env.REPORT_GAS === "true" },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
};

export default config;

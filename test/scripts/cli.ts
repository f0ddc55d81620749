/**
 * Runs Hardhat commands as child processes, the way a user does (`npx hardhat <task> --network …`),
 * and deploys with the Ignition CLI. Used by the scripts tests and the fork harness.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { startNode, type LocalNode } from "../../lib/devnode";

export const ROOT = path.resolve(__dirname, "..", "..");
const HARDHAT = path.join(ROOT, "node_modules", ".bin", "hardhat");

/** Hardhat's (and anvil's) well-known first test account: public test key, not a secret. */
export const TEST_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables the children must not inherit from the developer's shell. */
const SCRUB = [
  "BULWARK_ADDRESSES",
  "BULWARK_DEPLOYMENT_ID",
  "HARDHAT_NETWORK",
  "SEPOLIA_RPC_URL",
  "SEPOLIA_PRIVATE_KEY",
];

/** `npx hardhat …args` in the repository root; never throws on a non-zero exit. */
export async function hardhat(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const k of SCRUB) delete base[k];
  return new Promise((resolve) => {
    execFile(
      HARDHAT,
      args,
      { cwd: ROOT, env: { ...base, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

/** Runs a task with `--json` and parses its output; fails with the child's stderr on a non-zero exit. */
export async function hardhatJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await hardhat([...args, "--json"], env);
  if (r.code !== 0) {
    throw new Error(`hardhat ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  }
  return JSON.parse(r.stdout) as T;
}

export interface Deployment {
  /** deploy/deployments/<id> */
  dir: string;
  id: string;
  /** Ignition's deployed_addresses.json: `Module#Contract` → address. */
  addresses: Record<string, string>;
}

/**
 * `npx hardhat ignition deploy <module> --parameters <file> --network <network>` as a child
 * process. `env` points the network at the node (LOCALHOST_RPC_URL, or SEPOLIA_RPC_URL and
 * SEPOLIA_PRIVATE_KEY); the deployment lands in deploy/deployments/<deploymentId or chain-<id>>.
 */
export async function ignitionDeploy(opts: {
  module: string;
  parameters: string;
  network: string;
  chainId: number;
  deploymentId?: string;
  env: Record<string, string>;
}): Promise<Deployment> {
  const args = ["ignition", "deploy", opts.module, "--parameters", opts.parameters, "--network", opts.network];
  if (opts.deploymentId) args.push("--deployment-id", opts.deploymentId);
  const r = await hardhat(args, { HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true", ...opts.env });
  if (r.code !== 0) throw new Error(`ignition deploy exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  const id = opts.deploymentId ?? `chain-${opts.chainId}`;
  const dir = path.join(ROOT, "deploy", "deployments", id);
  const file = path.join(dir, "deployed_addresses.json");
  return { dir, id, addresses: JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string> };
}

/**
 * A fresh node (on a free port) with the deployment `npm run deploy:local` makes, and the
 * environment that points the CLI at both (LOCALHOST_RPC_URL, BULWARK_DEPLOYMENT_ID).
 */
export async function localNodeWithDeployment(
  label: string,
): Promise<{ node: LocalNode; dep: Deployment; env: Record<string, string> }> {
  const node = await startNode();
  const env: Record<string, string> = { LOCALHOST_RPC_URL: node.url };
  const dep = await ignitionDeploy({
    module: "deploy/modules/BulwarkLocal.ts",
    parameters: "deploy/parameters/local.json",
    network: "localhost",
    chainId: node.chainId,
    deploymentId: testDeploymentId(label),
    env,
  });
  env.BULWARK_DEPLOYMENT_ID = dep.id;
  return { node, dep, env };
}

/** The one address whose Ignition key ends with `#<name>`. */
export function addressOf(d: Deployment, name: string): string {
  const keys = Object.keys(d.addresses).filter((k) => k.endsWith(`#${name}`));
  if (keys.length !== 1) throw new Error(`${d.id}: expected one #${name}, found ${keys.join(", ") || "none"}`);
  return d.addresses[keys[0]];
}

/** A deployment id unique to this process, so a test never reuses (or clobbers) a user's deployment. */
export const testDeploymentId = (label: string): string => `test-${label}-${process.pid}-${Date.now()}`;

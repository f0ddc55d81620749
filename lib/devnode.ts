/**
 * Starts a real JSON-RPC chain as a child process on a free loopback port, and stops it leaving no
 * process or port behind. `hardhat node` by default; `anvil` (npm @foundry-rs/anvil) when
 * `chain: "anvil"` or CHAIN=anvil.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

export type ChainKind = "hardhat" | "anvil";

export interface LocalNode {
  kind: ChainKind;
  url: string;
  port: number;
  chainId: number;
  pid: number;
  /** Kills the node's process group and waits until the port is free again. */
  stop(): Promise<void>;
}

export interface NodeOptions {
  chain?: ChainKind;
  chainId?: number;
  /** Milliseconds to wait for the first successful RPC call. */
  timeoutMs?: number;
}

const ROOT = path.resolve(__dirname, "..");
const BIN = (name: string): string => path.join(ROOT, "node_modules", ".bin", name);

/** A port the OS reports free on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** One JSON-RPC call over HTTP. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** True while any process of the group `pgid` exists (signal 0 to the group). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startNode(opts: NodeOptions = {}): Promise<LocalNode> {
  const kind: ChainKind = opts.chain ?? (process.env.CHAIN === "anvil" ? "anvil" : "hardhat");
  const chainId = opts.chainId ?? 31337;
  const port = await freePort();
  let child: ChildProcess;
  if (kind === "anvil") {
    child = spawn(
      BIN("anvil"),
      ["--port", String(port), "--host", "127.0.0.1", "--chain-id", String(chainId), "--silent"],
      { cwd: ROOT, detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
  } else {
    child = spawn(BIN("hardhat"), ["node", "--port", String(port), "--hostname", "127.0.0.1"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, BULWARK_NODE_CHAIN_ID: String(chainId) },
    });
  }
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  child.once("exit", () => (exited = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${kind}`);
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (!exited) {
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        /* already gone */
      }
      // The npm `anvil` is a wrapper that runs the real binary as a grandchild in the same group:
      // wait for the whole group, not only the direct child.
      for (let i = 0; i < 100 && (!exited || groupAlive(pid) || (await portInUse(port))); i++) {
        if (i === 50) {
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            /* already gone */
          }
        }
        await sleep(100);
      }
    }
    if (!exited || processAlive(pid) || groupAlive(pid)) {
      throw new Error(`${kind} node (pid ${pid}) or a process of its group still running after stop`);
    }
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`${kind} node exited before it answered on ${url}:\n${stderr}`);
    try {
      const id = await rpc<string>(url, "eth_chainId");
      if (Number(id) !== chainId) {
        await stop();
        throw new Error(`${kind} node answered chain id ${Number(id)}, expected ${chainId}`);
      }
      return { kind, url, port, chainId, pid, stop };
    } catch (e) {
      if ((e as Error).message.includes("expected")) throw e;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${kind} node did not answer on ${url} within ${opts.timeoutMs ?? 60_000} ms:\n${stderr}`, {
          cause: e,
        });
      }
      await sleep(200);
    }
  }
}

/**
 * A faulty JSON-RPC HTTP proxy for the keeper's fault test: it fails a share of requests (HTTP 500,
 * a dropped connection before or after forwarding, a JSON-RPC error) from a seeded PRNG, delays
 * the others, and can be stopped and restarted on the same port (a node connection restart).
 */
import http from "node:http";
import type { Socket } from "node:net";

/** mulberry32: a small seeded PRNG, so that every run injects the same faults. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ProxyStats {
  requests: number;
  forwarded: number;
  http500: number;
  droppedBefore: number;
  droppedAfter: number;
  rpcErrors: number;
}

export interface FaultyProxy {
  url: string;
  port: number;
  stats: ProxyStats;
  /** Failures injected so far. */
  failed(): number;
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export interface ProxyOptions {
  target: string;
  seed: number;
  failRate: number;
  maxDelayMs: number;
}

export async function startFaultyProxy(port: number, o: ProxyOptions): Promise<FaultyProxy> {
  const rand = prng(o.seed);
  const stats: ProxyStats = {
    requests: 0,
    forwarded: 0,
    http500: 0,
    droppedBefore: 0,
    droppedAfter: 0,
    rpcErrors: 0,
  };
  const sockets = new Set<Socket>();
  const forward = async (body: string): Promise<string> => {
    stats.forwarded++;
    const res = await fetch(o.target, { method: "POST", headers: { "content-type": "application/json" }, body });
    return res.text();
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        stats.requests++;
        const body = Buffer.concat(chunks).toString();
        const r = rand();
        const share = o.failRate / 4;
        try {
          if (r < share) {
            stats.http500++;
            res.writeHead(500, { "content-type": "text/plain" }).end("injected: internal server error");
          } else if (r < 2 * share) {
            stats.droppedBefore++;
            req.socket.destroy();
          } else if (r < 3 * share) {
            // The node got it (and may have executed a transaction), the answer is lost.
            stats.droppedAfter++;
            await forward(body);
            req.socket.destroy();
          } else if (r < o.failRate) {
            stats.rpcErrors++;
            const parsed = JSON.parse(body) as { id?: unknown } | { id?: unknown }[];
            const err = (id: unknown) => ({ jsonrpc: "2.0", id, error: { code: -32000, message: "injected fault" } });
            const out = Array.isArray(parsed) ? parsed.map((p) => err(p.id)) : err(parsed.id);
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
          } else {
            await new Promise((d) => setTimeout(d, Math.floor(rand() * o.maxDelayMs)));
            const text = await forward(body);
            res.writeHead(200, { "content-type": "application/json" }).end(text);
          }
        } catch {
          req.socket.destroy();
        }
      })();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    failed: () => stats.http500 + stats.droppedBefore + stats.droppedAfter + stats.rpcErrors,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    start: listen,
  };
}

/** Wall-clock accounting of the engine's phases (printed by sim/engine/smoke.ts and the
 * simulate task with LAB_PROFILE=1; `rpc <method>` lines count every request sent through chain.ts). */
const totals = new Map<string, number>();
const counts = new Map<string, number>();

export async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    totals.set(label, (totals.get(label) ?? 0) + performance.now() - t0);
  }
}

/** Adds `ms` to `label` (for phases that are not one awaited call). */
export function charge(label: string, ms: number, n = 0): void {
  totals.set(label, (totals.get(label) ?? 0) + ms);
  if (n > 0) counts.set(label, (counts.get(label) ?? 0) + n);
}

/** Total of `label` so far, in ms. */
export function spent(label: string): number {
  return totals.get(label) ?? 0;
}

export function profileReport(): string {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${(v / 1000).toFixed(2)} s${counts.has(k) ? ` (${counts.get(k)} calls)` : ""}`)
    .join("\n");
}

/** Wall-clock accounting of the engine's phases (printed by sim/engine/smoke.ts with LAB_PROFILE=1). */
const totals = new Map<string, number>();

export async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    totals.set(label, (totals.get(label) ?? 0) + performance.now() - t0);
  }
}

export function profileReport(): string {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${(v / 1000).toFixed(2)} s`)
    .join("\n");
}

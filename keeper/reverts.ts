/**
 * Memory of reverted transactions by (action, target, reason). After a revert, the same action on
 * the same target waits `cooldownBlocks` (the state that made it fail must change, and the next
 * attempt must pass a fresh simulation); after a second revert for the same reason it is never
 * sent again. The keeper simulates every transaction right before sending it, so a revert means
 * the state changed between simulation and inclusion (another keeper, a price update).
 */
export class RevertMemory {
  private readonly counts = new Map<string, number>();
  private readonly lastRevert = new Map<string, number>();
  private readonly banned = new Set<string>();
  /** The last sentence (lib/errors) seen per (action, target, reason). */
  private readonly explanations = new Map<string, string>();

  constructor(private readonly cooldownBlocks = 25) {}

  /**
   * Records a revert; returns how many times (action, target) reverted for this reason.
   * `explanation` is the revert as a sentence in human units, kept for `entries`.
   */
  record(action: string, target: string, reason: string, block: number, explanation?: string): number {
    const key = `${action}|${target}|${reason}`;
    if (explanation) this.explanations.set(key, explanation);
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    this.lastRevert.set(`${action}|${target}`, block);
    if (n >= 2) this.banned.add(`${action}|${target}`);
    return n;
  }

  /** Starts the cooldown of (action, target) before its reason is known. */
  touch(action: string, target: string, block: number): void {
    this.lastRevert.set(`${action}|${target}`, block);
  }

  blocked(action: string, target: string, block: number): boolean {
    const key = `${action}|${target}`;
    if (this.banned.has(key)) return true;
    const last = this.lastRevert.get(key);
    return last !== undefined && block - last < this.cooldownBlocks;
  }

  /** Every (action, target, reason) seen, with its count. */
  entries(): { action: string; target: string; reason: string; count: number; explanation?: string }[] {
    return [...this.counts].map(([k, count]) => {
      const [action, target, reason] = k.split("|");
      const explanation = this.explanations.get(k);
      return explanation ? { action, target, reason, count, explanation } : { action, target, reason, count };
    });
  }
}

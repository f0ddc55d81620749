import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";

/** Committed snapshot at the repository root: `{ "Contract.function (case)": gasUsed }`. */
export const SNAPSHOT_PATH = path.join(__dirname, "..", "..", "gas-snapshot.json");
/** A figure may not rise more than this fraction above the committed one. */
export const TOLERANCE = 0.02;

function readSnapshot(): Record<string, number> {
  if (!fs.existsSync(SNAPSHOT_PATH)) return {};
  return JSON.parse(fs.readFileSync(SNAPSHOT_PATH, "utf8")) as Record<string, number>;
}

/**
 * Collects gas figures for one spec, compares them with the committed snapshot and merges them
 * back into it (keys from other specs are kept). Call `record` per operation and `flush` in `after`.
 */
export class GasSnapshot {
  private readonly committed = readSnapshot();
  private readonly measured: Record<string, number> = {};

  /** Records the gas used by a mined transaction under `key` and returns it. */
  async record(key: string, tx: Promise<ContractTransactionResponse> | ContractTransactionResponse): Promise<number> {
    const receipt = await (await tx).wait();
    if (!receipt) throw new Error(`no receipt for ${key}`);
    return this.recordValue(key, Number(receipt.gasUsed));
  }

  /** Records a figure (gas) computed by the caller, e.g. a difference of two measurements. */
  recordValue(key: string, gas: number): number {
    if (key in this.measured) throw new Error(`gas key recorded twice: ${key}`);
    this.measured[key] = gas;
    return gas;
  }

  /** Asserts no figure rose more than TOLERANCE above the committed one, then writes the snapshot. */
  flush(): void {
    const regressions = Object.entries(this.measured)
      // |committed| so that a signed figure (a difference of two measurements) is compared the same way.
      .filter(
        ([key, gas]) => key in this.committed && gas > this.committed[key] + Math.abs(this.committed[key]) * TOLERANCE,
      )
      .map(([key, gas]) => `${key}: ${this.committed[key]} -> ${gas}`);
    const merged = { ...readSnapshot(), ...this.measured };
    const sorted = Object.fromEntries(
      Object.keys(merged)
        .sort()
        .map((k) => [k, merged[k]]),
    );
    fs.writeFileSync(SNAPSHOT_PATH, JSON.stringify(sorted, null, 2) + "\n");
    expect(regressions, `gas regressions above ${TOLERANCE * 100}%`).to.deep.equal([]);
  }
}

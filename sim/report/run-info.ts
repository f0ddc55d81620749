/** run.json: wall-clock and environment figures, kept out of metrics.json so that stays reproducible. */
import { execSync } from "node:child_process";
import { ModeName } from "../types";

export interface RunInfo {
  scenario: string;
  scenarioFile: string;
  modes: ModeName[];
  seeds: number[];
  network: string;
  chainId: number;
  /** ISO time the command started. */
  startedAt: string;
  /** Deploying and populating the world, once. */
  setupMs: number;
  runs: { mode: ModeName; seed: number; wallMs: number }[];
  /** From the command's start to the end of the last run (load, deploy, populate, runs). */
  simulationMs: number;
  /** Writing metrics, CSV, charts and HTML. */
  reportMs: number;
  /** From the command's start to the report written. */
  totalMs: number;
  nodeVersion: string;
  hardhatVersion: string;
  /** `git describe --always --dirty` of the code that ran ("unknown" outside a checkout). */
  commit?: string;
  /** Each mode's parameter set (sim/engine/modes.ts), as the report shows it. */
  modeParams?: Record<ModeName, unknown>;
}

/** The commit of the working tree at `cwd`: `git describe --always --dirty`, or "unknown". */
export function gitCommit(cwd = process.cwd()): string {
  try {
    return execSync("git describe --always --dirty", {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

export function serializeRunInfo(info: RunInfo): string {
  return JSON.stringify(info, null, 2) + "\n";
}

/** run.json: wall-clock and environment figures, kept out of metrics.json so that stays reproducible. */
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
}

export function serializeRunInfo(info: RunInfo): string {
  return JSON.stringify(info, null, 2) + "\n";
}

/**
 * Messages between the parallel runner (sim/parallel/index.ts) and its workers
 * (sim/parallel/worker.ts), sent over Node's IPC channel with structured-clone serialization (NaN,
 * ±Infinity and -0 survive the trip, so a worker's numbers reach the report as the serial run's).
 */
import type { Scenario } from "../scenario";
import type { ModeName, ProgressEvent, ScenarioRun } from "../types";

/** One unit of work: a seed and some of the modes, run as the serial engine runs them. */
export interface Unit {
  /** Position of the unit in the plan. */
  index: number;
  seed: number;
  modes: ModeName[];
  /** Global run index (serial order) of the unit's first run. */
  firstRun: number;
}

export type ToWorker = { type: "unit"; scenario: Scenario; unit: Unit; runs: number } | { type: "exit" };

export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; event: ProgressEvent }
  | { type: "result"; unit: number; run: ScenarioRun }
  | { type: "error"; message: string };

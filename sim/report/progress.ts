/**
 * Progress display for the engine's ProgressEvents: a cli-progress bar on a TTY (blocks within the
 * current run, and run i/n), plain lines otherwise (phase changes and every 10% of a run).
 */
import { SingleBar } from "cli-progress";
import { ProgressEvent, ProgressFn } from "../types";

export type ProgressStyle = "bar" | "lines" | "off";

export function defaultProgressStyle(stream: NodeJS.WriteStream = process.stderr): ProgressStyle {
  return stream.isTTY ? "bar" : "lines";
}

function runLabel(e: ProgressEvent): string {
  const i = e.runIndex !== undefined && e.runs !== undefined ? `run ${e.runIndex + 1}/${e.runs} ` : "";
  return `${i}${e.mode ?? "?"} seed ${e.seed ?? "?"}`;
}

/** Plain lines: one per phase change, and one per 10% of each run's blocks. */
export function lineProgress(write: (line: string) => void): ProgressFn {
  let lastPhase = "";
  let lastKey = "";
  let lastDecile = -1;
  return (e) => {
    if (e.phase === "run") {
      const key = `${e.mode}/${e.seed}/${e.runIndex}`;
      if (key !== lastKey) {
        lastKey = key;
        lastDecile = -1;
      }
      if (e.block === undefined || e.blocks === undefined || e.blocks <= 0) return;
      const decile = Math.floor((10 * Math.min(e.block, e.blocks)) / e.blocks);
      if (decile > lastDecile) {
        lastDecile = decile;
        write(`[lab] ${runLabel(e)}: block ${e.block}/${e.blocks} (${decile * 10}%)`);
      }
      lastPhase = e.phase;
      return;
    }
    if (e.phase !== lastPhase) {
      lastPhase = e.phase;
      write(`[lab] ${e.phase === "done" ? "runs done" : e.phase + "…"}`);
    }
  };
}

/** A cli-progress bar on `stream` for the blocks of the current run; phases print as lines above it. */
export function barProgress(stream: NodeJS.WriteStream = process.stderr): ProgressFn & { stop(): void } {
  const bar = new SingleBar({
    stream,
    format: "{label} |{bar}| {percentage}% | block {value}/{total} | {duration_formatted}",
    barCompleteChar: "█",
    barIncompleteChar: "░",
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
  });
  let active = "";
  let lastPhase = "";
  const stop = () => {
    if (active !== "") bar.stop();
    active = "";
  };
  const fn = (e: ProgressEvent) => {
    if (e.phase === "run") {
      const key = `${e.mode}/${e.seed}/${e.runIndex}`;
      const total = e.blocks ?? 0;
      if (key !== active) {
        stop();
        active = key;
        bar.start(total, 0, { label: runLabel(e) });
      }
      bar.update(Math.min(e.block ?? 0, total));
    } else if (e.phase !== lastPhase) {
      stop();
      stream.write(`[lab] ${e.phase === "done" ? "runs done" : e.phase + "…"}\n`);
    }
    lastPhase = e.phase;
  };
  return Object.assign(fn, { stop });
}

export function makeProgress(style: ProgressStyle): ProgressFn & { stop(): void } {
  if (style === "bar") return barProgress();
  if (style === "lines")
    return Object.assign(
      lineProgress((l) => process.stderr.write(l + "\n")),
      { stop: () => undefined },
    );
  return Object.assign(() => undefined, { stop: () => undefined });
}

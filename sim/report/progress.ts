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

/** Seconds as "1m 05s" (or "42s"). */
export function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "?";
  const s = Math.round(sec);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/**
 * Progress over all the runs at once (the parallel runner's workers report their runs' blocks
 * interleaved): the blocks done over all runs, the runs finished, and an ETA from the rate so far.
 */
export class RunsTracker {
  private readonly blocksDone = new Map<number, number>();
  private blocksPerRun = 0;
  private readonly t0: number;

  constructor(
    readonly runs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
  }

  /** Records a run event; false for other phases. */
  update(e: ProgressEvent): boolean {
    if (e.phase !== "run" || e.runIndex === undefined || e.blocks === undefined) return false;
    this.blocksPerRun = Math.max(this.blocksPerRun, e.blocks);
    const prev = this.blocksDone.get(e.runIndex) ?? 0;
    this.blocksDone.set(e.runIndex, Math.max(prev, Math.min(e.block ?? 0, e.blocks)));
    return true;
  }

  get total(): number {
    return this.runs * this.blocksPerRun;
  }

  get done(): number {
    let n = 0;
    for (const v of this.blocksDone.values()) n += v;
    return n;
  }

  get runsDone(): number {
    return [...this.blocksDone.values()].filter((v) => this.blocksPerRun > 0 && v >= this.blocksPerRun).length;
  }

  /** Seconds left at the rate so far; NaN before any block. */
  etaSec(): number {
    const done = this.done;
    if (done === 0 || this.total === 0) return NaN;
    const elapsed = (this.now() - this.t0) / 1000;
    return (elapsed * (this.total - done)) / done;
  }

  line(): string {
    const pct = this.total === 0 ? 0 : Math.floor((100 * this.done) / this.total);
    return `runs ${this.runsDone}/${this.runs} done, blocks ${this.done}/${this.total} (${pct}%), ETA ${formatEta(this.etaSec())}`;
  }
}

/**
 * One display over all runs: on a TTY a bar of all runs' blocks with runs done and ETA; otherwise
 * a plain line per 10% of all blocks. Phases (deploy…, runs done) print as lines.
 */
export function overallProgress(style: ProgressStyle, runs: number): ProgressFn & { stop(): void } {
  if (style === "off") return Object.assign(() => undefined, { stop: () => undefined });
  const stream = process.stderr;
  const tracker = new RunsTracker(runs);
  const bar =
    style === "bar"
      ? new SingleBar({
          stream,
          format: "[lab] {runsDone}/{runs} runs |{bar}| {percentage}% | ETA {etaText} | {duration_formatted}",
          barCompleteChar: "█",
          barIncompleteChar: "░",
          hideCursor: true,
          clearOnComplete: false,
        })
      : undefined;
  let started = false;
  let lastDecile = -1;
  const stop = () => {
    if (started) bar?.stop();
    started = false;
  };
  const fn = (e: ProgressEvent) => {
    if (!tracker.update(e)) {
      stop();
      if (e.phase !== "run") stream.write(`[lab] ${e.phase === "done" ? "runs done" : e.phase + "…"}\n`);
      return;
    }
    const payload = { runsDone: tracker.runsDone, runs, etaText: formatEta(tracker.etaSec()) };
    if (bar) {
      if (!started) bar.start(tracker.total, 0, payload);
      started = true;
      bar.setTotal(tracker.total);
      bar.update(tracker.done, payload);
      return;
    }
    const decile = Math.floor((10 * tracker.done) / tracker.total);
    if (decile > lastDecile) {
      lastDecile = decile;
      stream.write(`[lab] ${tracker.line()}\n`);
    }
  };
  return Object.assign(fn, { stop });
}

/**
 * Progress display for the engine's ProgressEvents, on stderr. On a TTY: one bar over all the runs
 * (seeds × modes), redrawn in place at every block, with runs done, rate, elapsed time and ETA.
 * Not on a TTY, nothing unless forced (`--progress lines` or `bar`): then plain lines.
 * The formatting and the ETA are pure functions of the counts and an injected clock (tested in
 * test/scripts/Progress.spec.ts).
 */
import { ProgressEvent, ProgressFn } from "../types";

export type ProgressStyle = "bar" | "lines" | "off";

/** A bar on a TTY; off otherwise (pass `--progress lines` or `bar` to force output). */
export function defaultProgressStyle(stream: { isTTY?: boolean } = process.stderr): ProgressStyle {
  return stream.isTTY ? "bar" : "off";
}

function runLabel(e: ProgressEvent): string {
  const i = e.runIndex !== undefined && e.runs !== undefined ? `run ${e.runIndex + 1}/${e.runs} ` : "";
  return `${i}${e.mode ?? "?"} seed ${e.seed ?? "?"}`;
}

function phaseLine(e: ProgressEvent): string {
  return `[lab] ${e.phase === "done" ? "runs done" : e.phase + "…"}`;
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
      if (e.block === undefined || e.blocks === undefined || e.blocks <= 0 || e.block > e.blocks) return;
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
      write(phaseLine(e));
    }
  };
}

/** Seconds as "1h 02m", "1m 05s" or "42s"; "?" when unknown. */
export function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "?";
  const s = Math.round(sec);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Seconds left for `total − done` units at the rate so far (`done` in `elapsedSec`); NaN before any. */
export function etaSec(done: number, total: number, elapsedSec: number): number {
  if (!(done > 0) || !(total > 0) || !(elapsedSec >= 0)) return NaN;
  return (elapsedSec * Math.max(0, total - done)) / done;
}

/** A text bar of `width` cells for `fraction` ∈ [0, 1]. */
export function textBar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return "█".repeat(full) + "░".repeat(width - full);
}

export interface ProgressCounts {
  /** Units done and in all (blocks, sequences, scenarios…). */
  done: number;
  total: number;
  /** What one unit is called in the line ("blocks", "sequences"). */
  unit: string;
  elapsedSec: number;
  /** Seconds in which `done` was made, for the rate and ETA; default `elapsedSec`. */
  workSec?: number;
  /** Optional "runs 2/4" style counter. */
  items?: { label: string; done: number; total: number };
  /** Free text at the end (the current run, a phase). */
  note?: string;
}

/**
 * One progress line: `|bar| 45% | runs 2/4 | 540/1200 blocks | 12.3 blocks/s | 1m 05s | ETA 1m 20s`.
 * Pure: the same counts give the same line.
 */
export function formatProgress(c: ProgressCounts, barWidth = 24): string {
  const frac = c.total > 0 ? c.done / c.total : 0;
  const pct = Math.floor(100 * Math.min(1, frac));
  const work = c.workSec ?? c.elapsedSec;
  const rate = work > 0 ? c.done / work : NaN;
  const parts = [
    `|${textBar(frac, barWidth)}| ${String(pct).padStart(3)}%`,
    ...(c.items ? [`${c.items.label} ${c.items.done}/${c.items.total}`] : []),
    `${c.done}/${c.total} ${c.unit}`,
    Number.isFinite(rate) ? `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)} ${c.unit}/s` : `? ${c.unit}/s`,
    formatEta(c.elapsedSec),
    `ETA ${c.done >= c.total && c.total > 0 ? "0s" : formatEta(etaSec(c.done, c.total, work))}`,
  ];
  return parts.join(" | ") + (c.note ? ` | ${c.note}` : "");
}

/**
 * Progress over all the runs at once (the parallel runner's workers report their runs' blocks
 * interleaved): the blocks done over all runs, the runs finished, and an ETA from the rate so far.
 * A "run" event past the run's last block is a drain block (docs/lab-world.md, "Drain").
 */
export class RunsTracker {
  private readonly blocksDone = new Map<number, number>();
  private readonly drained = new Map<number, number>();
  private blocksPerRun = 0;
  private readonly t0: number;
  /** When the first block came: the rate (and ETA) leave the deploy before it out. */
  private tFirst: number | undefined;
  /** The latest run event's run, for the display. */
  current = "";

  constructor(
    public runs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.t0 = now();
  }

  /** Records a run event; false for other phases. */
  update(e: ProgressEvent): boolean {
    if (e.phase !== "run" || e.runIndex === undefined || e.blocks === undefined) return false;
    if (e.runs !== undefined && e.runs > this.runs) this.runs = e.runs;
    this.tFirst ??= this.now();
    this.blocksPerRun = Math.max(this.blocksPerRun, e.blocks);
    const block = e.block ?? 0;
    const prev = this.blocksDone.get(e.runIndex) ?? 0;
    this.blocksDone.set(e.runIndex, Math.max(prev, Math.min(block, e.blocks)));
    if (block > e.blocks) this.drained.set(e.runIndex, Math.max(this.drained.get(e.runIndex) ?? 0, block - e.blocks));
    const drain = this.drained.get(e.runIndex);
    this.current = `${runLabel({ ...e, runs: e.runs ?? this.runs })}${drain !== undefined ? ` (drain +${drain})` : ""}`;
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

  elapsedSec(): number {
    return (this.now() - this.t0) / 1000;
  }

  /** Seconds since the first block (0 before it). */
  runningSec(): number {
    return this.tFirst === undefined ? 0 : (this.now() - this.tFirst) / 1000;
  }

  /** Seconds left at the rate since the first block; NaN before any block. */
  etaSec(): number {
    return etaSec(this.done, this.total, this.runningSec());
  }

  line(): string {
    const pct = this.total === 0 ? 0 : Math.floor((100 * this.done) / this.total);
    return `runs ${this.runsDone}/${this.runs} done, blocks ${this.done}/${this.total} (${pct}%), ETA ${formatEta(this.etaSec())}`;
  }

  /** The bar's line (formatProgress) with `note` (a phase) or the current run. */
  barLine(note?: string): string {
    return formatProgress({
      done: this.done,
      total: this.total,
      unit: "blocks",
      elapsedSec: this.elapsedSec(),
      workSec: this.runningSec(),
      items: { label: "runs", done: this.runsDone, total: this.runs },
      note: note ?? this.current,
    });
  }
}

/** Where a display writes: a stream (in-place redraws when it is a TTY) and a clock. */
export interface ProgressSink {
  write(s: string): void;
  isTTY?: boolean;
  columns?: number;
}

export type ProgressDisplay = ProgressFn & { stop(): void };

export interface DisplayOptions {
  stream?: ProgressSink;
  now?: () => number;
  /** Redraw period for the elapsed time and ETA when no event arrives (ms); 0 = none. */
  tickMs?: number;
  /** Minimum time between two redraws on a TTY, or two lines otherwise (ms). */
  minRedrawMs?: number;
}

/**
 * One bar over all runs: on a TTY, a line redrawn in place (at most every `minRedrawMs`, and every
 * `tickMs` so the clock moves during a deploy or a slow block); elsewhere a line per 10% of all
 * blocks and at most every 10 s. Phases show in the bar's note.
 */
function barDisplay(runs: number, opts: DisplayOptions): ProgressDisplay {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const minGap = opts.minRedrawMs ?? (tty ? 100 : 10_000);
  const tracker = new RunsTracker(runs, now);
  let note: string | undefined = "deploy…";
  let last = -Infinity;
  let lastDecile = -1;
  let drawn = false;
  const draw = (force = false) => {
    const t = now();
    const decile = tracker.total > 0 ? Math.floor((10 * tracker.done) / tracker.total) : 0;
    if (!force && t - last < minGap && (tty || decile <= lastDecile)) return;
    last = t;
    lastDecile = decile;
    const line = `[lab] ${tracker.barLine(note)}`;
    const width = stream.columns ?? 0;
    const shown = width > 10 && line.length >= width ? line.slice(0, width - 1) : line;
    stream.write(tty ? `\r\x1b[2K${shown}` : `${line}\n`);
    drawn = true;
  };
  const timer = tty && (opts.tickMs ?? 1000) > 0 ? setInterval(() => draw(true), opts.tickMs ?? 1000) : undefined;
  timer?.unref?.();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearInterval(timer);
    if (drawn || tracker.done > 0) draw(true);
    if (tty && drawn) stream.write("\n");
  };
  const fn = (e: ProgressEvent) => {
    if (tracker.update(e)) {
      note = undefined;
      draw();
    } else if (e.phase === "done") {
      note = "runs done";
      stop();
    } else {
      note = e.phase === "populate" && e.seed !== undefined ? `populate seed ${e.seed}…` : `${e.phase}…`;
      draw(tty);
    }
  };
  return Object.assign(fn, { stop });
}

/** Plain lines over all runs: phases, then a line per 10% of all blocks (tracker.line()). */
function overallLines(runs: number, opts: DisplayOptions): ProgressDisplay {
  const stream = opts.stream ?? process.stderr;
  const tracker = new RunsTracker(runs, opts.now);
  let lastDecile = -1;
  let lastPhase = "";
  const fn = (e: ProgressEvent) => {
    if (!tracker.update(e)) {
      // The workers' populate events would repeat between runs: only deploy and done print.
      if (e.phase !== lastPhase && e.phase !== "populate") stream.write(phaseLine(e) + "\n");
      lastPhase = e.phase;
      return;
    }
    lastPhase = e.phase;
    const decile = Math.floor((10 * tracker.done) / tracker.total);
    if (decile > lastDecile) {
      lastDecile = decile;
      stream.write(`[lab] ${tracker.line()}\n`);
    }
  };
  return Object.assign(fn, { stop: () => undefined });
}

const OFF: ProgressDisplay = Object.assign(() => undefined, { stop: () => undefined });

/**
 * One display over all runs (`runs` = seeds × modes; events that carry `runs` may raise it):
 * "bar" draws the overall bar, "lines" prints a line per 10% of all blocks, "off" nothing.
 */
export function overallProgress(style: ProgressStyle, runs: number, opts: DisplayOptions = {}): ProgressDisplay {
  if (style === "off") return OFF;
  return style === "bar" ? barDisplay(runs, opts) : overallLines(runs, opts);
}

/** The serial runner's display: the overall bar, or (lines) a line per 10% of each run. */
export function makeProgress(style: ProgressStyle, runs = 1, opts: DisplayOptions = {}): ProgressDisplay {
  if (style === "bar") return barDisplay(runs, opts);
  if (style === "lines") {
    const stream = opts.stream ?? process.stderr;
    return Object.assign(
      lineProgress((l) => stream.write(l + "\n")),
      { stop: () => undefined },
    );
  }
  return OFF;
}

/**
 * Issue 26, item 10: the progress display's formatting and ETA (pure, injected clock), the
 * overall bar over interleaved runs with drain blocks, TTY-only by default, and the ETA of
 * `npm run results`.
 */
import { expect } from "chai";
import {
  defaultProgressStyle,
  etaSec,
  formatEta,
  formatProgress,
  overallProgress,
  RunsTracker,
  textBar,
} from "../../sim/report/progress";
import { resultsProgress } from "../../scripts/lib/progress";

describe("progress: formatter and ETA (issue 26, item 10)", () => {
  it("formats durations and estimates the time left at the rate so far", () => {
    expect(formatEta(42.4)).to.equal("42s");
    expect(formatEta(65)).to.equal("1m 05s");
    expect(formatEta(3725)).to.equal("1h 02m");
    expect(formatEta(NaN)).to.equal("?");
    expect(formatEta(-1)).to.equal("?");
    expect(etaSec(0, 100, 10)).to.be.NaN;
    expect(etaSec(25, 100, 10)).to.equal(30);
    expect(etaSec(100, 100, 10)).to.equal(0);
    expect(textBar(0.5, 10)).to.equal("█████░░░░░");
    expect(textBar(2, 4)).to.equal("████");
  });

  it("one line has the bar, percentage, counter, rate, elapsed time and ETA", () => {
    const line = formatProgress({
      done: 120,
      total: 480,
      unit: "blocks",
      elapsedSec: 10,
      items: { label: "runs", done: 0, total: 2 },
      note: "run 1/2 baseline seed 7",
    });
    expect(line).to.equal(
      "|██████░░░░░░░░░░░░░░░░░░|  25% | runs 0/2 | 120/480 blocks | 12 blocks/s | 10s | ETA 30s | run 1/2 baseline seed 7",
    );
    expect(formatProgress({ done: 3, total: 3, unit: "sequences", elapsedSec: 2 })).to.match(
      /100% \| 3\/3 sequences \| 1\.5 sequences\/s \| 2s \| ETA 0s$/,
    );
  });

  it("tracks interleaved runs block by block; drain blocks show in the note, not past 100%", () => {
    let now = 0;
    const t = new RunsTracker(2, () => now);
    for (let b = 1; b <= 10; b++)
      t.update({ phase: "run", runIndex: 0, mode: "baseline", seed: 7, block: b, blocks: 10 });
    now = 4_000;
    t.update({ phase: "run", runIndex: 1, mode: "full", seed: 7, block: 6, blocks: 10 });
    t.update({ phase: "run", runIndex: 0, mode: "baseline", seed: 7, block: 13, blocks: 10 });
    expect(t.done).to.equal(16);
    expect(t.total).to.equal(20);
    expect(t.runsDone).to.equal(1);
    expect(t.etaSec()).to.equal(1);
    expect(t.current).to.equal("run 1/2 baseline seed 7 (drain +3)");
    expect(t.barLine()).to.contain("| runs 1/2 | 16/20 blocks | 4.0 blocks/s | 4s | ETA 1s |");
  });

  it("leaves the deploy before the first block out of the rate and the ETA", () => {
    let now = 0;
    const t = new RunsTracker(1, () => now);
    now = 30_000; // 30 s of deploy and populate
    t.update({ phase: "run", runIndex: 0, block: 1, blocks: 100 });
    now = 40_000;
    t.update({ phase: "run", runIndex: 0, block: 51, blocks: 100 });
    expect(t.etaSec()).to.be.closeTo((10 * 49) / 51, 1e-12); // 51 blocks in the 10 s since the first
    expect(t.barLine()).to.contain("| 51/100 blocks | 5.1 blocks/s | 40s | ETA 10s |");
  });

  it("the bar is redrawn in place on a TTY, at every block past the redraw gap, and ends with a newline", () => {
    let now = 0;
    const out: string[] = [];
    const p = overallProgress("bar", 2, {
      stream: { write: (s) => out.push(s), isTTY: true, columns: 200 },
      now: () => now,
      tickMs: 0,
      minRedrawMs: 100,
    });
    p({ phase: "deploy" });
    for (let b = 1; b <= 20; b++) {
      now += 150;
      p({
        phase: "run",
        runIndex: Math.floor((b - 1) / 10),
        mode: "m",
        seed: 1,
        block: ((b - 1) % 10) + 1,
        blocks: 10,
      });
    }
    p({ phase: "done" });
    const draws = out.filter((s) => s.startsWith("\r\x1b[2K[lab] "));
    expect(draws.length).to.be.at.least(21); // deploy, one per block, the final one
    expect(draws.some((s) => s.includes("| 7/20 blocks |"))).to.equal(true);
    expect(draws.at(-1)).to.contain("| runs 2/2 | 20/20 blocks |").and.contain("ETA 0s | runs done");
    expect(out.at(-1)).to.equal("\n");
  });

  it("prints nothing by default when stderr is not a TTY; a forced bar prints plain lines", () => {
    expect(defaultProgressStyle({ isTTY: false })).to.equal("off");
    expect(defaultProgressStyle({ isTTY: true })).to.equal("bar");
    const out: string[] = [];
    let now = 0;
    const p = overallProgress("bar", 1, { stream: { write: (s) => out.push(s) }, now: () => now });
    for (let b = 1; b <= 100; b++) {
      now += 10;
      p({ phase: "run", runIndex: 0, block: b, blocks: 100 });
    }
    p.stop();
    expect(out.every((s) => s.endsWith("\n") && !s.includes("\r"))).to.equal(true);
    expect(out.length).to.be.within(10, 12); // a line per 10%, then the last
  });

  it("npm run results: the ETA weighs scenarios by their blocks", () => {
    expect(resultsProgress(0, 3, "a.json", [100, 300, 600], 0)).to.equal(
      "1/3: a.json (0 done, 0s elapsed, ETA after the first scenario)",
    );
    // 400 of 1000 blocks in 80 s: 600 left at 5 blocks/s.
    expect(resultsProgress(2, 3, "c.json", [100, 300, 600], 80)).to.equal(
      "3/3: c.json (2 done, 1m 20s elapsed, ETA 2m 00s)",
    );
  });
});

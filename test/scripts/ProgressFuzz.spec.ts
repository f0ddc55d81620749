/**
 * Issue 26, item 10: `npm run fuzz` shows progress (runs done/total, rate, ETA) on a timer, for any
 * budget. The workers here are a stand-in for the spec that prints what the spec prints under
 * scripts/fuzz.ts (`fuzz-progress: N` after each sequence, then its summary), and the interval is
 * 50 ms instead of 30 s.
 */
import { expect } from "chai";
import { runWorkers, type Command } from "../../scripts/lib/progress";

const FAKE_SPEC = `
const n = Number(process.env.N);
let i = 0;
const t = setInterval(() => {
  i++;
  console.log("fuzz-progress: " + i);
  if (i === n) { clearInterval(t); console.log("      fuzz: runs=" + n + " seed=1 violations=0"); }
}, 60);
`;

describe("fuzz progress (issue 26, item 10)", function () {
  this.timeout(20_000);

  it("prints a progress line per interval for a run of a few sequences, and hides the machine lines", async () => {
    const out: string[] = [];
    const command: Command = (w) => ({
      cmd: process.execPath,
      args: ["-e", FAKE_SPEC],
      env: { ...process.env, N: String(w.runs) },
    });
    const workers = await runWorkers(
      { runs: 6, seed: 1, steps: 40, jobs: 2 },
      {
        intervalMs: 50,
        command,
        out: (s) => out.push(s),
      },
    );
    expect(workers.map((w) => [w.runs, w.done, w.code])).to.deep.equal([
      [3, 3, 0],
      [3, 3, 0],
    ]);
    expect(workers[0].summary).to.equal("runs=3 seed=1 violations=0");
    const progress = out.filter((l) => l.startsWith("fuzz: progress "));
    expect(progress.length).to.be.at.least(2);
    expect(progress.some((l) => /\| [1-5]\/6 sequences \| [0-9.]+ sequences\/s \| \d+s \| ETA \d+s/.test(l))).to.equal(
      true,
    );
    expect(out.join("")).to.not.contain("fuzz-progress");
    expect(out).to.include("[0]       fuzz: runs=3 seed=1 violations=0\n");
  });
});

/**
 * Coverage gate: reads coverage/coverage-summary.json (solidity-coverage's istanbul json-summary)
 * and fails when lines < 95% or branches < 90% over contracts/, mocks (contracts/test/) excluded.
 * Prints the totals and the files below either gate.
 *
 *   npm run coverage     # solidity-coverage, then this gate
 */
import fs from "node:fs";
import path from "node:path";

const LINES_MIN = 95;
const BRANCHES_MIN = 90;
const SUMMARY = path.join(__dirname, "..", "coverage", "coverage-summary.json");

interface Metric {
  total: number;
  covered: number;
  pct: number | string;
}
type FileSummary = Record<"lines" | "branches" | "statements" | "functions", Metric>;

class CoverageGateError extends Error {}

function main(): void {
  if (!fs.existsSync(SUMMARY)) {
    throw new CoverageGateError(`${SUMMARY} not found: run solidity-coverage first (npm run coverage)`);
  }
  const summary = JSON.parse(fs.readFileSync(SUMMARY, "utf8")) as Record<string, FileSummary>;
  const files = Object.entries(summary).filter(
    ([file]) =>
      file !== "total" &&
      file.includes(`contracts${path.sep}`) &&
      !file.includes(`contracts${path.sep}test${path.sep}`),
  );
  if (files.length === 0) throw new CoverageGateError("no contracts/ files in the coverage summary");
  const sum = (key: "lines" | "branches"): [number, number] =>
    files.reduce<[number, number]>(([c, t], [, s]) => [c + s[key].covered, t + s[key].total], [0, 0]);
  const [lc, lt] = sum("lines");
  const [bc, bt] = sum("branches");
  const lines = lt === 0 ? 100 : (100 * lc) / lt;
  const branches = bt === 0 ? 100 : (100 * bc) / bt;
  console.log(`coverage over ${files.length} files in contracts/ (mocks excluded):`);
  console.log(`  lines    ${lines.toFixed(2)}% (${lc}/${lt}), gate ${LINES_MIN}%`);
  console.log(`  branches ${branches.toFixed(2)}% (${bc}/${bt}), gate ${BRANCHES_MIN}%`);
  const weak = files.filter(([, s]) => Number(s.lines.pct) < LINES_MIN || Number(s.branches.pct) < BRANCHES_MIN);
  for (const [file, s] of weak) {
    console.log(
      `  below a gate: ${path.relative(process.cwd(), file)} lines ${s.lines.pct}% branches ${s.branches.pct}%`,
    );
  }
  if (lines < LINES_MIN || branches < BRANCHES_MIN) {
    console.error("coverage gate: FAILED");
    process.exit(1);
  }
  console.log("coverage gate: passed");
}

try {
  main();
} catch (e) {
  console.error(`coverage gate: ${(e as Error).message}`);
  process.exit(1);
}

/**
 * `npm run results`: every shipped scenario (sim/scenarios/, except the ground-truth one) in
 * `baseline` and `full`, each mode with its single parameter set (nothing is tuned per scenario),
 * then docs/results.md: one table per scenario and the checks of issue #6 point 6, pass or fail.
 * Reports go to reports/results-<timestamp>/<scenario>/. Exits non-zero if a check fails.
 */
import { execSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import { isStats, MetricsFile, MetricStats } from "../sim/aggregate";
import { simulate, timestamp, withCleanErrors } from "../sim/cli";
import { formatValue } from "../sim/report/table";
import { loadScenario } from "../sim/scenario";
import { resultsProgress } from "./lib/progress";
import { METRIC_NAMES, Metrics } from "../sim/types";

const SCENARIOS = path.join(__dirname, "..", "sim", "scenarios");
const OUT = path.join(__dirname, "..", "docs", "results.md");
const THIN_BOOK = "thin-books-flash-crash";
const MODES = ["baseline", "full"];

/** A metric as one number: the value for one seed, the p50 for several. */
function value(file: MetricsFile, mode: string, metric: keyof Metrics): number | null {
  const v = (file.modes[mode] as Record<string, number | null | MetricStats>)[metric];
  return isStats(v) ? v.p50 : v;
}

interface Check {
  scenario: string;
  what: string;
  detail: string;
  pass: boolean;
}

function checksFor(file: MetricsFile): Check[] {
  const b = (m: keyof Metrics) => value(file, "baseline", m);
  const f = (m: keyof Metrics) => value(file, "full", m);
  const checks: Check[] = [];
  const add = (what: string, detail: string, pass: boolean) =>
    checks.push({ scenario: file.scenario, what, detail, pass });
  const num = (v: number | null) => formatValue(v);
  const le = (x: number | null, y: number | null) => x !== null && y !== null && x <= y;

  add(
    "full bad debt ≤ baseline",
    `${num(f("badDebtUsd"))} vs ${num(b("badDebtUsd"))}`,
    le(f("badDebtUsd"), b("badDebtUsd")),
  );
  const fx = f("excessLiquidatedNotionalUsd");
  const bx = b("excessLiquidatedNotionalUsd");
  if (bx !== null && bx > 0) {
    add("full excess-liquidated < baseline (baseline has some)", `${num(fx)} vs ${num(bx)}`, fx !== null && fx < bx);
  } else {
    add("full excess-liquidated ≤ baseline", `${num(fx)} vs ${num(bx)}`, le(fx, bx));
  }
  if (file.scenario === THIN_BOOK) {
    const ba = b("amplification");
    add("baseline amplification ≥ 1.3", num(ba), ba !== null && ba >= 1.3);
    add("baseline excess-liquidated > 0", num(bx), bx !== null && bx > 0);
    const fb = f("badDebtUsd");
    add("full bad debt = 0", num(fb), fb === 0);
    const fa = f("amplification");
    add("full amplification ≤ 1.10", num(fa), fa !== null && fa <= 1.1);
    add(
      "full excess-liquidated ≤ 10% of baseline",
      `${num(fx)} vs 10% of ${num(bx)} = ${num(bx === null ? null : bx * 0.1)}`,
      fx !== null && bx !== null && fx <= 0.1 * bx,
    );
  }
  return checks;
}

function scenarioTable(file: MetricsFile): string {
  const lines = ["| metric | baseline | full |", "|---|---:|---:|"];
  for (const m of METRIC_NAMES)
    lines.push(`| \`${m}\` | ${formatValue(value(file, "baseline", m))} | ${formatValue(value(file, "full", m))} |`);
  return lines.join("\n");
}

function gitCommit(): string {
  try {
    return execSync("git describe --always --dirty", { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** A scenario's work, in blocks: blocks × modes × seeds (the ETA's unit). */
function scenarioWork(file: string): number {
  const s = loadScenario(file);
  return s.blocks * MODES.length * s.seeds;
}

async function main() {
  const files = fs
    .readdirSync(SCENARIOS)
    .filter((f) => f.endsWith(".json") && !f.includes("ground-truth"))
    .sort();
  if (files.length === 0) throw new Error(`no scenarios in ${SCENARIOS}`);
  const started = new Date();
  const commit = gitCommit(); // the code this run loads (a "-dirty" suffix: uncommitted changes)
  const root = path.join("reports", `results-${timestamp(started)}`);
  const results: { file: MetricsFile; seconds: number; report: string }[] = [];
  const work = files.map((f) => scenarioWork(path.join(SCENARIOS, f)));
  const t00 = performance.now();
  for (const [i, f] of files.entries()) {
    console.log(`\n[results] ${resultsProgress(i, files.length, f, work, (performance.now() - t00) / 1000)}`);
    if (hre.network.name === "hardhat") await hre.network.provider.send("hardhat_reset", []);
    const t0 = performance.now();
    const res = await withCleanErrors(() =>
      simulate(hre, {
        scenario: path.join(SCENARIOS, f),
        modes: MODES,
        out: path.join(root, path.basename(f, ".json")),
        jobs: process.env.SIM_JOBS, // default min(cores, runs) worker processes (docs/simulation.md)
        chain: process.env.SIM_CHAIN,
      }),
    );
    if (res === undefined) throw new Error(`scenario ${f} failed to load`);
    results.push({
      file: res.metrics,
      seconds: (performance.now() - t0) / 1000,
      report: path.join(res.dir, "report.html"),
    });
  }

  const checks = results.flatMap((r) => checksFor(r.file));
  const failed = checks.filter((c) => !c.pass);
  const seedNote = (m: MetricsFile) =>
    m.seeds.length === 1 ? `seed ${m.seeds[0]}` : `seeds ${m.seeds.join(", ")} (p50)`;
  const md = [
    "# Results: every shipped scenario, baseline against full",
    "",
    `Generated by \`npm run results\` (scripts/results.ts) on ${started.toISOString().slice(0, 10)} at commit ` +
      `\`${commit}\`, on the in-process Hardhat network (${hre.network.name}), Node ${process.version}. ` +
      "Do not edit by hand.",
    "",
    "Every scenario runs in `baseline` and in `full`, each with its one parameter set: nothing is tuned per",
    "scenario. Metric definitions are in [simulation.md](simulation.md#metrics-json); with several seeds the",
    "tables show the p50. USD figures are dollars. Why `full` misses the checks it misses, and what was",
    "changed because of them: [results-analysis.md](results-analysis.md).",
    "",
    "## Checks (issue #6, acceptance 6)",
    "",
    `${checks.length - failed.length} of ${checks.length} checks pass.`,
    "",
    "| scenario | check | full vs baseline | result |",
    "|---|---|---|---|",
    ...checks.map((c) => `| ${c.scenario} | ${c.what} | ${c.detail} | ${c.pass ? "pass" : "**FAIL**"} |`),
    "",
    ...results.flatMap((r) => [
      `## ${r.file.scenario}`,
      "",
      `${seedNote(r.file)}; ${r.seconds.toFixed(0)} s wall clock.`,
      "",
      scenarioTable(r.file),
      "",
    ]),
  ].join("\n");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const prettier = require("prettier") as typeof import("prettier");
  const options = (await prettier.resolveConfig(OUT)) ?? {};
  fs.writeFileSync(OUT, await prettier.format(md, { ...options, parser: "markdown" }));
  console.log(
    `\n[results] ${checks.length - failed.length}/${checks.length} checks pass; wrote ${path.relative(process.cwd(), OUT)}`,
  );
  for (const c of failed) console.log(`  FAIL ${c.scenario}: ${c.what} (${c.detail})`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

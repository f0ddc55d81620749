import fs from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// ------------------------------------------------------------------ import direction (#21)
//
// lib/ is the bottom layer: it imports nothing of the project but typechain-types. deploy/ imports
// only lib/. sim/, keeper/ and scripts/lib/ import lib/ and deploy/ (and typechain-types). The CLI
// modules (tasks/*, scripts/*.ts entry points, sim/cli.ts) and test/ are imported by nothing but
// hardhat.config.ts (which loads the tasks) and test/ itself. Relative imports are matched per
// folder depth, so that `../scripts/cli` from test/fork (test/scripts/cli.ts) is told from
// `../scripts/cli` from keeper/ (scripts/cli.ts).
const TOPS = ["lib", "deploy", "sim", "keeper", "scripts", "tasks", "test"];
/** What each top folder may not import, by top folder (CLI modules and test/ come on top). */
const FORBIDDEN = {
  lib: ["deploy", "sim", "keeper", "scripts", "tasks", "test", "hardhat.config"],
  deploy: ["sim", "keeper", "scripts", "tasks", "test", "hardhat.config"],
  sim: ["keeper", "scripts", "tasks", "test"],
  keeper: ["sim", "scripts", "tasks", "test"],
  scripts: ["tasks", "test"],
  tasks: ["test"],
  test: [],
};
/** Folders under a top folder that hold .ts files, as paths from the repository root. */
function tsFolders(dir) {
  if (!fs.existsSync(dir)) return [];
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const here = entries.some((e) => e.isFile() && e.name.endsWith(".ts")) ? [dir] : [];
  return here.concat(...entries.filter((e) => e.isDirectory()).map((e) => tsFolders(`${dir}/${e.name}`)));
}
const esc = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Regex prefix of a relative import that climbs `n` folders (`./` for none). */
const climb = (n) => (n === 0 ? "\\./" : `(?:\\.\\./){${n}}`);

// TODO(sim helper, #21 item 3): sim/cli.ts also holds library functions (simulate, resolveRun,
// withCleanErrors, timestamp, DEFAULT_SCENARIO, UsageError) that these modules import. Once those
// move out of sim/cli.ts, empty this list so that the sim/cli rule applies to them too.
const SIM_CLI_IMPORTERS = [
  "scripts/ablation.ts",
  "scripts/bench-sim.ts",
  "scripts/results.ts",
  "scripts/simulate.ts",
  "tasks/simulate.ts",
  "test/sim/front.spec.ts",
];

/** The `no-restricted-imports` patterns for the .ts files directly in `folder`. */
function importPatterns(folder, allowSimCli) {
  const parts = folder.split("/");
  const top = parts[0];
  const root = `^${climb(parts.length)}`;
  const fromTop = `^${climb(parts.length - 1)}`;
  const patterns = FORBIDDEN[top].map((f) => ({
    regex: `${root}${esc(f)}(?:/|$)`,
    message: `${top}/ may not import ${f} (docs/architecture.md, "Where things live").`,
  }));
  if (top === "lib") {
    patterns.push({
      regex: `${root}(?!typechain-types(?:/|$)|lib/)`,
      message: "lib/ imports nothing of the project but typechain-types.",
    });
  }
  const cli = "is a CLI module: nothing imports it";
  if (!FORBIDDEN[top].includes("tasks")) {
    patterns.push({ regex: top === "tasks" ? `${fromTop}[^/]+$` : `${root}tasks(?:/|$)`, message: `tasks/* ${cli}.` });
  }
  if (!FORBIDDEN[top].includes("scripts")) {
    const entry = top === "scripts" ? `${fromTop}[^./][^/]*$` : `${root}scripts/[^/]+$`;
    patterns.push({ regex: entry, message: `A scripts/*.ts entry point ${cli}.` });
  }
  if (!allowSimCli && !FORBIDDEN[top].includes("sim")) {
    patterns.push({ regex: top === "sim" ? `${fromTop}cli$` : `${root}sim/cli$`, message: `sim/cli.ts ${cli}.` });
  }
  return patterns;
}
const restrict = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
const layers = TOPS.flatMap(tsFolders).flatMap((folder) => {
  const exceptions = SIM_CLI_IMPORTERS.filter((f) => f.slice(0, f.lastIndexOf("/")) === folder);
  return [
    { files: [`${folder}/*.ts`], ignores: exceptions, rules: restrict(importPatterns(folder, false)) },
    ...(exceptions.length > 0 ? [{ files: exceptions, rules: restrict(importPatterns(folder, true)) }] : []),
  ];
});

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "typechain-types/",
      "coverage/",
      "reports/",
      "dist/",
      "deploy/deployments/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
  ...layers,
);

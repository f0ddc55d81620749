import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** scripts/function-lengths.ts, run as a user runs it. */
function lengths(...args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync("npx", ["ts-node", "--transpile-only", "scripts/function-lengths.ts", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout };
}

describe("scripts/function-lengths.ts (issue #21: no function over 80 lines)", function () {
  this.timeout(120_000);

  it("finds no function over 80 lines in keeper/, lib/, scripts/, tasks/ and sim/", function () {
    const r = lengths("--check", "keeper", "lib", "scripts", "tasks", "sim");
    expect(r.stdout.trim().split("\n")).to.deep.equal([
      "keeper: 0 function(s) over 80 lines",
      "lib: 0 function(s) over 80 lines",
      "scripts: 0 function(s) over 80 lines",
      "tasks: 0 function(s) over 80 lines",
      "sim: 0 function(s) over 80 lines",
    ]);
    expect(r.code).to.equal(0);
  });

  it("lists long functions, arrow functions and methods with their lines, skips short ones, and fails --check", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lengths-"));
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join("\n");
    fs.writeFileSync(
      path.join(dir, "long.ts"),
      [
        `export function long(x: number) {\n${body(10)}\n  return x;\n}`,
        `export const arrow = (x: number) => {\n${body(6)}\n  return x;\n};`,
        `export function short(x: number) {\n${body(2)}\n  return x;\n}`,
        `export class C {\n  method(x: number) {\n${body(8)}\n    return x;\n  }\n}`,
      ].join("\n"),
    );
    const r = lengths("--max", "5", "--check", dir);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include(`${dir}: 3 function(s) over 5 lines`);
    expect(r.stdout).to.match(/ 13 {2}.*long\.ts:1 {2}long\n/);
    expect(r.stdout).to.match(/ 11 {2}.*long\.ts:\d+ {2}method\n/);
    expect(r.stdout).to.match(/ {5}9 {2}.*long\.ts:\d+ {2}arrow\n/);
    expect(r.stdout).to.not.include("short"); // 5 lines: not over the limit
    fs.rmSync(dir, { recursive: true });
  });
});

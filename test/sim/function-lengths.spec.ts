/**
 * Issue 21, acceptance 2 for the lab: no function in sim/ is longer than 80 lines (measured with
 * the TypeScript compiler API, test/sim/function-lengths.ts).
 */
import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { functionLengths, longestFunctions } from "./function-lengths";

const ROOT = path.join(__dirname, "..", "..");
const LIMIT = 80;

describe("lab source: function lengths", () => {
  it(`has no function in sim/ longer than ${LIMIT} lines`, () => {
    const all = longestFunctions([path.join(ROOT, "sim")]);
    expect(all.length, "functions found").to.be.greaterThan(100);
    const long = all
      .filter((f) => f.lines > LIMIT)
      .map((f) => `${path.relative(ROOT, f.file)}:${f.line} ${f.name} (${f.lines})`);
    expect(long).to.deep.equal([]);
  });

  it("measures every kind of function, from its first line to its last", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-fl-")), "x.ts");
    fs.writeFileSync(
      file,
      [
        "function a() {",
        "  const b = () => {",
        "    return 1;",
        "  };",
        "  return b;",
        "}",
        "class C {",
        "  m(): void {}",
        "}",
        "const d = function () {",
        "  return 2;",
        "};",
      ].join("\n"),
    );
    const got = functionLengths(file).map((f) => [f.name, f.line, f.lines]);
    expect(got).to.deep.equal([
      ["a", 1, 6],
      ["b", 2, 3],
      ["m", 8, 1],
      ["d", 10, 3],
    ]);
  });
});

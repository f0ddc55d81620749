/**
 * Lives in test/scripts, outside the coverage run: solidity-coverage compiles instrumented sources,
 * whose functions are longer than the ones in contracts/.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { artifacts, config } from "hardhat";

/** [structure] acceptance 2: no Solidity function (or modifier) is longer than this many lines. */
const MAX_SOLIDITY_FUNCTION_LINES = 60;

interface AstNode {
  nodeType?: string;
  name?: string;
  kind?: string;
  src?: string;
  body?: unknown;
  [key: string]: unknown;
}

interface FunctionSpan {
  where: string;
  lines: number;
}

/** Every function and modifier with a body in `ast`, with its length in source lines. */
function spans(file: string, content: string, ast: AstNode): FunctionSpan[] {
  const out: FunctionSpan[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object") return;
    const n = node as AstNode;
    if ((n.nodeType === "FunctionDefinition" || n.nodeType === "ModifierDefinition") && n.body && n.src) {
      const [start, length] = n.src.split(":").map(Number);
      const text = Buffer.from(content, "utf8")
        .subarray(start, start + length)
        .toString("utf8");
      const lines = text.split("\n").length;
      out.push({ where: `${file}:${n.name || n.kind}`, lines });
    }
    for (const value of Object.values(n)) if (value && typeof value === "object") visit(value);
  };
  visit(ast);
  return out;
}

describe("source limits", () => {
  it(`no Solidity function in contracts/ is longer than ${MAX_SOLIDITY_FUNCTION_LINES} lines`, async () => {
    // Each source's AST from the build that produced its artifact (read through the artifact's
    // debug file, one parse per build-info file).
    const builds = new Map<
      string,
      { input: { sources: Record<string, { content: string }> }; output: { sources: Record<string, { ast: AstNode }> } }
    >();
    const seen = new Set<string>();
    const all: FunctionSpan[] = [];
    for (const name of await artifacts.getAllFullyQualifiedNames()) {
      const [file, contract] = name.split(":");
      if (!file.startsWith("contracts/") || seen.has(file)) continue;
      seen.add(file);
      const dbgPath = path.join(config.paths.artifacts, file, `${contract}.dbg.json`);
      const infoPath = path.resolve(path.dirname(dbgPath), JSON.parse(fs.readFileSync(dbgPath, "utf8")).buildInfo);
      let info = builds.get(infoPath);
      if (info === undefined) {
        info = JSON.parse(fs.readFileSync(infoPath, "utf8"));
        builds.set(infoPath, info!);
      }
      all.push(...spans(file, info!.input.sources[file].content, info!.output.sources[file].ast));
    }
    expect(all.length, "functions found in contracts/").to.be.greaterThan(200);
    all.sort((a, b) => b.lines - a.lines);
    const tooLong = all.filter((s) => s.lines > MAX_SOLIDITY_FUNCTION_LINES).map((s) => `${s.where} ${s.lines}`);
    expect(tooLong, `longest: ${all[0].where} (${all[0].lines} lines)`).to.deep.equal([]);
  });
});

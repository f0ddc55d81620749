/**
 * Function lengths with the TypeScript compiler API: every function declaration, method,
 * constructor, accessor, function expression and arrow function, measured in source lines from its
 * first line to its last (a nested function counts toward its parent too).
 * `npx ts-node test/sim/function-lengths.ts [dir…]` prints the longest ones.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

export interface FunctionLength {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function nameOf(node: ts.Node): string {
  const n = (node as { name?: ts.Node }).name;
  if (n !== undefined && (ts.isIdentifier(n) || ts.isStringLiteral(n) || ts.isPrivateIdentifier(n))) return n.text;
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const p = node.parent;
  if (p !== undefined && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p !== undefined && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return p.name.text;
  return "(anonymous)";
}

/** The lengths of every function in one TypeScript file. */
export function functionLengths(file: string): FunctionLength[] {
  const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body !== undefined) {
      const start = src.getLineAndCharacterOfPosition(node.getStart(src)).line;
      const end = src.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ file, name: nameOf(node), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

/** Every .ts file under `dir`, recursively (`dir` itself if it is a file). */
export function tsFiles(dir: string): string[] {
  if (fs.statSync(dir).isFile()) return [dir];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** Every function under `dirs`, longest first. */
export function longestFunctions(dirs: string[]): FunctionLength[] {
  return dirs.flatMap((d) => tsFiles(d).flatMap(functionLengths)).sort((a, b) => b.lines - a.lines);
}

if (require.main === module) {
  const root = path.join(__dirname, "..", "..");
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : [path.join(root, "sim")];
  for (const f of longestFunctions(dirs).slice(0, 15))
    console.log(`${String(f.lines).padStart(5)}  ${path.relative(root, f.file)}:${f.line}  ${f.name}`);
}

/**
 * Lists the functions longer than a limit, per folder (issue #21: none over 80 lines in sim/,
 * keeper/, lib/, scripts/ or tasks/). Functions, methods, constructors, accessors, arrow functions
 * and function expressions all count, each measured from its first line to its last.
 *
 *   npx ts-node scripts/function-lengths.ts [--max 80] [--check] folder…
 *
 * Prints one line per long function, longest first, and a total per folder. With `--check` it
 * exits with code 1 when any function is over the limit.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

export interface LongFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/** Every .ts file under `dir` (node_modules and dot-folders excluded). */
export function tsFiles(dir: string): string[] {
  if (fs.statSync(dir).isFile()) return dir.endsWith(".ts") ? [dir] : [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith(".") && e.name !== "node_modules")
    .flatMap((e) => tsFiles(path.join(dir, e.name)));
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  if (parent && ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText(source).slice(0, 40)})`;
  return "(anonymous)";
}

/** The functions of one file longer than `max` lines. */
export function longFunctions(file: string, max: number): LongFunction[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) out.push({ file, line: start + 1, name: nameOf(node, source), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function main(argv: string[]): number {
  let max = 80;
  let check = false;
  const folders: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--max") {
      max = Number(argv[++i]);
      if (!Number.isInteger(max) || max < 1) throw new Error(`--max must be a positive integer: got ${argv[i]}`);
    } else if (argv[i] === "--check") check = true;
    else folders.push(argv[i]);
  }
  if (folders.length === 0) folders.push("keeper", "lib", "scripts", "tasks", "sim");
  let total = 0;
  for (const folder of folders) {
    if (!fs.existsSync(folder)) throw new Error(`no such folder: ${folder}`);
    const long = tsFiles(folder)
      .flatMap((f) => longFunctions(f, max))
      .sort((a, b) => b.lines - a.lines);
    console.log(`${folder}: ${long.length} function(s) over ${max} lines`);
    for (const f of long) console.log(`  ${f.lines.toString().padStart(4)}  ${f.file}:${f.line}  ${f.name}`);
    total += long.length;
  }
  return check && total > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

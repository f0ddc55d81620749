/**
 * docs/deploy.md's session runs as written ([usability] acceptance 2): on a fresh node, on a free
 * (non-default) port reached through LOCALHOST_RPC_URL, after the deployment `npm run deploy:local`
 * makes, every `$ npx hardhat …` command of the session block is run as a user runs it and its
 * output must match the page. Addresses and block numbers must match exactly (a fresh node gives
 * the same ones); other numbers (they move with time: funding, PnL), and transaction hashes, must
 * match in shape only.
 *
 * `DOCS_UPDATE=1 npx hardhat test test/scripts/DeployDoc.spec.ts` rewrites the page's session block
 * with the outputs of the run (the commands stay as written).
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import type { LocalNode } from "../../lib/devnode";
import { addressOf, hardhat, localNodeWithDeployment, ROOT, type Deployment } from "./cli";

const DOC = path.join(ROOT, "docs", "deploy.md");

interface Step {
  command: string;
  expected: string[];
}

/** The commands of the fenced block after `marker` in `doc`, each with the lines printed after it. */
export function sessionSteps(doc: string, marker: string): Step[] {
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/deploy.md has no "${marker}"`);
  const open = doc.indexOf("```", at);
  const body = doc.slice(doc.indexOf("\n", open) + 1, doc.indexOf("\n```", open + 3));
  const steps: Step[] = [];
  for (const line of body.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
    else if (steps.length > 0 && line.trim() !== "") steps[steps.length - 1].expected.push(line);
  }
  return steps;
}

/** A line with transaction hashes and time-dependent numbers replaced; addresses and blocks kept. */
export function shape(line: string): string {
  return line
    .replace(/0x[0-9a-fA-F]{64}/g, "<hash>")
    .replace(/(0x[0-9a-fA-F]{40})|(block \d+)|(-?\$?\d[\d,]*(\.\d+)?%?)/g, (m, addr, block) =>
      addr || block ? m : "<n>",
    );
}

/** Replaces the fenced block after `marker` with each command and the output it printed. */
function rewriteSession(marker: string, steps: Step[], outputs: Map<number, string>): void {
  const doc = fs.readFileSync(DOC, "utf8");
  const open = doc.indexOf("```", doc.indexOf(marker));
  const start = doc.indexOf("\n", open) + 1;
  const end = doc.indexOf("\n```", open + 3) + 1;
  const body = steps.map((s, i) => `$ ${s.command}\n${outputs.get(i)}\n`).join("\n");
  fs.writeFileSync(DOC, doc.slice(0, start) + body + doc.slice(end));
}

describe("docs/deploy.md: the documented session runs as written", function () {
  let node: LocalNode;
  let dep: Deployment;
  let env: Record<string, string>;
  const MARKER = "A session on a fresh node";
  const steps = sessionSteps(fs.readFileSync(DOC, "utf8"), MARKER);
  const outputs = new Map<number, string>();

  before(async function () {
    ({ node, dep, env } = await localNodeWithDeployment("docs"));
    expect(node.port, "a non-default port").to.not.equal(8545);
  });

  after(async function () {
    if (process.env.DOCS_UPDATE === "1" && outputs.size === steps.length) rewriteSession(MARKER, steps, outputs);
    if (dep) fs.rmSync(dep.dir, { recursive: true, force: true });
    if (node) await node.stop();
  });

  it("the page documents a session of at least eight commands", () => {
    expect(steps.length).to.be.at.least(8);
    for (const s of steps) expect(s.command, s.command).to.match(/^npx hardhat \S+ .*--network localhost/);
  });

  for (const [i, step] of steps.entries()) {
    it(`$ ${step.command}`, async function () {
      const args = step.command.split(/\s+/).slice(2); // after "npx hardhat"
      const r = await hardhat(args, env);
      expect(r.code, `${r.stderr}\n${r.stdout}`).to.equal(0);
      outputs.set(i, r.stdout.trimEnd());
      // The address pool-status shows is the pool's (the page once showed the insurance fund's).
      if (args[0] === "pool-status") expect(r.stdout).to.match(new RegExp(`^pool ${addressOf(dep, "LiquidityPool")} `));
      const got = r.stdout.trimEnd().split("\n").map(shape);
      expect(got).to.deep.equal(step.expected.map(shape));
    });
  }
});

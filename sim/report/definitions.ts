/**
 * Metric definitions for the report, read from the metrics table of docs/simulation.md (one source
 * of truth): `| \`name\` | unit | meaning |`. A metric the table lacks gets a pointer to the doc.
 */
import fs from "node:fs";
import path from "node:path";

export const SIMULATION_DOC = path.join(__dirname, "..", "..", "docs", "simulation.md");

export interface MetricDefinition {
  unit: string;
  meaning: string;
}

/** Markdown to plain text: code spans, bold and links. */
function plain(md: string): string {
  return md
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/\*\*([^*]+)\*\*/g, "$1")
    .replace(/`([^`]+)`/g, "$1")
    .trim();
}

/** The definitions in `markdown` (docs/simulation.md's metrics table), by metric name. */
export function parseDefinitions(markdown: string): Map<string, MetricDefinition> {
  const out = new Map<string, MetricDefinition>();
  let inTable = false; // from a "| metric | unit | meaning |" header to the table's end
  for (const line of markdown.split("\n")) {
    if (/^\|\s*metric\s*\|\s*unit\s*\|/.test(line)) inTable = true;
    else if (!line.startsWith("|")) inTable = false;
    const m = /^\|\s*`([A-Za-z0-9]+)`\s*\|([^|]*)\|(.*)\|\s*$/.exec(line);
    if (inTable && m && !out.has(m[1])) out.set(m[1], { unit: plain(m[2]), meaning: plain(m[3]) });
  }
  return out;
}

let cached: Map<string, MetricDefinition> | undefined;

export function metricDefinitions(file = SIMULATION_DOC): Map<string, MetricDefinition> {
  if (file !== SIMULATION_DOC) return parseDefinitions(fs.readFileSync(file, "utf8"));
  try {
    cached ??= parseDefinitions(fs.readFileSync(file, "utf8"));
  } catch {
    cached = new Map();
  }
  return cached;
}

export function definitionOf(metric: string, defs = metricDefinitions()): MetricDefinition {
  return defs.get(metric) ?? { unit: "", meaning: "see docs/simulation.md, “metrics.json”" };
}

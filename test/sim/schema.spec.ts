/**
 * Acceptance 4 (issue #6): a bad value, a missing field and an unknown field each fail with the
 * field's path; every shipped scenario validates.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { loadScenario, parseScenario, ScenarioError } from "../../sim/scenario";

const FIXTURES = path.join(__dirname, "fixtures");
const SCENARIOS = path.join(__dirname, "..", "..", "sim", "scenarios");

type Json = Record<string, unknown>;

function valid(): Json {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, "tiny.json"), "utf8")) as Json;
}

/** Applies `edit` to a fresh valid scenario and returns the paths of the issues it raises. */
function pathsOf(edit: (s: Json) => void): string[] {
  const s = valid();
  edit(s);
  try {
    parseScenario(s);
  } catch (e) {
    expect(e).to.be.instanceOf(ScenarioError);
    return (e as ScenarioError).issues.map((i) => i.path);
  }
  throw new Error("scenario was accepted");
}

/** `s.a.b[0].c` style navigation for the edits. */
function at(s: Json, ...keys: (string | number)[]): Json {
  return keys.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], s) as Json;
}

describe("scenario schema v1", () => {
  it("accepts the fixture and fills defaults", () => {
    const s = valid();
    delete s.seeds;
    expect(parseScenario(s).seeds).to.equal(1);
    // drainBlocks is optional (a version-1 file without it is valid; the engine's default is 120).
    expect(parseScenario(s).drainBlocks).to.equal(undefined);
    expect(parseScenario({ ...s, drainBlocks: 0 }).drainBlocks).to.equal(0);
  });

  it("a version-1 file from before issue 22 (no oracle noise, outside market, gas or volatility discount) still validates", () => {
    const s = valid();
    const parsed = parseScenario(s);
    expect(parsed.assets[0].oracle.noiseBps).to.equal(undefined);
    expect(parsed.arbitrage.outsideMarket).to.equal(undefined);
    expect(parsed.keepers.gas).to.equal(undefined);
    expect(parsed.keepers.volDiscount).to.equal(undefined);
    // The new fields are optional, and checked when present.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const withNew = JSON.parse(JSON.stringify(s)) as any;
    withNew.arbitrage = {
      ...withNew.arbitrage,
      outsideMarket: false,
      stress: { triggerMovePct: 5, windowBlocks: 10, speedShare: 0.5 },
    };
    withNew.keepers = {
      ...withNew.keepers,
      gas: { priceGwei: 10, nativeUsd: 3000 },
      volDiscount: { bpsPerVolPct: 100, windowBlocks: 10 },
    };
    expect(parseScenario(withNew).arbitrage.stress?.speedShare).to.equal(0.5);
    withNew.keepers.volDiscount = { bpsPerVolPct: 100, windowBlocks: 1 };
    expect(() => parseScenario(withNew)).to.throw(/keepers\.volDiscount\.windowBlocks/);
  });

  describe("a bad value fails with its path", () => {
    const cases: [string, (s: Json) => void][] = [
      ["blocks", (s) => (s.blocks = -5)],
      ["drainBlocks", (s) => (s.drainBlocks = -1)],
      ["version", (s) => (s.version = 2)],
      ["name", (s) => (s.name = "Has Spaces")],
      ["population.longShare", (s) => (at(s, "population").longShare = 1.5)],
      ["assets[0].oracle.deviationBps", (s) => (at(s, "assets", 0, "oracle").deviationBps = 20_000)],
      ["assets[0].oracle.source", (s) => (at(s, "assets", 0, "oracle").source = "twap")],
      ["assets[0].venue.bands[1].depthUsd", (s) => (at(s, "assets", 0, "venue", "bands", 1).depthUsd = -1)],
      ["assets[0].venue.bands[2].toPct", (s) => (at(s, "assets", 0, "venue", "bands", 2).toPct = 3)],
      ["assets[0].fundamental.type", (s) => (at(s, "assets", 0, "fundamental").type = "crash")],
      ["assets[0].symbol", (s) => (at(s, "assets", 0).symbol = "eth")],
      ["hedger.mode", (s) => (at(s, "hedger").mode = "sometimes")],
      ["keepers.count", (s) => (at(s, "keepers").count = 1.5)],
      ["population.leverage.max", (s) => (at(s, "population", "leverage").max = 2)],
      ["hedger.usdPerBlock", (s) => (at(s, "hedger").mode = "rate-limited")],
      ["modes", (s) => (s.modes = [])],
      // What the deployment would refuse (a skew scale outside the vault's bounds) fails here.
      ["assets[0].initialPriceUsd", (s) => (at(s, "assets", 0).initialPriceUsd = 1e30)],
      ["assets[0].initialPriceUsd", (s) => (at(s, "assets", 0).initialPriceUsd = 0.001)],
      // Events after the last block would run silently as if they never happened.
      ["assets[0].fundamental.startBlock", (s) => (at(s, "assets", 0, "fundamental").startBlock = 30)],
      ["keepers.outage.fromBlock", (s) => (at(s, "keepers").outage = { fromBlock: 40, toBlock: 50 })],
      ["assets[0].oracle.stale.toBlock", (s) => (at(s, "assets", 0, "oracle").stale = { fromBlock: 9, toBlock: 9 })],
      [
        "assets[0].fundamental.jumps[0].block",
        (s) =>
          (at(s, "assets", 0).fundamental = {
            type: "gbm",
            volPctPerDay: 1,
            driftPctPerDay: 0,
            jumps: [{ block: 99, pct: -5 }],
          }),
      ],
    ];
    for (const [p, edit] of cases) it(p, () => expect(pathsOf(edit)).to.deep.equal([p]));
  });

  describe("a missing field fails with its path", () => {
    const cases: [string, (s: Json) => void][] = [
      ["seed", (s) => delete s.seed],
      ["assets", (s) => delete s.assets],
      ["assets[0].oracle.latencyBlocks", (s) => delete at(s, "assets", 0, "oracle").latencyBlocks],
      ["assets[0].fundamental.recoverBlocks", (s) => delete at(s, "assets", 0, "fundamental").recoverBlocks],
      ["assets[0].venue.bands[0].depthUsd", (s) => delete at(s, "assets", 0, "venue", "bands", 0).depthUsd],
      ["keepers.capitalUsd", (s) => delete at(s, "keepers").capitalUsd],
      ["population.notionalUsd.sigma", (s) => delete at(s, "population", "notionalUsd").sigma],
    ];
    for (const [p, edit] of cases) it(p, () => expect(pathsOf(edit)).to.deep.equal([p]));
  });

  describe("an unknown field fails with its path", () => {
    const cases: [string, (s: Json) => void][] = [
      ["colour", (s) => (s.colour = "red")],
      ["assets[0].oracle.deviationPct", (s) => (at(s, "assets", 0, "oracle").deviationPct = 0.5)],
      ["assets[0].fundamental.volPctPerDay", (s) => (at(s, "assets", 0, "fundamental").volPctPerDay = 3)],
      ["population.leverage.min", (s) => (at(s, "population", "leverage").min = 1)],
      ["keepers.outage.until", (s) => (at(s, "keepers").outage = { fromBlock: 1, toBlock: 2, until: 3 })],
      ["assets[0].venue.bands[0].depthEth", (s) => (at(s, "assets", 0, "venue", "bands", 0).depthEth = 1)],
    ];
    for (const [p, edit] of cases) it(p, () => expect(pathsOf(edit)).to.deep.equal([p]));
  });

  it("reports every bad field of a file at once, with the file name", () => {
    const file = path.join(FIXTURES, "invalid.json");
    expect(() => loadScenario(file)).to.throw(ScenarioError);
    try {
      loadScenario(file);
    } catch (e) {
      const err = e as ScenarioError;
      expect(err.file).to.equal(file);
      expect(err.issues.map((i) => i.path).sort()).to.deep.equal([
        "assets[0].fundamental.recoverBlocks",
        "assets[0].oracle.deviationBps",
        "assets[0].oracle.lagSec",
      ]);
      expect(err.message).to.contain("assets[0].oracle.deviationBps");
    }
  });

  it("rejects a file that is not JSON with the (file) path", () => {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bulwark-schema-")), "not-json.json");
    fs.writeFileSync(tmp, "{ not json");
    expect(() => loadScenario(tmp)).to.throw(ScenarioError, "(file)");
  });

  describe("every shipped scenario validates", () => {
    const files = fs.existsSync(SCENARIOS) ? fs.readdirSync(SCENARIOS).filter((f) => f.endsWith(".json")) : [];
    it("the library has at least the eight scenarios of the spec", () => expect(files.length).to.be.at.least(8));
    for (const f of files) {
      it(f, () => {
        const s = loadScenario(path.join(SCENARIOS, f));
        expect(`${s.name}.json`).to.equal(f);
      });
    }
    for (const f of ["tiny.json"])
      it(`fixture ${f}`, () => expect(loadScenario(path.join(FIXTURES, f)).name).to.equal("front-tiny"));
  });
});

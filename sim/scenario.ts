/**
 * Scenario files, version 1 (docs/simulation.md). Validated with zod in strict mode: an unknown
 * field, a missing field or a bad value is rejected with the path of the field.
 */
import fs from "node:fs";
import { z } from "zod";

const pct = z.number().finite();
const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const block = z.number().int().nonnegative();

/**
 * What the lab's deployment accepts for an asset's starting price (USD). The lab lists each market
 * with skew scale = $3e9 / price base units (sim/engine/world.ts `SKEW_SCALE_USD`), and the vault
 * bounds a skew scale to [1, 1e12] base units (VaultAdmin `MIN_SKEW_SCALE`, `MAX_SKEW_SCALE`); its
 * feeds carry 8 decimals. test/sim/schema.spec.ts deploys a world at each end.
 */
export const PRICE_BOUNDS_USD = { min: 0.003, max: 3e9 } as const;

export const DepthBandSchema = z
  .strictObject({
    fromPct: nonNegative,
    toPct: positive,
    depthUsd: nonNegative,
  })
  .refine((b) => b.toPct > b.fromPct, { message: "toPct must be greater than fromPct", path: ["toPct"] });

export const OracleSchema = z.strictObject({
  deviationBps: z.number().int().min(0).max(10_000),
  heartbeatSec: z.number().int().positive(),
  latencyBlocks: block,
  /** "fundamental": an external feed (Chainlink-like) that follows the fundamental; "venue": it
   * reads the lab's own venue (the stress case: a feed that can be pushed by the cascade). */
  source: z.enum(["venue", "fundamental"]),
  /**
   * Optional, `source: "fundamental"` only: the feed's noise around the fundamental, a stationary
   * AR(1) of relative errors with this standard deviation in basis points (default 0: none) and
   * this half-life in blocks (default 0: independent from block to block).
   */
  noiseBps: z.number().finite().min(0).max(1_000).optional(),
  noiseHalfLifeBlocks: z.number().finite().nonnegative().max(100_000).optional(),
  /** Optional outage: the relayer writes nothing in [fromBlock, toBlock) (a stale feed). */
  stale: z.strictObject({ fromBlock: block, toBlock: block }).optional(),
});

export const ShockSchema = z.strictObject({
  type: z.literal("shock"),
  /** Positive = fall, negative = rise (short squeeze). */
  dropPct: pct.gt(-1000).lt(100),
  startBlock: block,
  overBlocks: z.number().int().positive(),
  recoverPct: pct.gt(-1000).lt(100),
  recoverBlocks: block,
});

export const GbmSchema = z.strictObject({
  type: z.literal("gbm"),
  volPctPerDay: nonNegative,
  driftPctPerDay: pct,
  jumps: z.array(z.strictObject({ block, pct: pct.gt(-100) })).default([]),
});

export const PointsSchema = z.strictObject({
  type: z.literal("points"),
  points: z
    .array(z.tuple([block, positive]))
    .min(1)
    .refine((ps) => ps.every((p, i) => i === 0 || p[0] > ps[i - 1][0]), {
      message: "points must have strictly increasing blocks",
    }),
});

export const FundamentalSchema = z.discriminatedUnion("type", [ShockSchema, GbmSchema, PointsSchema]);

export const AssetSchema = z.strictObject({
  symbol: z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/),
  initialPriceUsd: z
    .number()
    .finite()
    .min(PRICE_BOUNDS_USD.min, `must be at least ${PRICE_BOUNDS_USD.min} (the vault's largest skew scale)`)
    .max(PRICE_BOUNDS_USD.max, `must be at most ${PRICE_BOUNDS_USD.max} (the vault's smallest skew scale)`),
  venue: z.strictObject({ bands: z.array(DepthBandSchema).min(1) }),
  oracle: OracleSchema,
  fundamental: FundamentalSchema,
});

export const ScenarioSchema = z
  .strictObject({
    version: z.literal(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string().optional(),
    seed: z.number().int().nonnegative(),
    blocks: z.number().int().positive().max(100_000),
    blockTimeSec: z.number().int().positive().max(3600),
    modes: z.array(z.string().min(1)).min(1),
    assets: z.array(AssetSchema).min(1),
    population: z.strictObject({
      traders: z.number().int().positive().max(10_000),
      longShare: z.number().min(0).max(1),
      leverage: z.strictObject({ median: z.number().min(1), max: z.number().min(1) }),
      notionalUsd: z.strictObject({ median: positive, sigma: nonNegative }),
      entrySpreadPct: nonNegative,
      volatileCollateralShare: z.number().min(0).max(1),
      /** Optional momentum sellers that front-run the cascade. */
      momentum: z.strictObject({ capitalUsd: nonNegative, triggerDropPct: positive, usdPerBlock: positive }).optional(),
    }),
    keepers: z.strictObject({
      count: z.number().int().nonnegative(),
      capitalUsd: nonNegative,
      minDiscountBps: z.number().int().min(0).max(10_000),
      latencyBlocks: block,
      hedgeUsdPerBlock: nonNegative,
      outage: z.strictObject({ fromBlock: block, toBlock: block }).optional(),
      /** Optional: the gas the bidders pay, at `priceGwei` per gas and `nativeUsd` per unit of the
       * chain's native token (default: no gas cost). A take is made only if it pays its gas. */
      gas: z.strictObject({ priceGwei: nonNegative, nativeUsd: nonNegative }).optional(),
      /** Optional: the required discount grows with recent volatility: `minDiscountBps` plus
       * `bpsPerVolPct` × the venue's standard deviation of block returns (in %) over the last
       * `windowBlocks` blocks, the worst asset's (default: a fixed `minDiscountBps`). */
      volDiscount: z.strictObject({ bpsPerVolPct: nonNegative, windowBlocks: z.number().int().min(2) }).optional(),
    }),
    arbitrage: z.strictObject({
      capitalUsd: nonNegative,
      /** The speed of the outside market's pull: most USD the arbitrageur trades per asset and block. */
      maxUsdPerBlock: nonNegative,
      /**
       * Optional (default true): the arbitrageur unwinds on an outside, CEX-like market at the
       * fundamental that never runs out: before each block its wallet is topped back up to its
       * starting inventory, the top-up booked as a debt to that market at the block's fundamental
       * (docs/lab-world.md, "Outside market"). false: its capital is all it has (it can run dry).
       */
      outsideMarket: z.boolean().optional(),
      /**
       * Optional: the outside market steps back under stress. While the fundamental has moved at
       * least `triggerMovePct` % over the last `windowBlocks` blocks, the arbitrageur trades only
       * `speedShare` of `maxUsdPerBlock`. Default: no step-back.
       */
      stress: z
        .strictObject({
          triggerMovePct: positive,
          windowBlocks: z.number().int().positive(),
          speedShare: z.number().min(0).max(1),
        })
        .optional(),
    }),
    hedger: z.strictObject({
      mode: z.enum(["immediate", "rate-limited", "off"]),
      usdPerBlock: positive.optional(),
    }),
    seeds: z.number().int().positive().max(1000).default(1),
    /**
     * Optional: at most this many blocks after the last one in which the run goes on without new
     * shocks (the fundamental holds its last value) until every auction is resolved and no account
     * is below MM at the fundamental (docs/lab-world.md, "Drain"). Default 120; 0 turns it off.
     */
    drainBlocks: z.number().int().nonnegative().max(100_000).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.population.leverage.max < s.population.leverage.median)
      ctx.addIssue({ code: "custom", path: ["population", "leverage", "max"], message: "max must be ≥ median" });
    if (s.hedger.mode === "rate-limited" && s.hedger.usdPerBlock === undefined)
      ctx.addIssue({ code: "custom", path: ["hedger", "usdPerBlock"], message: "required when mode is rate-limited" });
    // Block events are checked against a valid run length only (a bad `blocks` is its own issue).
    const runLength = Number.isInteger(s.blocks) && s.blocks > 0;
    const symbols = new Set<string>();
    s.assets.forEach((a, i) => {
      if (symbols.has(a.symbol))
        ctx.addIssue({ code: "custom", path: ["assets", i, "symbol"], message: `duplicate symbol ${a.symbol}` });
      symbols.add(a.symbol);
      if (runLength) checkBlocks(s.blocks, a, ["assets", i], ctx);
    });
    const outage = s.keepers.outage;
    if (outage !== undefined && runLength) checkWindow(s.blocks, outage, ["keepers", "outage"], ctx);
  });

type Issues = z.RefinementCtx;

/** Every event of an asset (shock, jumps, path points, oracle outage) must happen within the run. */
function checkBlocks(blocks: number, a: z.infer<typeof AssetSchema>, at: (string | number)[], ctx: Issues): void {
  const late = (path: (string | number)[], b: number): void => {
    if (b >= blocks) {
      ctx.addIssue({
        code: "custom",
        path: [...at, ...path],
        message: `block ${b} is not before the last block (${blocks})`,
      });
    }
  };
  const f = a.fundamental;
  if (f.type === "shock") late(["fundamental", "startBlock"], f.startBlock);
  if (f.type === "gbm") f.jumps.forEach((j, k) => late(["fundamental", "jumps", k, "block"], j.block));
  if (f.type === "points") late(["fundamental", "points", 0], f.points[0][0]);
  if (a.oracle.stale !== undefined) checkWindow(blocks, a.oracle.stale, [...at, "oracle", "stale"], ctx);
}

/** A [fromBlock, toBlock) window: non-empty and starting within the run. */
function checkWindow(
  blocks: number,
  w: { fromBlock: number; toBlock: number },
  at: (string | number)[],
  ctx: Issues,
): void {
  if (w.toBlock <= w.fromBlock) {
    ctx.addIssue({ code: "custom", path: [...at, "toBlock"], message: "must be greater than fromBlock" });
  }
  if (w.fromBlock >= blocks) {
    ctx.addIssue({
      code: "custom",
      path: [...at, "fromBlock"],
      message: `block ${w.fromBlock} is not before the last block (${blocks})`,
    });
  }
}

export type Scenario = z.infer<typeof ScenarioSchema>;
export type AssetSpec = Scenario["assets"][number];

/** A scenario file that failed validation; `issues` carry the dotted path of each bad field. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly issues: { path: string; message: string }[],
  ) {
    // One issue: one line (a CLI prints it as is); several: one per line under the file's name.
    super(
      issues.length === 1
        ? `invalid scenario ${file}: ${issues[0].path}: ${issues[0].message}`
        : `invalid scenario ${file}:\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "ScenarioError";
  }
}

function dotted(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : (i === 0 ? "" : ".") + String(p))).join("");
}

/** Validates a parsed scenario object. Throws `ScenarioError` listing every bad field's path. */
export function parseScenario(input: unknown, file = "<inline>"): Scenario {
  const res = ScenarioSchema.safeParse(input);
  if (!res.success) {
    throw new ScenarioError(
      file,
      res.error.issues.map((i) => {
        // Unknown keys are reported on the parent object; name them in the path.
        const keys = i.code === "unrecognized_keys" ? (i as { keys: string[] }).keys : [];
        const path = keys.length > 0 ? keys.map((k) => dotted([...i.path, k])).join(", ") : dotted(i.path);
        return { path, message: i.message };
      }),
    );
  }
  return res.data;
}

/** Reads and validates a scenario JSON file. */
export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ScenarioError(file, [{ path: "(file)", message: (e as Error).message }]);
  }
  return parseScenario(raw, file);
}

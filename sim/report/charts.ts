/**
 * The report's charts: vega-lite specs built from a ScenarioRun, rendered to SVG by vega (headless,
 * renderer "none", no browser) and to PNG by resvg. Series charts show one seed (the first); the
 * heatmap is the pre-crash population, which every mode and seed shares.
 */
import { HeatmapBucket, METRIC_NAMES, ModeName, ScenarioRun, SeriesRow } from "../types";

type Spec = Record<string, unknown>;
type Datum = Record<string, string | number | null>;

/** vega and vega-lite are ESM with top-level await: load them with a real dynamic import. */
const dynImport = new Function("s", "return import(s)") as (s: string) => Promise<unknown>;

interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: "none" }) => { toSVG(): Promise<string>; finalize(): void };
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}

let libs: Promise<{ vega: VegaModule; vl: VegaLiteModule }> | undefined;
function loadLibs() {
  libs ??= Promise.all([dynImport("vega"), dynImport("vega-lite")]).then(([vega, vl]) => ({
    vega: vega as VegaModule,
    vl: vl as VegaLiteModule,
  }));
  return libs;
}

export interface Chart {
  /** File stem of the PNG and anchor in report.html. */
  id: string;
  title: string;
  /** One sentence under the title in report.html. */
  caption: string;
  spec: Spec;
}

export interface RenderedChart extends Chart {
  svg: string;
}

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" },
};
const WIDTH = 820;

function base(title: string, data: Datum[]): Spec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    background: "white",
    padding: 8,
    config: CONFIG,
    data: { values: data },
  };
}

/** The same colour for a mode in every chart. */
function modeColor(modes: readonly ModeName[], title = "mode") {
  return { field: "mode", type: "nominal", title, scale: { domain: [...modes], scheme: "tableau10" } };
}

/** Line charts keep at most about this many points per line; longer runs are decimated. */
export const MAX_POINTS_PER_LINE = 1500;

/**
 * Min/max decimation: splits a line (sorted by block) into buckets and keeps, per bucket, its
 * first, lowest, highest and last points, so one-block spikes and wicks survive. Lines of at most
 * `max` points are returned as they are.
 */
export function decimate<T extends Datum>(line: T[], field: string, max = MAX_POINTS_PER_LINE): T[] {
  if (line.length <= max) return line;
  const size = Math.ceil(line.length / Math.floor(max / 4));
  const out: T[] = [];
  for (let i = 0; i < line.length; i += size) {
    const bucket = line.slice(i, i + size);
    const v = (d: T) => Number(d[field]);
    let lo = bucket[0];
    let hi = bucket[0];
    for (const d of bucket) {
      if (v(d) < v(lo)) lo = d;
      if (v(d) > v(hi)) hi = d;
    }
    const keep = new Set([bucket[0], lo, hi, bucket[bucket.length - 1]]);
    out.push(...bucket.filter((d) => keep.has(d)));
  }
  return out;
}

/** Decimates each line of `data`, a line being the points sharing `lineKey`. Keeps line order. */
function decimateLines(data: Datum[], lineKey: (d: Datum) => string, field: string): Datum[] {
  const lines = new Map<string, Datum[]>();
  for (const d of data) {
    const k = lineKey(d);
    const l = lines.get(k);
    if (l === undefined) lines.set(k, [d]);
    else l.push(d);
  }
  return [...lines.values()].flatMap((l) => decimate(l, field));
}

/** Rows of the charted seed, in mode order. */
function chartRows(run: ScenarioRun): { mode: ModeName; rows: SeriesRow[] }[] {
  const seed = chartSeed(run);
  return run.modes.map((mode) => ({
    mode,
    rows: run.runs.find((r) => r.mode === mode && r.seed === seed)?.series ?? [],
  }));
}

export function chartSeed(run: ScenarioRun): number {
  return Math.min(...run.seeds);
}

function pricesChart(run: ScenarioRun): Chart {
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) {
      data.push({ mode, asset: r.asset, block: r.block, price: "fundamental", usd: r.fundamentalUsd });
      data.push({ mode, asset: r.asset, block: r.block, price: "venue", usd: r.venueUsd });
      data.push({ mode, asset: r.asset, block: r.block, price: "oracle", usd: r.oracleUsd });
    }
  }
  const assets = run.scenario.assets;
  const lines = decimateLines(data, (d) => `${d.mode}|${d.asset}|${d.price}`, "usd");
  return {
    id: "prices",
    title: "Prices",
    caption:
      "Fundamental (the scenario's external path), venue (the Uniswap v3 pool) and oracle prices, per asset (columns) and mode (rows).",
    spec: {
      ...base(`Prices (seed ${chartSeed(run)})`, lines),
      facet: {
        row: { field: "mode", type: "nominal", title: null, sort: [...run.modes] },
        column: { field: "asset", type: "nominal", title: null, sort: [...assets] },
      },
      spec: {
        width: Math.floor((WIDTH - 60 * (assets.length - 1)) / assets.length),
        height: 170,
        mark: { type: "line", strokeWidth: 1.5, interpolate: "step-after" },
        encoding: {
          x: { field: "block", type: "quantitative", title: "block" },
          y: { field: "usd", type: "quantitative", title: "price (USD)", scale: { zero: false } },
          color: {
            field: "price",
            type: "nominal",
            title: "price",
            scale: { domain: ["fundamental", "venue", "oracle"], range: ["#888888", "#1f77b4", "#d62728"] },
          },
          strokeDash: {
            field: "price",
            type: "nominal",
            title: "price",
            scale: {
              domain: ["fundamental", "venue", "oracle"],
              range: [
                [4, 3],
                [1, 0],
                [1, 0],
              ],
            },
          },
        },
      },
      resolve: { scale: { y: "independent", x: "shared" } },
    },
  };
}

/** Per-mode sums over assets, per block. */
function perBlock(run: ScenarioRun, pick: (r: SeriesRow) => number): Datum[] {
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    const sums = new Map<number, number>();
    for (const r of rows) sums.set(r.block, (sums.get(r.block) ?? 0) + pick(r));
    for (const [block, v] of [...sums].sort((a, b) => a[0] - b[0])) data.push({ mode, block, block1: block + 1, v });
  }
  return data;
}

function liquidationsChart(run: ScenarioRun): Chart {
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) {
      if (r.liquidations === 0 && r.liquidatedNotionalUsd === 0) continue;
      data.push({
        mode,
        asset: r.asset,
        block: r.block,
        block1: r.block + 1,
        count: r.liquidations,
        usd: r.liquidatedNotionalUsd,
      });
    }
  }
  const blocks = run.scenario.blocks;
  const panel = (field: string, title: string) => ({
    width: WIDTH,
    height: 110,
    mark: { type: "bar" },
    encoding: {
      x: { field: "block", type: "quantitative", title: "block", scale: { domain: [0, blocks] } },
      x2: { field: "block1" },
      y: { field, type: "quantitative", title, aggregate: "sum", stack: "zero" },
      color: { field: "asset", type: "nominal", title: "asset", sort: [...run.scenario.assets] },
    },
  });
  return {
    id: "liquidations",
    title: "Liquidations per block",
    caption:
      "Liquidation events (instant liquidations or auction kicks) and their notional, per block, stacked by asset; one row per mode.",
    spec: {
      ...base(`Liquidations per block (seed ${chartSeed(run)})`, data),
      facet: { row: { field: "mode", type: "nominal", title: null, sort: [...run.modes] } },
      spec: { vconcat: [panel("count", "liquidations"), panel("usd", "notional (USD)")] },
    },
  };
}

function auctionsChart(run: ScenarioRun): Chart {
  const active = decimateLines(
    perBlock(run, (r) => r.auctionsActive),
    (d) => String(d.mode),
    "v",
  );
  const discounts: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) {
      if (r.clearingDiscountPct !== null)
        discounts.push({ mode, asset: r.asset, block: r.block, pct: r.clearingDiscountPct });
    }
  }
  const x = { field: "block", type: "quantitative", title: "block", scale: { domain: [0, run.scenario.blocks] } };
  return {
    id: "auctions",
    title: "Auctions and clearing discounts",
    caption:
      "Auctions running at the end of each block (all assets), and the mean discount below the oracle at which lots cleared in that block.",
    spec: {
      ...base(`Auctions (seed ${chartSeed(run)})`, []),
      vconcat: [
        {
          width: WIDTH,
          height: 150,
          data: { values: active },
          mark: { type: "line", interpolate: "step-after" },
          encoding: {
            x,
            y: { field: "v", type: "quantitative", title: "auctions active" },
            color: modeColor(run.modes),
          },
        },
        {
          width: WIDTH,
          height: 150,
          data: { values: discounts },
          mark: { type: "point", filled: true, size: 30 },
          encoding: {
            x,
            y: { field: "pct", type: "quantitative", title: "clearing discount (%)" },
            color: modeColor(run.modes),
            shape: { field: "asset", type: "nominal", title: "asset" },
          },
        },
      ],
      resolve: { scale: { color: "shared" } },
    },
  };
}

function insuranceChart(run: ScenarioRun): Chart {
  // The fund is global: every asset's row carries the same balance, so take the first asset.
  const first = run.scenario.assets[0];
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) if (r.asset === first) data.push({ mode, block: r.block, usd: r.insuranceUsd });
  }
  return {
    id: "insurance",
    title: "Insurance fund",
    caption: "Insurance fund balance at the end of each block.",
    spec: {
      ...base(
        `Insurance fund balance (seed ${chartSeed(run)})`,
        decimateLines(data, (d) => String(d.mode), "usd"),
      ),
      width: WIDTH,
      height: 200,
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: "block", type: "quantitative", title: "block" },
        y: { field: "usd", type: "quantitative", title: "balance (USD)", scale: { zero: false } },
        color: modeColor(run.modes),
      },
    },
  };
}

function breakerChart(run: ScenarioRun): Chart {
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) data.push({ mode, asset: r.asset, block: r.block, level: r.breakerLevel });
  }
  const levels = Math.max(1, ...data.map((d) => Number(d.level)));
  return {
    id: "breaker",
    title: "Circuit breaker level",
    caption: "Effective breaker level of each asset's market at the end of each block (0 = normal, or breakers off).",
    spec: {
      ...base(
        `Breaker level (seed ${chartSeed(run)})`,
        decimateLines(data, (d) => `${d.mode}|${d.asset}`, "level"),
      ),
      facet: { row: { field: "asset", type: "nominal", title: null, sort: [...run.scenario.assets] } },
      spec: {
        width: WIDTH,
        height: 90,
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x: { field: "block", type: "quantitative", title: "block" },
          y: {
            field: "level",
            type: "quantitative",
            title: "level",
            scale: { domain: [0, levels] },
            axis: { tickMinStep: 1, format: "d" },
          },
          color: modeColor(run.modes),
        },
      },
    },
  };
}

/** A dashed rule at the initial price, labelled. */
function initialPriceLayer(p0: number): Spec {
  return {
    data: { values: [{ p: p0, label: `initial ${p0}` }] },
    layer: [
      {
        mark: { type: "rule", strokeDash: [4, 3], color: "#333" },
        encoding: { x: { field: "p", type: "quantitative" } },
      },
      {
        mark: { type: "text", align: "left", dx: 4, dy: -4, baseline: "top", y: 0, color: "#333" },
        encoding: { x: { field: "p", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  };
}

/** One asset's panel of the heatmap: its buckets over its depth bands, and its start price. */
function heatmapPanel(run: ScenarioRun, asset: string, p0: number | undefined): Spec {
  const buckets = run.heatmap.filter((b) => b.asset === asset);
  const notional: Datum[] = [];
  const add = (b: HeatmapBucket, side: string, usd: number) => {
    if (usd > 0) notional.push({ side, from: b.liqPriceFromUsd, to: b.liqPriceToUsd, usd });
  };
  for (const b of buckets) {
    add(b, "long", b.longNotionalUsd);
    add(b, "short", b.shortNotionalUsd);
  }
  const depth: Datum[] = run.depth
    .filter((d) => d.asset === asset)
    .map((d) => ({ from: d.priceFromUsd, to: d.priceToUsd, usd: d.depthUsd }));
  const xs = [...notional, ...depth].flatMap((d) => [Number(d.from), Number(d.to)]);
  const x = {
    field: "from",
    type: "quantitative",
    title: "price (USD)",
    scale: xs.length > 0 ? { domain: [Math.min(...xs), Math.max(...xs)], nice: false } : { zero: false },
  };
  const layers: Spec[] = [
    {
      data: { values: depth },
      mark: { type: "rect", color: "#9aa5b1", opacity: 0.35, stroke: "#6b7785", strokeWidth: 0.5 },
      encoding: {
        x,
        x2: { field: "to" },
        y: { field: "usd", type: "quantitative", title: "venue depth in band (USD)", axis: { orient: "right" } },
        y2: { datum: 0 },
      },
    },
    {
      data: { values: notional },
      mark: { type: "rect", opacity: 0.85 },
      encoding: {
        x,
        x2: { field: "to" },
        y: { field: "usd", type: "quantitative", title: "open notional liquidated here (USD)" },
        y2: { datum: 0 },
        color: {
          field: "side",
          type: "nominal",
          title: "positions",
          scale: { domain: ["long", "short"], range: ["#d62728", "#2ca02c"] },
        },
      },
    },
  ];
  if (p0 !== undefined) layers.push(initialPriceLayer(p0));
  return {
    title: asset,
    width: WIDTH - 80,
    height: 220,
    layer: layers,
    resolve: { scale: { y: "independent" } },
  };
}

function heatmapChart(run: ScenarioRun, initialPrices: Record<string, number>): Chart {
  const panels = run.scenario.assets.map((asset) => heatmapPanel(run, asset, initialPrices[asset]));
  return {
    id: "heatmap",
    title: "Pre-crash liquidation heatmap",
    caption:
      "Open notional of the population before the first simulated block, bucketed by liquidation price (longs red, shorts green), drawn over the venue's depth bands (grey, right axis): notional stacked where the book is thin is cascade fuel.",
    spec: { ...base("Liquidation prices vs venue depth (pre-crash)", []), vconcat: panels },
  };
}

/**
 * Distributions over seeds (several seeds only): a strip chart per metric, one row of points per
 * mode (a point per seed) and a tick at the median. Each metric has its own x scale.
 */
function distributionsChart(run: ScenarioRun): Chart {
  const data: Datum[] = [];
  for (const metric of METRIC_NAMES)
    for (const r of run.runs) {
      const v = r.metrics[metric];
      if (Number.isFinite(v)) data.push({ metric, mode: r.mode, seed: r.seed, value: v });
    }
  const y = { field: "mode", type: "nominal", title: null, sort: [...run.modes] };
  return {
    id: "distributions",
    title: "Distributions over seeds",
    caption: `Each metric over the ${run.seeds.length} seeds: a point per seed, the tick at the median (p50).`,
    spec: {
      ...base(`Metrics over seeds ${run.seeds[0]}..${run.seeds[run.seeds.length - 1]}`, data),
      facet: {
        row: {
          field: "metric",
          type: "nominal",
          title: null,
          sort: [...METRIC_NAMES],
          header: { labelAngle: 0, labelAlign: "left" },
        },
      },
      spec: {
        width: WIDTH - 220,
        height: { step: 16 },
        layer: [
          {
            mark: { type: "point", filled: true, opacity: 0.6, size: 30 },
            encoding: {
              x: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
              y,
              color: modeColor(run.modes),
            },
          },
          {
            mark: { type: "tick", color: "black", thickness: 2 },
            encoding: { x: { aggregate: "median", field: "value", type: "quantitative" }, y },
          },
        ],
      },
      resolve: { scale: { x: "independent" } },
    },
  };
}

/** Every chart of the report, in report order. `initialPrices` draws the start price on the heatmap. */
export function buildCharts(run: ScenarioRun, initialPrices: Record<string, number> = {}): Chart[] {
  return [
    pricesChart(run),
    liquidationsChart(run),
    auctionsChart(run),
    insuranceChart(run),
    breakerChart(run),
    heatmapChart(run, initialPrices),
    ...(run.seeds.length > 1 ? [distributionsChart(run)] : []),
  ];
}

/** Makes element ids unique across the SVGs inlined in one HTML page. */
function prefixIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

/** Renders a vega-lite spec to a standalone SVG string (no browser, no canvas). */
export async function renderSvg(spec: Spec, idPrefix = "c"): Promise<string> {
  const { vega, vl } = await loadLibs();
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  try {
    return prefixIds(await view.toSVG(), idPrefix);
  } finally {
    view.finalize();
  }
}

export async function renderCharts(charts: readonly Chart[]): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const c of charts) out.push({ ...c, svg: await renderSvg(c.spec, c.id) });
  return out;
}

/** SVG → PNG at `scale`× with resvg; system fonts, DejaVu Sans for sans-serif. */
export function svgToPng(svg: string, scale = 1.5): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Resvg } = require("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return r.render().asPng();
}

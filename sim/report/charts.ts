/**
 * The report's charts: vega-lite specs built from a ScenarioRun, rendered to SVG by vega (headless,
 * renderer "none", no browser) and to PNG by resvg. Series charts show one seed (the first), with
 * the scenario's windows (keeper outage, shocks, stale oracle) shaded; modes share their y-scales.
 * The heatmap shows the pre-crash population, which every mode and seed shares, and each mode's
 * positions after the crash.
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

/** A window of blocks [from, to) the time charts shade: a keeper outage, a shock, a stale oracle, a jump. */
export interface BlockWindow {
  kind: "keeper outage" | "shock" | "oracle stale" | "jump";
  /** The asset it concerns; none for the keepers. */
  asset?: string;
  from: number;
  to: number;
}

export const WINDOW_COLORS: Record<BlockWindow["kind"], string> = {
  shock: "#d62728",
  "keeper outage": "#ff7f0e",
  "oracle stale": "#9467bd",
  jump: "#8c564b",
};

interface ScenarioLike {
  keepers?: { outage?: { fromBlock: number; toBlock: number } };
  assets?: {
    symbol: string;
    oracle?: { stale?: { fromBlock: number; toBlock: number } };
    fundamental?: { type: string; startBlock?: number; overBlocks?: number; jumps?: { block: number }[] };
  }[];
}

/** The windows of a (validated) scenario: keeper outage, each asset's shock, stale oracle and jumps. */
export function scenarioWindows(scenario: unknown): BlockWindow[] {
  const s = (scenario ?? {}) as ScenarioLike;
  const out: BlockWindow[] = [];
  const o = s.keepers?.outage;
  if (o) out.push({ kind: "keeper outage", from: o.fromBlock, to: o.toBlock });
  for (const a of s.assets ?? []) {
    const f = a.fundamental;
    if (f?.type === "shock" && f.startBlock !== undefined)
      out.push({ kind: "shock", asset: a.symbol, from: f.startBlock, to: f.startBlock + (f.overBlocks ?? 1) });
    for (const j of f?.type === "gbm" ? (f.jumps ?? []) : [])
      out.push({ kind: "jump", asset: a.symbol, from: j.block, to: j.block + 1 });
    const st = a.oracle?.stale;
    if (st) out.push({ kind: "oracle stale", asset: a.symbol, from: st.fromBlock, to: st.toBlock });
  }
  return out;
}

/** What the charts know beyond the run: the windows to shade and which modes liquidate instantly. */
export interface ChartContext {
  windows?: BlockWindow[];
  /** Modes without auctions (their "auctions active" would be a flat zero). */
  instantModes?: readonly ModeName[];
}

/** Windows label: "keeper outage 25–60, shock ETH 20–25". */
export function windowsText(windows: readonly BlockWindow[]): string {
  return windows.map((w) => `${w.kind}${w.asset ? ` ${w.asset}` : ""} blocks ${w.from}–${w.to}`).join(", ");
}

/** A layer of shaded bands (full height) for `windows`, `asset`'s and the global ones. */
function bandsLayer(windows: readonly BlockWindow[], x: Spec, asset?: string): Spec[] {
  const shown = windows.filter((w) => asset === undefined || w.asset === undefined || w.asset === asset);
  if (shown.length === 0) return [];
  // The legend lists the kinds the scenario has (the same in every panel of the chart).
  const kinds = (Object.keys(WINDOW_COLORS) as BlockWindow["kind"][]).filter((k) => windows.some((w) => w.kind === k));
  return [
    {
      name: "windowbands",
      data: { values: shown.map((w) => ({ ...w, asset: w.asset ?? "all", label: windowsText([w]) })) },
      mark: { type: "rect", opacity: 0.16, tooltip: true },
      encoding: {
        x: { ...x, field: "from" },
        x2: { field: "to" },
        fill: {
          field: "kind",
          type: "nominal",
          title: "shaded",
          scale: { domain: kinds, range: kinds.map((k) => WINDOW_COLORS[k]) },
          legend: { symbolOpacity: 0.5 },
        },
      },
    },
  ];
}

/** A unit panel over blocks with the windows shaded behind it. */
function timePanel(ctx: ChartContext, x: Spec, panel: Spec, asset?: string): Spec {
  const { width, height, title, ...unit } = panel;
  return {
    ...(title !== undefined ? { title } : {}),
    width: width ?? WIDTH,
    height: height ?? 150,
    layer: [...bandsLayer(ctx.windows ?? [], x, asset), unit],
  };
}

/** The x encoding of every time chart: blocks 0 to the last drawn block. */
function blockAxis(run: ScenarioRun): Spec {
  let last = run.scenario.blocks;
  for (const { rows } of chartRows(run)) for (const r of rows) last = Math.max(last, r.block + 1);
  return { field: "block", type: "quantitative", title: "block", scale: { domain: [0, last], nice: false } };
}

/** [min, max] of `values`, padded by 3% of the range (or of the value when flat). */
export function paddedDomain(values: number[]): [number, number] {
  const fin = values.filter((v) => Number.isFinite(v));
  if (fin.length === 0) return [0, 1];
  const lo = Math.min(...fin);
  const hi = Math.max(...fin);
  const pad = (hi - lo) * 0.03 || Math.abs(hi) * 0.03 || 1;
  return [lo - pad, hi + pad];
}

const PRICE_ENC = {
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
};

/** The y domain of each asset's price panels: one for every mode (`PriceDomains`). */
export function priceDomains(run: ScenarioRun): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const asset of run.scenario.assets) {
    const vs: number[] = [];
    for (const { rows } of chartRows(run))
      for (const r of rows) if (r.asset === asset) vs.push(r.fundamentalUsd, r.venueUsd, r.oracleUsd);
    out[asset] = paddedDomain(vs);
  }
  return out;
}

function pricesChart(run: ScenarioRun, ctx: ChartContext): Chart {
  const assets = run.scenario.assets;
  const x = blockAxis(run);
  const domains = priceDomains(run);
  const width = Math.floor((WIDTH - 60 * (assets.length - 1)) / assets.length);
  const row = (mode: ModeName, rows: SeriesRow[]) => ({
    hconcat: assets.map((asset) => {
      const data: Datum[] = [];
      for (const r of rows.filter((q) => q.asset === asset)) {
        data.push({ block: r.block, price: "fundamental", usd: r.fundamentalUsd });
        data.push({ block: r.block, price: "venue", usd: r.venueUsd });
        data.push({ block: r.block, price: "oracle", usd: r.oracleUsd });
      }
      const line = {
        title: `${mode} · ${asset}`,
        width,
        height: 170,
        data: { values: decimateLines(data, (d) => String(d.price), "usd") },
        mark: { type: "line", strokeWidth: 1.5, interpolate: "step-after" },
        encoding: {
          x,
          y: {
            field: "usd",
            type: "quantitative",
            title: "price (USD)",
            scale: { domain: domains[asset], nice: false, zero: false },
          },
          ...PRICE_ENC,
        },
      };
      return timePanel(ctx, x, line, asset);
    }),
  });
  return {
    id: "prices",
    title: "Prices",
    caption:
      "Fundamental (the scenario's external path), venue (the Uniswap v3 pool) and oracle prices, per asset (columns) and mode (rows); " +
      `every mode's panel of an asset has the same y-scale. ${shadedNote(ctx)}`,
    spec: {
      ...base(`Prices (seed ${chartSeed(run)})`, []),
      vconcat: chartRows(run).map(({ mode, rows }) => row(mode, rows)),
      resolve: { scale: { y: "independent" } },
    },
  };
}

function shadedNote(ctx: ChartContext): string {
  const w = ctx.windows ?? [];
  return w.length === 0 ? "" : `Shaded: ${windowsText(w)}.`;
}

/** Per-mode sums over assets, per block. */
function perBlock(run: ScenarioRun, pick: (r: SeriesRow) => number, modes?: readonly ModeName[]): Datum[] {
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    if (modes && !modes.includes(mode)) continue;
    const sums = new Map<number, number>();
    for (const r of rows) sums.set(r.block, (sums.get(r.block) ?? 0) + pick(r));
    for (const [block, v] of [...sums].sort((a, b) => a[0] - b[0])) data.push({ mode, block, block1: block + 1, v });
  }
  return data;
}

function liquidationsChart(run: ScenarioRun, ctx: ChartContext): Chart {
  const x = blockAxis(run);
  const byMode = chartRows(run).map(({ mode, rows }) => ({
    mode,
    data: rows
      .filter((r) => r.liquidations !== 0 || r.liquidatedNotionalUsd !== 0)
      .map((r) => ({
        asset: r.asset,
        block: r.block,
        block1: r.block + 1,
        count: r.liquidations,
        usd: r.liquidatedNotionalUsd,
      })),
  }));
  // One y-scale per panel kind over every mode: sums per block, stacked over assets.
  const maxOf = (f: "count" | "usd") => {
    const sums = new Map<string, number>();
    for (const { mode, data } of byMode)
      for (const d of data) sums.set(`${mode}|${d.block}`, (sums.get(`${mode}|${d.block}`) ?? 0) + d[f]);
    return Math.max(1, ...sums.values());
  };
  const panel = (mode: ModeName, data: Datum[], field: "count" | "usd", title: string) =>
    timePanel(ctx, x, {
      title: field === "count" ? mode : undefined,
      height: 110,
      data: { values: data },
      mark: { type: "bar" },
      encoding: {
        x,
        x2: { field: "block1" },
        y: {
          field,
          type: "quantitative",
          title,
          aggregate: "sum",
          stack: "zero",
          scale: { domain: [0, maxOf(field)] },
        },
        color: { field: "asset", type: "nominal", title: "asset", sort: [...run.scenario.assets] },
      },
    });
  return {
    id: "liquidations",
    title: "Liquidations per block",
    caption:
      "Liquidation events (instant liquidations or auction kicks) and their notional, per block, stacked by asset; one pair of rows per mode, on shared y-scales. " +
      shadedNote(ctx),
    spec: {
      ...base(`Liquidations per block (seed ${chartSeed(run)})`, []),
      vconcat: byMode.flatMap(({ mode, data }) => [
        panel(mode, data, "count", "liquidations"),
        panel(mode, data, "usd", "notional (USD)"),
      ]),
    },
  };
}

/** Modes with auctions: the run's modes but the instant ones. */
export function auctionModes(run: ScenarioRun, ctx: ChartContext): ModeName[] {
  const instant = new Set(ctx.instantModes ?? []);
  return run.modes.filter((m) => !instant.has(m));
}

function auctionsChart(run: ScenarioRun, ctx: ChartContext): Chart | undefined {
  const modes = auctionModes(run, ctx);
  if (modes.length === 0) return undefined;
  const active = decimateLines(
    perBlock(run, (r) => r.auctionsActive, modes),
    (d) => String(d.mode),
    "v",
  );
  const discounts: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    if (!modes.includes(mode)) continue;
    for (const r of rows) {
      if (r.clearingDiscountPct !== null)
        discounts.push({ mode, asset: r.asset, block: r.block, pct: r.clearingDiscountPct });
    }
  }
  const x = blockAxis(run);
  const instant = run.modes.filter((m) => !modes.includes(m));
  return {
    id: "auctions",
    title: "Auctions and clearing discounts",
    caption:
      `Auctions running at the end of each block (all assets), and the mean discount below the oracle at which lots cleared in that block; modes with auctions only${instant.length > 0 ? ` (${instant.join(", ")} liquidate${instant.length === 1 ? "s" : ""} instantly)` : ""}. ` +
      shadedNote(ctx),
    spec: {
      ...base(`Auctions (seed ${chartSeed(run)})`, []),
      vconcat: [
        timePanel(ctx, x, {
          data: { values: active },
          mark: { type: "line", interpolate: "step-after" },
          encoding: { x, y: { field: "v", type: "quantitative", title: "auctions active" }, color: modeColor(modes) },
        }),
        timePanel(ctx, x, {
          data: { values: discounts },
          mark: { type: "point", filled: true, size: 30 },
          encoding: {
            x,
            y: { field: "pct", type: "quantitative", title: "clearing discount (%)" },
            color: modeColor(modes),
            shape: { field: "asset", type: "nominal", title: "asset" },
          },
        }),
      ],
      resolve: { scale: { color: "shared" } },
    },
  };
}

function insuranceChart(run: ScenarioRun, ctx: ChartContext): Chart {
  // The fund is global: every asset's row carries the same balance, so take the first asset.
  const first = run.scenario.assets[0];
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) if (r.asset === first) data.push({ mode, block: r.block, usd: r.insuranceUsd });
  }
  const x = blockAxis(run);
  const top = Math.max(1, ...data.map((d) => Number(d.usd)));
  return {
    id: "insurance",
    title: "Insurance fund",
    caption: `Insurance fund balance at the end of each block, on an axis from zero (a drawdown shows at its true size). ${shadedNote(ctx)}`,
    spec: {
      ...base(`Insurance fund balance (seed ${chartSeed(run)})`, []),
      ...timePanel(ctx, x, {
        height: 200,
        data: { values: decimateLines(data, (d) => String(d.mode), "usd") },
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x,
          y: {
            field: "usd",
            type: "quantitative",
            title: "balance (USD)",
            scale: { domain: [0, top * 1.05], zero: true, nice: false },
          },
          color: modeColor(run.modes),
        },
      }),
    },
  };
}

function breakerChart(run: ScenarioRun, ctx: ChartContext): Chart {
  const data: Datum[] = [];
  for (const { mode, rows } of chartRows(run)) {
    for (const r of rows) data.push({ mode, asset: r.asset, block: r.block, level: r.breakerLevel });
  }
  const levels = Math.max(1, ...data.map((d) => Number(d.level)));
  const x = blockAxis(run);
  return {
    id: "breaker",
    title: "Circuit breaker level",
    caption: `Effective breaker level of each asset's market at the end of each block (0 = normal, or breakers off). ${shadedNote(ctx)}`,
    spec: {
      ...base(`Breaker level (seed ${chartSeed(run)})`, []),
      vconcat: run.scenario.assets.map((asset) =>
        timePanel(
          ctx,
          x,
          {
            title: asset,
            height: 90,
            data: {
              values: decimateLines(
                data.filter((d) => d.asset === asset),
                (d) => String(d.mode),
                "level",
              ),
            },
            mark: { type: "line", interpolate: "step-after" },
            encoding: {
              x,
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
          asset,
        ),
      ),
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

/** The heatmap's panels of one asset: before the crash, then after it in each mode. */
export interface HeatmapView {
  /** "before the crash" or "<mode>, after block N". */
  label: string;
  buckets: HeatmapBucket[];
}

export function heatmapViews(run: ScenarioRun, asset: string): HeatmapView[] {
  const seed = chartSeed(run);
  const views: HeatmapView[] = [
    { label: "before the crash (every mode)", buckets: run.heatmap.filter((b) => b.asset === asset) },
  ];
  for (const mode of run.modes) {
    const after = run.runs.find((r) => r.mode === mode && r.seed === seed)?.heatmapAfter;
    if (after === undefined) continue;
    views.push({
      label: `${mode}, after block ${after.block} (the scenario's last)`,
      buckets: after.buckets.filter((b) => b.asset === asset),
    });
  }
  return views;
}

function notionalData(buckets: HeatmapBucket[]): Datum[] {
  const out: Datum[] = [];
  for (const b of buckets) {
    if (b.longNotionalUsd > 0)
      out.push({ side: "long", from: b.liqPriceFromUsd, to: b.liqPriceToUsd, usd: b.longNotionalUsd });
    if (b.shortNotionalUsd > 0)
      out.push({ side: "short", from: b.liqPriceFromUsd, to: b.liqPriceToUsd, usd: b.shortNotionalUsd });
  }
  return out;
}

/** One asset's panels of the heatmap: its buckets over its depth bands, before and after, on shared scales. */
function heatmapPanels(run: ScenarioRun, asset: string, p0: number | undefined): Spec[] {
  const views = heatmapViews(run, asset).map((v) => ({ ...v, notional: notionalData(v.buckets) }));
  const depth: Datum[] = run.depth
    .filter((d) => d.asset === asset)
    .map((d) => ({ from: d.priceFromUsd, to: d.priceToUsd, usd: d.depthUsd }));
  const xs = [...views.flatMap((v) => v.notional), ...depth].flatMap((d) => [Number(d.from), Number(d.to)]);
  const x = {
    field: "from",
    type: "quantitative",
    title: "price (USD)",
    scale: xs.length > 0 ? { domain: [Math.min(...xs), Math.max(...xs)], nice: false } : { zero: false },
  };
  const yTop = Math.max(1, ...views.flatMap((v) => v.notional.map((d) => Number(d.usd))));
  const depthTop = Math.max(1, ...depth.map((d) => Number(d.usd)));
  return views.map((v) => ({
    title: `${asset}: ${v.label}`,
    width: WIDTH - 80,
    height: 180,
    layer: [
      {
        data: { values: depth },
        mark: { type: "rect", color: "#9aa5b1", opacity: 0.35, stroke: "#6b7785", strokeWidth: 0.5 },
        encoding: {
          x,
          x2: { field: "to" },
          y: {
            field: "usd",
            type: "quantitative",
            title: "venue depth in band (USD)",
            axis: { orient: "right" },
            scale: { domain: [0, depthTop] },
          },
          y2: { datum: 0 },
        },
      },
      {
        data: { values: v.notional },
        mark: { type: "rect", opacity: 0.85 },
        encoding: {
          x,
          x2: { field: "to" },
          y: {
            field: "usd",
            type: "quantitative",
            title: "open notional liquidated here (USD)",
            scale: { domain: [0, yTop] },
          },
          y2: { datum: 0 },
          color: {
            field: "side",
            type: "nominal",
            title: "positions",
            scale: { domain: ["long", "short"], range: ["#d62728", "#2ca02c"] },
          },
        },
      },
      ...(p0 !== undefined ? [initialPriceLayer(p0)] : []),
    ],
    resolve: { scale: { y: "independent" } },
  }));
}

function heatmapChart(run: ScenarioRun, initialPrices: Record<string, number>): Chart {
  const panels = run.scenario.assets.flatMap((asset) => heatmapPanels(run, asset, initialPrices[asset]));
  const after = run.runs.some((r) => r.heatmapAfter !== undefined);
  return {
    id: "heatmap",
    title: after ? "Liquidation heatmap, before and after the crash" : "Pre-crash liquidation heatmap",
    caption:
      "Open notional bucketed by liquidation price (longs red, shorts green), drawn over the venue's depth bands (grey, right axis): notional stacked where the book is thin is cascade fuel. " +
      (after
        ? `First panel: the population before the first simulated block (every mode starts from it); then, per mode, the positions still open after the scenario's last block, at the oracle price with each account's own maintenance margin (seed ${chartSeed(run)}). Panels of an asset share their scales.`
        : "The population before the first simulated block."),
    spec: { ...base("Liquidation prices vs venue depth", []), vconcat: panels },
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

/**
 * Every chart of the report, in report order. `initialPrices` draws the start price on the
 * heatmap; `ctx` has the windows to shade and the instant modes (no auctions chart for them).
 */
export function buildCharts(
  run: ScenarioRun,
  initialPrices: Record<string, number> = {},
  ctx: ChartContext = {},
): Chart[] {
  const auctions = auctionsChart(run, ctx);
  return [
    pricesChart(run, ctx),
    liquidationsChart(run, ctx),
    ...(auctions ? [auctions] : []),
    insuranceChart(run, ctx),
    breakerChart(run, ctx),
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

/**
 * User-facing errors: `BulwarkError` (a user mistake, a missing deployment, a decoded revert) and
 * the decoder that turns every custom error of the protocol, a `Panic` or an `Error(string)` into
 * one sentence in human units (`describeRevert`). Tasks, the client library and the keeper share
 * it. Imports nothing of the project but `lib/codec`, `lib/units` and (on first use) typechain-types.
 */
import {
  decodeBytes32String,
  ErrorFragment,
  id as keccakId,
  Interface,
  isError,
  isHexString,
  type InterfaceAbi,
  type ParamType,
} from "ethers";
import { HardhatPluginError } from "hardhat/plugins";
import { breakerLevel, decodeAuctionId, describeBreakerLevel, LOT_KIND_NAMES } from "./codec";
import { num, pct, usd } from "./units";

/**
 * A user mistake, a missing deployment or a decoded revert: printed as one line, without a stack
 * trace. A `HardhatPluginError`, so that Hardhat prints one line for it too when a task or a
 * `hardhat run` script does not catch it.
 */
export class BulwarkError extends HardhatPluginError {
  constructor(message: string) {
    super("bulwark", message);
    // HardhatPluginError resets the prototype to its own; restore ours so `instanceof` works.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "BulwarkError";
  }
}

// ------------------------------------------------------------------ the protocol's errors

/** The contracts whose ABIs the decoder reads (every contract of the protocol with errors). */
const CONTRACTS = [
  "PerpVault",
  "VaultLogic",
  "VaultAdmin",
  "AuctionHouse",
  "CircuitBreaker",
  "RiskEngine",
  "StaticRiskEngine",
  "OracleRouter",
  "LiquidityPool",
  "InsuranceFund",
  "UniswapFlashTaker",
  "StairstepExponentialDecrease",
  "LinearDecrease",
  "ExponentialDecrease",
] as const;

let protocolErrorsCache: Interface | undefined;

/**
 * Every custom error of the protocol's contracts, one fragment per selector. Built on first use:
 * hardhat.config.ts loads the tasks, which import this module, before the first compile has
 * generated typechain-types, so the ABIs cannot be imported at load time.
 */
export function protocolErrors(): Interface {
  if (protocolErrorsCache !== undefined) return protocolErrorsCache;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factories = require("../typechain-types") as Record<string, { abi: InterfaceAbi }>;
  const bySelector = new Map<string, ErrorFragment>();
  for (const name of CONTRACTS) {
    for (const f of new Interface(factories[`${name}__factory`].abi).fragments) {
      if (f.type === "error" && !bySelector.has((f as ErrorFragment).selector)) {
        bySelector.set((f as ErrorFragment).selector, f as ErrorFragment);
      }
    }
  }
  protocolErrorsCache = new Interface([...bySelector.values()]);
  return protocolErrorsCache;
}

/** Solidity's `Panic(uint256)` codes. */
export const PANIC_REASONS: Record<number, string> = {
  0x00: "generic compiler panic",
  0x01: "assertion failed",
  0x11: "arithmetic overflow/underflow",
  0x12: "division or modulo by zero",
  0x21: "invalid enum value",
  0x22: "corrupt storage byte array",
  0x31: "pop on an empty array",
  0x32: "array index out of bounds",
  0x41: "out of memory",
  0x51: "call to an uninitialised internal function",
};

const ROLES = new Map(
  ["RISK_ADMIN_ROLE", "LIQUIDATOR_ROLE", "BREAKER_ROLE", "REPORTER_ROLE", "GUARDIAN_ROLE"].map((r) => [keccakId(r), r]),
);
const ZERO32 = "0x" + "00".repeat(32);
ROLES.set(ZERO32, "DEFAULT_ADMIN_ROLE");

// ------------------------------------------------------------------ formatting of arguments

/** Names for addresses the caller knows (token symbols, "the pool"), lowercase keys. */
export interface DecodeContext {
  names?: Record<string, string>;
}

/** `0x1234…abcd`, or the name the context gives it. */
export function shortAddress(address: string, ctx: DecodeContext = {}): string {
  const named = ctx.names?.[address.toLowerCase()];
  if (named) return named;
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** "900 s (15 min)": a duration in seconds. */
export function seconds(value: bigint): string {
  const s = Number(value);
  const trim = (x: number): string => x.toFixed(2).replace(/\.?0+$/, "");
  const unit =
    s >= 86_400
      ? ` (${trim(s / 86_400)} d)`
      : s >= 3600
        ? ` (${trim(s / 3600)} h)`
        : s >= 60
          ? ` (${trim(s / 60)} min)`
          : "";
  return `${value.toLocaleString("en-US")} s${unit}`;
}

/** A unix time as ISO-8601 UTC ("never" for 0; the number when no date can hold it). */
function timestamp(value: bigint): string {
  if (value === 0n) return "never";
  if (value > 8_640_000_000_000n) return `unix time ${value.toLocaleString("en-US")}`;
  return new Date(Number(value) * 1000).toISOString().replace(".000Z", "Z");
}

/** A bytes32: a role's name, a short string (market id, parameter name), "global" for zero, or hex. */
export function bytes32Text(value: string, name = ""): string {
  const role = ROLES.get(value);
  if (role && (/role/i.test(name) || value !== ZERO32)) return role;
  if (value === ZERO32) return "global";
  try {
    const s = decodeBytes32String(value);
    if (/^[\x20-\x7e]+$/.test(s)) return s;
  } catch {
    /* not a string */
  }
  return `${value.slice(0, 10)}…`;
}

export type Unit = "usd" | "price" | "ratio" | "multiple" | "bps" | "seconds" | "time" | "amount" | "count";

/** The unit of each bounded parameter (the `param` of `ParamOutOfBounds`/`CurveParamOutOfBounds`). */
const PARAM_UNITS: Record<Unit, string[]> = {
  ratio: ["collateralWeight", "insuranceFeeShare", "makerFee", "takerFee", "maxOiPoolRatio", "reserveRatio", "cut"],
  usd: [
    "liquidationBuffer",
    "dust",
    "tip",
    "rewardCap",
    "globalCapacity",
    "maxOutstanding",
    "reportMinNotional",
    "depthUsd",
  ],
  amount: ["collateralCap", "skewScale", "maxFundingVelocity"],
  multiple: ["buf", "targetHealth", "cautionImWad", "haltImWad"],
  bps: [
    "hardFloor",
    "baseImr",
    "baseMmr",
    "impactFactor",
    "initialVol",
    "maintenanceFraction",
    "volMultiplier",
    "maxMmrRisePerHour",
  ],
  seconds: ["tail", "window", "liquidationHorizon", "smoothingHalfLife", "volHalfLife", "step", "tau", "halfLife"],
  count: ["maxResets"],
  price: [],
  time: [],
};

/** The unit of a bounded parameter, by the table or else by its name's suffix. */
export function paramUnit(param: string): Unit {
  for (const [unit, names] of Object.entries(PARAM_UNITS)) if (names.includes(param)) return unit as Unit;
  return unitOf(/(Wad|Bps|Sec)$/.test(param) ? param : `${param}Wad`);
}

/** Arguments of particular errors whose unit their name does not tell (token amounts in WAD). */
const ARG_UNITS: Record<string, Record<string, Unit>> = {
  InsufficientBalance: { balanceWad: "amount", requestedWad: "amount" },
  DepositCapExceeded: { totalWad: "amount", capWad: "amount" },
};

/** The unit an argument is in, from its name (`equityWad` → usd, `tailSec` → seconds, …). */
export function unitOf(name: string): Unit {
  const n = name.replace(/_$/, "");
  if (/price/i.test(n)) return "price";
  if (/Bps$/.test(n)) return "bps";
  if (/(At|updatedAt)$/.test(n)) return "time";
  if (/(Sec|heartbeat|Period)$/i.test(n)) return "seconds";
  if (/^(size|slice)/i.test(n)) return "amount";
  if (/(imr|mmr|deviation|ratio|fraction|feeShare|drawdown|penalty|chip|cusp|floor|band|hysteresis|bonus)/i.test(n)) {
    return "ratio";
  }
  if (/(health|ImWad|buf)/i.test(n)) return "multiple";
  if (/Wad$/.test(n)) return "usd";
  return "count";
}

/** A numeric value in `unit`, human-readable. */
export function formatValue(value: bigint, unit: Unit): string {
  switch (unit) {
    case "usd":
    case "price":
      return usd(value);
    case "ratio":
      return pct(value);
    case "multiple":
      return `×${num(value)}`;
    case "bps":
      return `${value.toLocaleString("en-US")} bps (${num(value, 2, 2)}%)`;
    case "seconds":
      return seconds(value);
    case "time":
      return timestamp(value);
    case "amount":
      return num(value, 18, 6);
    default:
      return value.toLocaleString("en-US");
  }
}

/** One decoded argument, by its ABI type and name (`unit` overrides the name's unit). */
export function formatArg(param: ParamType, value: unknown, ctx: DecodeContext = {}, unit?: Unit): string {
  const name = param.name;
  if (param.type === "address") return shortAddress(String(value), ctx);
  if (param.type === "bytes32") return bytes32Text(String(value), name);
  if (param.type === "bool") return name === "isLong" ? (value ? "long" : "short") : String(value);
  if (typeof value !== "bigint") return String(value);
  if (name === "level" || name === "current" || name === "requested") {
    return value <= 3n ? describeBreakerLevel(breakerLevel(value)) : value.toString();
  }
  if (/^(id|auctionId)$/.test(name)) return auctionText(value, ctx);
  return formatValue(value, unit ?? unitOf(name));
}

/** "the position lot of 0x1234…abcd at index 0", or the number when it is no auction id. */
function auctionText(id: bigint, ctx: DecodeContext): string {
  try {
    const d = decodeAuctionId(id);
    return `the ${LOT_KIND_NAMES[d.kind]} lot of ${shortAddress(d.account, ctx)} at index ${d.index}`;
  } catch {
    return id.toString();
  }
}

// ------------------------------------------------------------------ sentences

type Args = Record<string, string>;

/**
 * A sentence for the most common errors, from their formatted arguments. The rest read
 * `Name(arg=value, …)` in the same units.
 */
const SENTENCES: Record<string, (a: Args) => string> = {
  Undercollateralized: (a) =>
    `${a.account} would be undercollateralized: equity ${a.equityWad} is below the ${a.requiredWad} of margin required`,
  AccountInLiquidation: (a) =>
    `${a.account} is being liquidated: it can neither trade nor withdraw until its auctions end`,
  BreakerActive: (a) => `the circuit breaker of ${a.marketId} is at level ${a.level}, which does not allow this`,
  NothingToLiquidate: (a) => `${a.account} has nothing left to liquidate`,
  NotLiquidatable: (a) =>
    `${a.account} is not liquidatable: equity ${a.equityWad} is at or above its maintenance margin ${a.maintenanceMarginWad}`,
  StalePrice: (a) =>
    `the price of ${a.asset} is stale: its feed ${a.feed} last updated at ${a.updatedAt}, heartbeat ${a.heartbeat}`,
  NonPositivePrice: (a) => `the feed ${a.feed} of ${a.asset} answered a non-positive price (${a.answer})`,
  PriceDeviation: (a) =>
    `the two feeds of ${a.asset} disagree: ${a.primaryWad} against ${a.secondaryWad}, more than ${a.maxDeviationBps} apart`,
  FeedNotSet: (a) => `no price feed is set for ${a.asset}`,
  SequencerDown: () => "the L2 sequencer is down: prices cannot be trusted",
  SequencerGracePeriod: (a) => `the L2 sequencer restarted at ${a.startedAt}: prices wait out ${a.gracePeriodSec}`,
  OracleUnavailable: (a) => `no usable price for ${a.marketId} (asset ${a.asset})`,
  ParamOutOfBounds: (a) => `${a.param} must be between ${a.min} and ${a.max}: got ${a.value}`,
  CurveParamOutOfBounds: (a) => `curve parameter ${a.param} must be between ${a.min} and ${a.max}: got ${a.value}`,
  SlippageExceeded: (a) =>
    `the fill price ${a.fillPriceWad} is worse than the acceptable ${a.acceptablePriceWad}: raise --slippage or trade less`,
  InsufficientBalance: (a) =>
    `${a.account} holds ${a.balanceWad} ${a.token} in the vault, less than the ${a.requestedWad} requested`,
  DepositCapExceeded: (a) => `the deposit cap of ${a.token} is ${a.capWad}: deposits would total ${a.totalWad}`,
  InsufficientPoolLiquidity: (a) => `the pool has ${a.availableWad} available, less than the ${a.requestedWad} needed`,
  InsufficientInsurance: (a) => `the insurance fund has ${a.availableWad}, less than the ${a.requestedWad} requested`,
  OpenInterestCapExceeded: (a) =>
    `the ${a.isLong} open interest of ${a.marketId} would reach ${a.oiNotionalWad}, above its cap of ${a.capWad}`,
  NoCapacity: (a) => `the liquidation capacity of ${a.key} is used up for now: ${a.availableWad} left in the window`,
  AuctionNotRunning: (a) => `no auction is running for ${a.id}`,
  AuctionNeedsRedo: (a) => `the auction of ${a.id} is stale and must be redone before a take`,
  PriceLimitExceeded: (a) => `the auction price ${a.priceWad} is above the bidder's limit ${a.priceLimitWad}`,
  UnknownMarket: (a) => `unknown market ${a.marketId ?? a.market}`,
  UnknownCollateral: (a) => `${a.token} is not a listed collateral`,
  ZeroAmount: () => "the amount must not be zero",
  ZeroAddress: () => "an address argument is the zero address",
  NoChange: () => "the call would change nothing",
  AccessControlUnauthorizedAccount: (a) => `${a.account} does not hold ${a.neededRole}`,
  ERC4626ExceededMaxWithdraw: (a) => `${a.owner} can withdraw at most ${a.max} of the pool's assets, not ${a.assets}`,
  ERC4626ExceededMaxRedeem: (a) => `${a.owner} can redeem at most ${a.max} pool shares, not ${a.shares}`,
};

export interface DecodedRevert {
  /** The error's name (`Undercollateralized`, `Panic`, `Error`), or `unknown` for an unknown selector. */
  name: string;
  /** Each argument formatted in human units, by name. */
  args: Args;
  /** The sentence shown to users. */
  sentence: string;
}

/**
 * Decodes revert data: a custom error of the protocol (a sentence, or `Name(arg=value, …)` in human
 * units), a `Panic(code)`, an `Error(string)`, empty data, or an unknown selector.
 */
export function decodeRevertData(data: string, ctx: DecodeContext = {}): DecodedRevert {
  if (data === "0x" || data === "") return { name: "unknown", args: {}, sentence: "reverted without a reason" };
  if (data.startsWith("0x4e487b71")) return decodePanic(data);
  if (data.startsWith("0x08c379a0")) {
    try {
      const [reason] = protocolErrors()
        .getAbiCoder()
        .decode(["string"], "0x" + data.slice(10));
      return { name: "Error", args: { reason: String(reason) }, sentence: String(reason) };
    } catch {
      /* malformed: fall through */
    }
  }
  const parsed = parseProtocolError(data);
  if (!parsed) {
    const bytes = Math.max(0, (data.length - 2) / 2);
    return {
      name: "unknown",
      args: {},
      sentence: `unknown error ${data.slice(0, 10)} (${bytes} bytes of revert data)`,
    };
  }
  const args = formatArgs(parsed.name, parsed.fragment.inputs, parsed.args.toArray(), ctx);
  const template = SENTENCES[parsed.name];
  const generic = `${parsed.name}(${Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")})`;
  return { name: parsed.name, args, sentence: template ? `${template(args)} (${parsed.name})` : generic };
}

/** `protocolErrors().parseError`, or null for an unknown selector or undecodable arguments. */
function parseProtocolError(data: string): ReturnType<Interface["parseError"]> {
  try {
    return protocolErrors().parseError(data);
  } catch {
    return null;
  }
}

/** The arguments of error `name`, formatted; a bound's value, min and max in its parameter's unit. */
function formatArgs(name: string, inputs: readonly ParamType[], values: unknown[], ctx: DecodeContext): Args {
  const bound = name === "ParamOutOfBounds" || name === "CurveParamOutOfBounds";
  const unit = bound ? paramUnit(bytes32Text(String(values[0]))) : undefined;
  const args: Args = {};
  inputs.forEach((p, i) => {
    const u = bound && i > 0 ? unit : ARG_UNITS[name]?.[p.name];
    args[p.name || `arg${i}`] = formatArg(p, values[i], ctx, u);
  });
  return args;
}

function decodePanic(data: string): DecodedRevert {
  let code: bigint;
  try {
    [code] = protocolErrors()
      .getAbiCoder()
      .decode(["uint256"], "0x" + data.slice(10));
  } catch {
    return { name: "Panic", args: {}, sentence: "Panic with malformed data" };
  }
  const hex = "0x" + code.toString(16).padStart(2, "0");
  const reason = PANIC_REASONS[Number(code)] ?? "unknown panic code";
  return { name: "Panic", args: { code: hex }, sentence: `${reason} (Panic ${hex})` };
}

// ------------------------------------------------------------------ errors thrown by ethers

/** The revert data anywhere in an ethers / provider / Hardhat error, if any. */
export function findRevertData(e: unknown, depth = 0): string | undefined {
  if (depth > 6 || e === null || typeof e !== "object") return undefined;
  const o = e as Record<string, unknown>;
  if (typeof o.data === "string" && isHexString(o.data) && (o.data.length >= 10 || o.data === "0x")) {
    if (o.data !== "0x" || isError(e, "CALL_EXCEPTION")) return o.data;
  }
  for (const k of ["error", "info", "cause", "data"]) {
    const found = findRevertData(o[k], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * One line for any error of a contract call: the decoded revert when there is revert data, a
 * readable line for an argument ethers cannot encode (a size out of range), else its message.
 */
export function describeRevert(e: unknown, ctx: DecodeContext = {}): string {
  const data = findRevertData(e);
  if (data !== undefined) return decodeRevertData(data, ctx).sentence;
  if (isError(e, "INVALID_ARGUMENT") || isError(e, "NUMERIC_FAULT")) {
    const err = e as { argument?: string; value?: unknown; shortMessage?: string };
    const what = err.argument ? ` for ${err.argument}` : "";
    return `a value${what} is out of the range the contract accepts (${err.shortMessage ?? "invalid argument"}: ${String(err.value)})`;
  }
  const err = e as { shortMessage?: unknown; message?: unknown };
  return String(err.shortMessage ?? err.message ?? e).split("\n")[0];
}

/**
 * The mode's setup block: admin transactions that turn the populated world (taken before any mode
 * was applied) into a mode: the auction house's instant and takeover switches, the throttle, the
 * dynamic RiskEngine and the circuit breaker.
 */
import { auctionParams, type AuctionParams } from "../../../lib/params";
import type { TxRequest } from "../chain";
import type { ModeParams } from "../modes";
import { AUCTION_BREAKER_DEFAULTS, wad, type World } from "../world";

/**
 * Applies the circuit breaker setting of a mode. On: the auction house reports auction health to
 * the deployed `CircuitBreaker`, and the oracle relayer pokes each market in the block of every
 * round it writes (and once at the start, to open the price window). Off: nobody pokes it and the
 * auction house reports nothing, so every level stays 0. The run starts from a snapshot taken
 * before any mode was applied, so a previous mode's setting never leaks into the next.
 */
export function applyBreaker(world: World, enabled: boolean): TxRequest[] {
  world.breakerEnabled = enabled;
  if (!enabled) return [];
  return [
    {
      from: world.admin,
      to: world.auctionAddr,
      data: world.ifaces.auction.encodeFunctionData("setBreakerConfig", [
        { breaker: world.breakerAddr, ...AUCTION_BREAKER_DEFAULTS },
      ]),
      gas: 200_000,
    },
  ];
}

/** AuctionHouse MAX_DUST: the largest dust the auction house accepts ($1M). */
export const MAX_DUST_WAD = 1_000_000n * 10n ** 18n;

/** The auction parameters a mode changes from the deployed ones: the instant and takeover
 * switches and, in instant mode, the close rule (dust) and the liquidator's bonus. */
export function modeAuctionOverrides(mode: ModeParams): Partial<AuctionParams> {
  const o: Partial<AuctionParams> = { instantMode: mode.liquidation === "instant", poolTakeover: mode.poolTakeover };
  const inst = mode.liquidation === "instant" ? mode.instant : undefined;
  if (inst?.close === "full") o.dustWad = MAX_DUST_WAD;
  if (inst?.bonusWad !== undefined) o.instantBonusWad = inst.bonusWad;
  return o;
}

/** `setParams` with the mode's overrides, if they differ from the deployed parameters. */
async function auctionParamsTxs(w: World, mode: ModeParams): Promise<TxRequest[]> {
  const current = await w.auction.params();
  const overrides = modeAuctionOverrides(mode);
  const same = (Object.keys(overrides) as (keyof AuctionParams)[]).every((k) => current[k] === overrides[k]);
  if (same) return [];
  const p = auctionParams(current, overrides);
  return [
    {
      from: w.admin,
      to: w.auctionAddr,
      data: w.ifaces.auction.encodeFunctionData("setParams", [p]),
      gas: 500_000,
    },
  ];
}

/** The throttle: each market may start `depthMultiple` × its 1% depth of liquidations per window. */
function throttleTxs(w: World, mode: ModeParams): TxRequest[] {
  if (mode.throttle === "off") return [];
  const t = mode.throttle;
  const txs = w.assets.map((a) => ({
    from: w.admin,
    to: w.auctionAddr,
    data: w.ifaces.auction.encodeFunctionData("setMarketCapacity", [
      a.marketId,
      wad(Math.max(1_000, t.depthMultiple * a.depth1PctUsd)),
    ]),
    gas: 300_000,
  }));
  if (t.windowSec !== 3600) throw new Error("lab: throttle windows other than 3600 s are not wired");
  return txs;
}

/** Admin transactions that turn the populated world into `mode`. */
export async function modeTxs(w: World, mode: ModeParams): Promise<TxRequest[]> {
  const txs: TxRequest[] = [...(await auctionParamsTxs(w, mode)), ...throttleTxs(w, mode)];
  if (mode.thresholds === "dynamic")
    txs.push({
      from: w.admin,
      to: w.vaultAddr,
      data: w.ifaces.vault.encodeFunctionData("setRiskEngine", [await w.dynamicRisk.getAddress()]),
      gas: 1_000_000,
    });
  txs.push(...applyBreaker(w, mode.breaker));
  return txs;
}

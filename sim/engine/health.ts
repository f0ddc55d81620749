/**
 * A linear model of each account's health between on-chain reads, used only to pre-filter which
 * accounts the lens scans: equity moves by Σ size × Δprice + Σ collateral × weight × Δprice from
 * the last calibration, maintenance scales with notional. The vault stays the authority: an
 * account is kicked only when `SimLens.scan` (the vault's own `isLiquidatable`) says so. The
 * filter is generous (1.25 × MM plus 1% of notional) and recalibrated after every event that
 * touches an account and periodically, so funding, fees and the dynamic engine's drift cannot hide
 * an account from the scan.
 */
import { charge } from "./profile";
import { COLLATERAL_WEIGHT, LIQUIDATION_BUFFER_USD, fromWad, type World } from "./world";

const CHUNK = 20;

interface Exposure {
  equity: number;
  mm: number;
  sizes: number[];
  collateral: number[];
  prices: number[];
}

export class HealthModel {
  private readonly ex = new Map<string, Exposure>();
  private readonly failed = new Set<string>();

  constructor(private readonly w: World) {}

  /** Reads the exposures of `accounts` now; `oracle` is the oracle price of each asset now. */
  async calibrate(accounts: string[], oracle: number[]): Promise<void> {
    const w = this.w;
    const markets = w.assets.map((a) => a.marketId);
    const tokens = w.assets.map((a) => a.tokenAddr);
    charge("calibrated accounts", 0, accounts.length);
    for (let i = 0; i < accounts.length; i += CHUNK) {
      const chunk = accounts.slice(i, i + CHUNK);
      const raw = await w.chain.call(
        w.lensAddr,
        w.ifaces.lens.encodeFunctionData("exposures", [w.vaultAddr, chunk, markets, tokens]),
      );
      const [rows] = w.ifaces.lens.decodeFunctionResult("exposures", raw) as unknown as [
        [boolean, bigint, bigint, bigint[], bigint[]][],
      ];
      rows.forEach((r, j) => {
        const acc = chunk[j].toLowerCase();
        if (!r[0]) {
          this.failed.add(acc);
          return;
        }
        this.failed.delete(acc);
        this.ex.set(acc, {
          equity: fromWad(r[1]),
          mm: fromWad(r[2]),
          sizes: r[3].map((x) => fromWad(BigInt(x))),
          collateral: r[4].map((x) => fromWad(BigInt(x))),
          prices: [...oracle],
        });
      });
    }
  }

  /** Notional of the account's positions at `prices` (USD), from its last calibration. */
  notional(account: string, prices: number[]): number {
    const e = this.ex.get(account.toLowerCase());
    return e ? e.sizes.reduce((s, x, a) => s + Math.abs(x) * prices[a], 0) : 0;
  }

  /** The model's equity, maintenance and notional of an account at `prices` (undefined: no read). */
  estimate(account: string, prices: number[]): { equity: number; mm: number; notional: number } | undefined {
    const e = this.ex.get(account.toLowerCase());
    if (!e) return undefined;
    let equity = e.equity;
    let notional = 0;
    let notional0 = 0;
    for (let a = 0; a < prices.length; a++) {
      const dp = prices[a] - e.prices[a];
      equity += e.sizes[a] * dp + e.collateral[a] * COLLATERAL_WEIGHT * dp;
      notional += Math.abs(e.sizes[a]) * prices[a];
      notional0 += Math.abs(e.sizes[a]) * e.prices[a];
    }
    const mm = notional0 > 0 ? LIQUIDATION_BUFFER_USD + (e.mm - LIQUIDATION_BUFFER_USD) * (notional / notional0) : 0;
    return { equity, mm, notional };
  }

  /** Accounts that may be liquidatable at `oracle` (and every account whose read failed). */
  candidates(accounts: string[], oracle: number[]): string[] {
    const out: string[] = [];
    for (const account of accounts) {
      const acc = account.toLowerCase();
      const e = this.estimate(acc, oracle);
      if (!e) {
        if (this.failed.has(acc)) out.push(account);
        continue;
      }
      if (e.notional === 0 && e.equity >= 0) continue;
      if (e.equity < 1.25 * e.mm + 0.01 * e.notional) out.push(account);
    }
    return out;
  }
}

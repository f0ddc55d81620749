import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "../shared/load-fixture";
import { ETH_USD, WAD, usdc, wad, type World } from "../shared/local-world";
import { deployAuctionWorld, currentParams } from "../shared/auction-math";
import { expectSolvent } from "./helpers";

/**
 * Front-running parameter changes. Every setter is role-gated, bounded by constants in code,
 * rejects no-ops and emits an event, so a compromised or hasty risk admin can move a parameter
 * only within its bounds, in public. A timelock in front of the admin roles (docs/threat-model.md)
 * gives users the time to react; these tests bound the damage without one.
 */

async function marketParamsWith(w: World, changes: Record<string, bigint>) {
  const p = await w.vault.marketParams(ETH_USD);
  return {
    oracleAsset: p.oracleAsset,
    makerFeeWad: p.makerFeeWad,
    takerFeeWad: p.takerFeeWad,
    maxFundingVelocityWad: p.maxFundingVelocityWad,
    maxOiPoolRatioWad: p.maxOiPoolRatioWad,
    skewScaleWad: p.skewScaleWad,
    ...changes,
  };
}

describe("attacks: parameter changes", () => {
  it("attack: hostile parameter change: every setter is role-gated and bounded by code constants", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const outsider = w.traders[0];
    const a = await currentParams(w);
    const t = await w.auction.throttle();
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>, { interface: unknown }][] = [
      [
        "vault taker fee > 1%",
        async () =>
          w.vault.connect(outsider).setMarketParams(ETH_USD, await marketParamsWith(w, { takerFeeWad: wad(0.02) })),
        async () =>
          w.vault.connect(w.admin).setMarketParams(ETH_USD, await marketParamsWith(w, { takerFeeWad: wad(0.02) })),
        w.vault,
      ],
      [
        "vault insurance fee share > 50%",
        () => w.vault.connect(outsider).setGlobalParams(wad(0.6), wad(0.25), 5n * WAD),
        () => w.vault.connect(w.admin).setGlobalParams(wad(0.6), wad(0.25), 5n * WAD),
        w.vault,
      ],
      [
        "auction penalty > 20%",
        () => w.auction.connect(outsider).setParams({ ...a, penaltyWad: wad(0.5) }),
        () => w.auction.connect(w.admin).setParams({ ...a, penaltyWad: wad(0.5) }),
        w.auction,
      ],
      [
        "auction floor < 50%",
        () => w.auction.connect(outsider).setParams({ ...a, floorWad: wad(0.1), cuspWad: wad(0.1) }),
        () => w.auction.connect(w.admin).setParams({ ...a, floorWad: wad(0.1), cuspWad: wad(0.1) }),
        w.auction,
      ],
      [
        "auction throttle window < 60 s",
        () =>
          w.auction.connect(outsider).setThrottle({
            windowSec: 1,
            globalCapacityWad: t.globalCapacityWad,
            maxOutstandingWad: t.maxOutstandingWad,
          }),
        () =>
          w.auction.connect(w.admin).setThrottle({
            windowSec: 1,
            globalCapacityWad: t.globalCapacityWad,
            maxOutstandingWad: t.maxOutstandingWad,
          }),
        w.auction,
      ],
      [
        "risk ratios mmr > 50%",
        () => w.risk.connect(outsider).setRatios(ETH_USD, wad(0.9), wad(0.6)),
        () => w.risk.connect(w.admin).setRatios(ETH_USD, wad(0.9), wad(0.6)),
        w.risk,
      ],
    ];
    for (const [name, asOutsider, asAdmin, contract] of cases) {
      await expect(asOutsider(), name).to.be.revertedWithCustomError(
        contract as never,
        "AccessControlUnauthorizedAccount",
      );
      await expect(asAdmin(), name).to.be.reverted;
    }
    // Bounded values name the parameter and its bounds.
    await expect(
      w.vault.connect(w.admin).setMarketParams(ETH_USD, await marketParamsWith(w, { takerFeeWad: wad(0.02) })),
    )
      .to.be.revertedWithCustomError(w.vault, "ParamOutOfBounds")
      .withArgs(ethers.encodeBytes32String("takerFee"), wad(0.02), 0n, wad(0.01));
    await expect(w.auction.connect(w.admin).setParams({ ...a, penaltyWad: wad(0.5) }))
      .to.be.revertedWithCustomError(w.auction, "ParamOutOfBounds")
      .withArgs(ethers.encodeBytes32String("penalty"), wad(0.5), 0n, wad(0.2));
    // An in-bounds change is public: it emits, and the same value again is rejected.
    await expect(w.vault.connect(w.admin).setGlobalParams(wad(0.3), wad(0.25), 5n * WAD)).to.emit(
      w.vault,
      "GlobalParamsSet",
    );
    await expect(w.vault.connect(w.admin).setGlobalParams(wad(0.3), wad(0.25), 5n * WAD)).to.be.revertedWithCustomError(
      w.vault,
      "NoChange",
    );
  });

  it("attack: front-run fee and skew changes: a trade pays at most the 1% fee bound, and the slippage bound refuses a moved fill", async () => {
    const w = await loadFixture(deployAuctionWorld);
    const trader = w.traders[0];
    await w.vault.connect(trader).deposit(await w.usdc.getAddress(), usdc(50_000));
    const size = 10n * WAD;
    const quoted = await w.vault.fillPrice(ETH_USD, size);
    const acceptable = (quoted * 1_001n) / 1_000n; // 0.1% slippage
    // The admin front-runs with the highest taker fee the bounds allow.
    await w.vault
      .connect(w.admin)
      .setMarketParams(ETH_USD, await marketParamsWith(w, { takerFeeWad: wad(0.01), makerFeeWad: wad(0.01) }));
    const receipt = (await (await w.vault.connect(trader).trade(ETH_USD, size, acceptable)).wait())!;
    const [traded] = await w.vault.queryFilter(w.vault.filters.Traded(trader.address), receipt.blockNumber);
    const notional = (size * traded.args.fillPriceWad) / WAD;
    expect(traded.args.feeWad).to.be.at.most((notional * wad(0.01)) / WAD + 1n);
    // Then with the smallest skew scale: the fill moves, and the trader's bound refuses it.
    await w.vault.connect(w.admin).setMarketParams(ETH_USD, await marketParamsWith(w, { skewScaleWad: 1_000n * WAD }));
    const quoted2 = await w.vault.fillPrice(ETH_USD, -WAD);
    expect(quoted2).to.be.greaterThan(0n);
    await expect(w.vault.connect(trader).trade(ETH_USD, size, acceptable)).to.be.revertedWithCustomError(
      w.vault,
      "SlippageExceeded",
    );
    await expectSolvent(w.vault);
  });
});

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {LibBit} from "solady/src/utils/LibBit.sol";
import {IPerpVault} from "../../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../../interfaces/IRiskEngine.sol";
import {SignedWad} from "../SignedWad.sol";
import {Fills} from "./Fills.sol";
import {VaultTypes} from "./VaultTypes.sol";

/// @title Margin
/// @notice The margin domain of the vault: an account's equity and requirements (with the wick
/// filter's smoothed pass), liquidatability and the kick's target, per-position snapshots, and the
/// pool's value and reserve. Internal and read-only: linked into the vault through `VaultLogic`.
library Margin {
    using SignedWad for int256;
    using FixedPointMathLib for uint256;

    uint256 internal constant WAD = 1e18;

    /// @notice Liquidatable when equity < hardFloor × MM at the oracle price (`BelowHardFloor`), or
    /// equity < MM at both the oracle and the engine's smoothed price (`BelowMaintenance`: the wick
    /// filter). Returns the health at the oracle price. With `capture`, also writes into `target` the
    /// kick's target: the largest position by notional at the oracle (the lowest market index among
    /// equals), taken from the oracle pass (no second oracle or engine call).
    function check(
        mapping(uint256 => VaultTypes.Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        VaultTypes.HealthInputs memory inp,
        IPerpVault.PositionSnapshot memory target,
        bool capture
    ) internal view returns (bool, IPerpVault.LiquidationReason, IPerpVault.AccountHealth memory h) {
        inp.smoothed = false;
        h = healthOf(markets, positions, collaterals, collateralBalances, inp, target, capture);
        if (h.equityWad >= int256(h.maintenanceMarginWad)) return (false, IPerpVault.LiquidationReason.None, h);
        if (h.equityWad < int256(h.maintenanceMarginWad.mulWad(inp.engine.hardFloorWad()))) {
            return (true, IPerpVault.LiquidationReason.BelowHardFloor, h);
        }
        inp.smoothed = true;
        IPerpVault.AccountHealth memory s = healthOf(
            markets,
            positions,
            collaterals,
            collateralBalances,
            inp,
            target,
            false
        );
        if (s.equityWad < int256(s.maintenanceMarginWad))
            return (true, IPerpVault.LiquidationReason.BelowMaintenance, h);
        return (false, IPerpVault.LiquidationReason.None, h);
    }

    /// @notice Equity and requirements of one account. With `smoothed`, positions are marked at the
    /// risk engine's smoothed price where it has one (the wick filter); collateral at the oracle.
    /// With `capture`, the largest position by notional is written into `target` (see `check`).
    function healthOf(
        mapping(uint256 => VaultTypes.Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        VaultTypes.HealthInputs memory inp,
        IPerpVault.PositionSnapshot memory target,
        bool capture
    ) internal view returns (IPerpVault.AccountHealth memory h) {
        uint256 mask = inp.positionMask;
        while (mask != 0) {
            uint256 index = LibBit.ffs(mask);
            mask &= mask - 1;
            bool hinted = index == inp.hintIndex;
            bool captured = _addPosition(
                h,
                markets[index],
                hinted ? inp.hintMarketId : markets[index].id,
                positions[index],
                inp,
                hinted ? inp.hintPriceWad : 0,
                target,
                capture
            );
            if (captured) target.index = index;
        }
        if (inp.positionMask != 0) {
            h.initialMarginWad += inp.liquidationBufferWad;
            h.maintenanceMarginWad += inp.liquidationBufferWad;
        }
        mask = inp.collateralMask;
        // Guarded so that the array's length read, which the optimiser hoists out of the loop, is
        // not paid (a cold SLOAD) by accounts that hold only quote.
        if (mask != 0) {
            while (mask != 0) {
                uint256 index = LibBit.ffs(mask);
                mask &= mask - 1;
                IPerpVault.CollateralConfig storage cfg = collaterals[index];
                uint256 price = inp.oracle.getPrice(cfg.token);
                h.collateralValueWad += collateralBalances[index].mulWad(price).mulWad(cfg.weightWad);
            }
        }
        h.equityWad = inp.quoteBalanceWad + int256(h.collateralValueWad) + h.unrealizedPnlWad - h.accruedFundingWad;
    }

    /// @notice Per-position figures a liquidator sizes a kick with: oracle price, notional and the
    /// engine's initial margin ratio at that notional.
    function positionSnapshots(
        mapping(uint256 => VaultTypes.Market) storage markets,
        bytes32[] storage marketIds,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IOracleRouter oracle,
        IRiskEngine engine,
        uint256 positionMask
    ) internal view returns (IPerpVault.PositionSnapshot[] memory out) {
        out = new IPerpVault.PositionSnapshot[](LibBit.popCount(positionMask));
        for (uint256 k; positionMask != 0; ++k) {
            uint256 index = LibBit.ffs(positionMask);
            positionMask &= positionMask - 1;
            IPerpVault.PositionSnapshot memory snap = out[k];
            snap.marketId = marketIds[index];
            snap.index = index;
            snap.sizeWad = positions[index].sizeWad;
            snap.oracleAsset = markets[index].params.oracleAsset;
            snap.priceWad = oracle.getPrice(snap.oracleAsset);
            snap.notionalWad = snap.sizeWad.abs().mulWadUp(snap.priceWad);
            (snap.imrWad, ) = engine.marginRatios(snap.marketId, snap.notionalWad);
        }
    }

    /// @notice Pool value = realised balance − traders' unrealised PnL at the exit price (see below)
    /// + traders' unsettled funding (rounded down); reserve = reserveRatio × Σ max(long, short) open notional (rounded up).
    function poolValueAndReserve(
        mapping(uint256 => VaultTypes.Market) storage markets,
        uint256 marketCount,
        IOracleRouter oracle,
        int256 poolBalanceWad,
        uint256 reserveRatioWad
    ) internal view returns (int256 value, uint256 reserved) {
        value = poolBalanceWad;
        for (uint256 i; i < marketCount; ++i) {
            VaultTypes.Market storage m = markets[i];
            IPerpVault.MarketState memory st = m.state;
            if (st.oiLongWad == 0 && st.oiShortWad == 0) continue;
            IPerpVault.MarketParams memory params = m.params;
            uint256 price = oracle.getPrice(params.oracleAsset);
            Fills.accrueFunding(params, st, price);
            int256 skew = int256(uint256(st.oiLongWad)) - int256(uint256(st.oiShortWad));
            // Open interest is marked at its exit price, oracle × (1 + skew / 2·skewScale): what
            // closing the whole skew would fill at. The premium a trader pays to open is then a
            // liability the pool pays back at the close, never a gain an LP can redeem at (a trade
            // moves pool value by its fee only). The premium term is ≥ 0 and rounds up.
            uint256 absSkew = skew.abs();
            uint256 exitPremium = FixedPointMathLib.fullMulDivUp(
                absSkew.mulWadUp(price),
                absSkew,
                2 * uint256(params.skewScaleWad)
            );
            int256 tradersPnl = (skew * int256(price)).divCeil(int256(WAD)) + int256(exitPremium) - st.netEntryNotional;
            int256 fundingIncome = (skew * st.fundingIndexWad).divFloor(int256(WAD)) - st.netFundingBasis;
            value += fundingIncome - tradersPnl;
            uint256 maxSide = st.oiLongWad > st.oiShortWad ? st.oiLongWad : st.oiShortWad;
            reserved += maxSide.mulWadUp(price).mulWadUp(reserveRatioWad);
        }
    }

    function _addPosition(
        IPerpVault.AccountHealth memory h,
        VaultTypes.Market storage m,
        bytes32 marketId,
        IPerpVault.Position storage p,
        VaultTypes.HealthInputs memory inp,
        uint256 knownPriceWad,
        IPerpVault.PositionSnapshot memory snap,
        bool capture
    ) private view returns (bool captured) {
        IPerpVault.MarketParams memory params = m.params;
        uint256 price = knownPriceWad != 0 ? knownPriceWad : inp.oracle.getPrice(params.oracleAsset);
        // The two slots funding accrual needs (open interest, funding); not the pool aggregates.
        IPerpVault.MarketState storage stored = m.state;
        IPerpVault.MarketState memory st;
        (st.oiLongWad, st.oiShortWad) = (stored.oiLongWad, stored.oiShortWad);
        (st.fundingIndexWad, st.fundingRateWad, st.lastFundingTime) = (
            stored.fundingIndexWad,
            stored.fundingRateWad,
            stored.lastFundingTime
        );
        Fills.accrueFunding(params, st, price);
        if (inp.smoothed) {
            uint256 smoothedPx = inp.engine.smoothedPrice(marketId);
            if (smoothedPx != 0) price = smoothedPx;
        }
        IPerpVault.Position memory pos = p;
        int256 size = pos.sizeWad;
        h.unrealizedPnlWad += size.mulWadFloor(int256(price) - int256(uint256(pos.entryPriceWad)));
        h.accruedFundingWad += size.mulWadCeil(st.fundingIndexWad - pos.lastFundingIndexWad);
        uint256 notional = size.abs().mulWadUp(price);
        (uint256 imr, uint256 mmr) = inp.engine.marginRatios(marketId, notional);
        h.initialMarginWad += notional.mulWadUp(imr);
        h.maintenanceMarginWad += notional.mulWadUp(mmr);
        captured = capture && notional > snap.notionalWad;
        if (captured) {
            // Oracle pass only (`healthOf` captures with `smoothed` false): `price` is the oracle's.
            // The largest position by notional is the kick's target, so that a dust position in a
            // lower-index market cannot shield a large one.
            snap.marketId = marketId;
            snap.oracleAsset = params.oracleAsset;
            snap.sizeWad = size;
            snap.priceWad = price;
            snap.notionalWad = notional;
            snap.imrWad = imr;
        }
    }
}

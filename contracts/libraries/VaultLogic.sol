// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {LibBit} from "solady/src/utils/LibBit.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../interfaces/IRiskEngine.sol";
import {PerpMath} from "./PerpMath.sol";
import {SignedWad} from "./SignedWad.sol";

/// @title VaultLogic
/// @notice Margin and pool-valuation maths of `PerpVault`, linked as an external library so that
/// the vault stays under the 24,576-byte code limit. It reads the vault's storage by reference.
library VaultLogic {
    using SafeCast for int256;
    using SignedWad for int256;
    using FixedPointMathLib for uint256;

    uint256 internal constant WAD = 1e18;
    /// @notice The daily funding rate is clamped to ±100% so that it stays bounded under any skew.
    int256 internal constant MAX_FUNDING_RATE = 1e18;

    /// @dev One slot per account: quote balance and the masks of open markets and held collateral.
    struct AccountData {
        int128 quoteBalanceWad;
        uint64 positionMask;
        uint32 collateralMask;
        uint8 liquidations;
    }

    struct FillOutcome {
        int256 newSize;
        int256 newEntry;
        int256 realizedPnl;
        int256 fundingPaid;
        bool increasesRisk;
    }

    /// @dev `id` repeats the market's entry in the vault's `_marketIds` so that a health check or a
    /// liquidation by index reads it in one slot (the array also reads its length slot).
    struct Market {
        IPerpVault.MarketParams params;
        IPerpVault.MarketState state;
        bytes32 id;
    }

    /// @dev What `health` needs besides storage references.
    struct HealthInputs {
        IOracleRouter oracle;
        IRiskEngine engine;
        uint256 liquidationBufferWad;
        int256 quoteBalanceWad;
        uint256 positionMask;
        uint256 collateralMask;
        bool smoothed;
        // A market whose id and oracle price the caller already holds (a trade just read them);
        // `hintIndex` = type(uint256).max for none. Saves a cold id read and a repeated oracle call.
        uint256 hintIndex;
        bytes32 hintMarketId;
        uint256 hintPriceWad;
    }

    /// @notice Liquidatable when equity < hardFloor × MM at the oracle price (`BelowHardFloor`), or
    /// equity < MM at both the oracle and the engine's smoothed price (`BelowMaintenance`: the wick
    /// filter). Returns the health at the oracle price.
    function liquidationCheck(
        mapping(uint256 => Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        HealthInputs memory inp
    ) external view returns (bool, IPerpVault.LiquidationReason, IPerpVault.AccountHealth memory) {
        IPerpVault.PositionSnapshot memory none;
        return _liquidationCheck(markets, positions, collaterals, collateralBalances, inp, none, false);
    }

    /// @notice `liquidationCheck`, and the kick's target: the largest position by notional at the
    /// oracle (the lowest market index among equals) as `positionSnapshots` reports it, taken from
    /// the oracle pass (no second oracle or engine call).
    function kickCheck(
        mapping(uint256 => Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        HealthInputs memory inp
    )
        external
        view
        returns (bool liquidatable, IPerpVault.AccountHealth memory h, IPerpVault.PositionSnapshot memory target)
    {
        (liquidatable, , h) = _liquidationCheck(markets, positions, collaterals, collateralBalances, inp, target, true);
    }

    function _liquidationCheck(
        mapping(uint256 => Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        HealthInputs memory inp,
        IPerpVault.PositionSnapshot memory target,
        bool capture
    ) private view returns (bool, IPerpVault.LiquidationReason, IPerpVault.AccountHealth memory h) {
        inp.smoothed = false;
        h = _health(markets, positions, collaterals, collateralBalances, inp, target, capture);
        if (h.equityWad >= int256(h.maintenanceMarginWad)) return (false, IPerpVault.LiquidationReason.None, h);
        if (h.equityWad < int256(h.maintenanceMarginWad.mulWad(inp.engine.hardFloorWad()))) {
            return (true, IPerpVault.LiquidationReason.BelowHardFloor, h);
        }
        inp.smoothed = true;
        IPerpVault.AccountHealth memory s = _health(
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
    function health(
        mapping(uint256 => Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        HealthInputs memory inp
    ) external view returns (IPerpVault.AccountHealth memory) {
        IPerpVault.PositionSnapshot memory none;
        return _health(markets, positions, collaterals, collateralBalances, inp, none, false);
    }

    function _health(
        mapping(uint256 => Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        HealthInputs memory inp,
        IPerpVault.PositionSnapshot memory target,
        bool capture
    ) private view returns (IPerpVault.AccountHealth memory h) {
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
        mapping(uint256 => Market) storage markets,
        bytes32[] storage marketIds,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IOracleRouter oracle,
        IRiskEngine engine,
        uint256 positionMask
    ) external view returns (IPerpVault.PositionSnapshot[] memory out) {
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
        mapping(uint256 => Market) storage markets,
        uint256 marketCount,
        IOracleRouter oracle,
        int256 poolBalanceWad,
        uint256 reserveRatioWad
    ) external view returns (int256 value, uint256 reserved) {
        value = poolBalanceWad;
        for (uint256 i; i < marketCount; ++i) {
            Market storage m = markets[i];
            IPerpVault.MarketState memory st = m.state;
            if (st.oiLongWad == 0 && st.oiShortWad == 0) continue;
            IPerpVault.MarketParams memory params = m.params;
            uint256 price = oracle.getPrice(params.oracleAsset);
            accrueFunding(params, st, price);
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

    /// @notice Applies a fill of `delta` at `priceWad` to one account's position in market `index`:
    /// settles funding, realises PnL on any reduction, updates the position, the account's market
    /// mask and quote balance (PnL − funding). Returns the outcome and the market's new open
    /// interest and aggregates; the caller moves the opposite amounts into the pool's ledger.
    function applyFill(
        mapping(uint256 => IPerpVault.Position) storage positions,
        AccountData storage acct,
        uint256 index,
        int256 delta,
        uint256 priceWad,
        IPerpVault.MarketState memory st
    )
        external
        returns (FillOutcome memory o, uint128 oiLongWad, uint128 oiShortWad, int128 netEntry, int128 netFunding)
    {
        IPerpVault.Position memory pos = positions[index];
        o = computeFill(pos, delta, int256(priceWad), st.fundingIndexWad);
        int256 oldSize = pos.sizeWad;
        int256 newSize = o.newSize;

        // Aggregates in USD WAD, rounded so that the pool's value is never overstated: traders'
        // entry notional down (their PnL up), their funding basis up (their funding owed down).
        netEntry = (st.netEntryNotional +
            (newSize * o.newEntry - oldSize * int256(uint256(pos.entryPriceWad))).divFloor(int256(WAD))).toInt128();
        netFunding = (st.netFundingBasis +
            (newSize * st.fundingIndexWad - oldSize * pos.lastFundingIndexWad).divCeil(int256(WAD))).toInt128();
        oiLongWad = uint128(uint256(int256(uint256(st.oiLongWad)) + _positive(newSize) - _positive(oldSize)));
        oiShortWad = uint128(uint256(int256(uint256(st.oiShortWad)) + _positive(-newSize) - _positive(-oldSize)));

        AccountData memory a = acct;
        if (newSize == 0) {
            delete positions[index];
            a.positionMask &= ~uint64(1 << index);
        } else {
            positions[index] = IPerpVault.Position(
                newSize.toInt128(),
                SafeCast.toUint128(uint256(o.newEntry)),
                st.fundingIndexWad
            );
            if (oldSize == 0) a.positionMask |= uint64(1 << index);
        }
        a.quoteBalanceWad = (int256(a.quoteBalanceWad) + o.realizedPnl - o.fundingPaid).toInt128();
        acct.quoteBalanceWad = a.quoteBalanceWad;
        acct.positionMask = a.positionMask;
    }

    /// @notice The new position after a fill, the PnL realised on any reduction and the funding
    /// settled on the old size. Entry prices and funding round against the trader.
    function computeFill(
        IPerpVault.Position memory pos,
        int256 delta,
        int256 price,
        int256 fundingIndex
    ) internal pure returns (FillOutcome memory o) {
        int256 oldSize = pos.sizeWad;
        int256 oldEntry = int256(uint256(pos.entryPriceWad));
        o.newSize = oldSize + delta;
        if (oldSize != 0) o.fundingPaid = oldSize.mulWadCeil(fundingIndex - pos.lastFundingIndexWad);
        if (oldSize == 0 || (oldSize > 0) == (delta > 0)) {
            // Opening or increasing: size-weighted average entry.
            int256 num = oldSize * oldEntry + delta * price;
            o.newEntry = o.newSize > 0 ? num.divCeil(o.newSize) : (-num).divFloor(-o.newSize);
            o.increasesRisk = true;
        } else {
            // Reducing, closing or flipping: realise PnL on the closed part.
            int256 closed = delta.abs() >= oldSize.abs() ? oldSize : -delta;
            o.realizedPnl = closed.mulWadFloor(price - oldEntry);
            if (o.newSize == 0) o.newEntry = 0;
            else if ((o.newSize > 0) == (oldSize > 0)) o.newEntry = oldEntry;
            else (o.newEntry, o.increasesRisk) = (price, true);
        }
    }

    function _positive(int256 x) private pure returns (int256) {
        return x > 0 ? x : int256(0);
    }

    /// @notice Rolls the funding rate and index in `st` forward to now at `priceWad`.
    function accrueFunding(
        IPerpVault.MarketParams memory params,
        IPerpVault.MarketState memory st,
        uint256 priceWad
    ) internal view {
        // solhint-disable-next-line not-rely-on-time
        uint256 elapsed = block.timestamp - st.lastFundingTime;
        if (elapsed == 0) return;
        int256 skew = int256(uint256(st.oiLongWad)) - int256(uint256(st.oiShortWad));
        int256 rate = PerpMath.currentFundingRate(
            st.fundingRateWad,
            skew,
            params.skewScaleWad,
            params.maxFundingVelocityWad,
            elapsed
        );
        if (rate > MAX_FUNDING_RATE) rate = MAX_FUNDING_RATE;
        if (rate < -MAX_FUNDING_RATE) rate = -MAX_FUNDING_RATE;
        st.fundingIndexWad = (st.fundingIndexWad + PerpMath.fundingPerUnit(st.fundingRateWad, rate, priceWad, elapsed))
            .toInt128();
        st.fundingRateWad = int80(rate);
        // solhint-disable-next-line not-rely-on-time
        st.lastFundingTime = uint48(block.timestamp);
    }

    function _addPosition(
        IPerpVault.AccountHealth memory h,
        Market storage m,
        bytes32 marketId,
        IPerpVault.Position storage p,
        HealthInputs memory inp,
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
        accrueFunding(params, st, price);
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
            // Oracle pass only (`_health` captures with `smoothed` false): `price` is the oracle's.
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

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {IPerpVault} from "../../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";
import {PerpMath} from "../PerpMath.sol";
import {SignedWad} from "../SignedWad.sol";
import {VaultTypes} from "./VaultTypes.sol";

/// @title Fills
/// @notice The fills-and-funding domain of the vault: pricing a trade, applying a fill to a
/// position and to the market's aggregates, the open-interest cap, and funding accrual. Internal:
/// linked into the vault through `VaultLogic`.
library Fills {
    using SafeCast for int256;
    using SignedWad for int256;
    using FixedPointMathLib for uint256;

    uint256 internal constant WAD = 1e18;
    /// @notice The daily funding rate is clamped to ±100% so that it stays bounded under any skew.
    int256 internal constant MAX_FUNDING_RATE = 1e18;

    /// @notice Prices a trade of `delta` in market `index` (`marketId`) for the account `acct` (funding accrued first),
    /// checks slippage and the open-interest cap against `poolBalanceWad`, and applies it.
    function executeTrade(
        VaultTypes.Market storage m,
        mapping(uint256 => IPerpVault.Position) storage positions,
        VaultTypes.AccountData storage acct,
        IOracleRouter oracle,
        bytes32 marketId,
        uint256 index,
        int256 delta,
        uint256 acceptablePriceWad,
        int256 poolBalanceWad
    ) internal returns (VaultTypes.TradeResult memory r) {
        IPerpVault.MarketParams memory params = m.params;
        uint256 oraclePrice = oracle.getPrice(params.oracleAsset);
        r.oraclePriceWad = oraclePrice;
        IPerpVault.MarketState memory st = m.state;
        accrueFunding(params, st, oraclePrice);

        int256 skew = int256(uint256(st.oiLongWad)) - int256(uint256(st.oiShortWad));
        int256 fill = PerpMath.fillPrice(oraclePrice, skew, delta, params.skewScaleWad);
        if (fill <= 0) revert IPerpVault.InvalidFillPrice(marketId, fill);
        r.fillPriceWad = uint256(fill);
        if (delta > 0 ? r.fillPriceWad > acceptablePriceWad : r.fillPriceWad < acceptablePriceWad) {
            revert IPerpVault.SlippageExceeded(r.fillPriceWad, acceptablePriceWad);
        }
        r.feeWad = PerpMath.tradeFee(skew, delta, r.fillPriceWad, params.makerFeeWad, params.takerFeeWad);
        VaultTypes.FillOutcome memory o = applyFill(positions, acct, index, delta, r.fillPriceWad, st);
        (r.realizedPnlWad, r.fundingPaidWad, r.newSizeWad, r.increasesRisk) = (
            o.realizedPnl,
            o.fundingPaid,
            o.newSize,
            o.increasesRisk
        );
        checkOpenInterestCap(marketId, params, m.state, st, oraclePrice, poolBalanceWad);
        m.state = st;
    }

    /// @notice Applies a fill of `delta` at `priceWad` to one account's position in market `index`:
    /// settles funding, realises PnL on any reduction, updates the position, the account's market
    /// mask and quote balance (PnL − funding), and the market's open interest and aggregates in
    /// `st`. The caller moves the opposite amounts into the pool's ledger.
    function applyFill(
        mapping(uint256 => IPerpVault.Position) storage positions,
        VaultTypes.AccountData storage acct,
        uint256 index,
        int256 delta,
        uint256 priceWad,
        IPerpVault.MarketState memory st
    ) internal returns (VaultTypes.FillOutcome memory o) {
        IPerpVault.Position memory pos = positions[index];
        o = computeFill(pos, delta, int256(priceWad), st.fundingIndexWad);
        int256 oldSize = pos.sizeWad;
        int256 newSize = o.newSize;

        // Aggregates in USD WAD, rounded so that the pool's value is never overstated: traders'
        // entry notional down (their PnL up), their funding basis up (their funding owed down).
        st.netEntryNotional = (st.netEntryNotional +
            (newSize * o.newEntry - oldSize * int256(uint256(pos.entryPriceWad))).divFloor(int256(WAD))).toInt128();
        st.netFundingBasis = (st.netFundingBasis +
            (newSize * st.fundingIndexWad - oldSize * pos.lastFundingIndexWad).divCeil(int256(WAD))).toInt128();
        st.oiLongWad = uint128(uint256(int256(uint256(st.oiLongWad)) + _positive(newSize) - _positive(oldSize)));
        st.oiShortWad = uint128(uint256(int256(uint256(st.oiShortWad)) + _positive(-newSize) - _positive(-oldSize)));

        VaultTypes.AccountData memory a = acct;
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
    ) internal pure returns (VaultTypes.FillOutcome memory o) {
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

    /// @notice Checks the side(s) that grew from `prev` (storage, before the fill) to `st` against
    /// the cap (`maxOiPoolRatio` × the pool's balance); reducing exposure is always allowed.
    function checkOpenInterestCap(
        bytes32 marketId,
        IPerpVault.MarketParams memory params,
        IPerpVault.MarketState storage prev,
        IPerpVault.MarketState memory st,
        uint256 priceWad,
        int256 poolBalanceWad
    ) internal view {
        uint256 cap = poolBalanceWad > 0 ? uint256(poolBalanceWad).mulWad(params.maxOiPoolRatioWad) : 0;
        uint256 longNotional = uint256(st.oiLongWad).mulWad(priceWad);
        uint256 shortNotional = uint256(st.oiShortWad).mulWad(priceWad);
        if (st.oiLongWad > prev.oiLongWad && longNotional > cap) {
            revert IPerpVault.OpenInterestCapExceeded(marketId, true, longNotional, cap);
        }
        if (st.oiShortWad > prev.oiShortWad && shortNotional > cap) {
            revert IPerpVault.OpenInterestCapExceeded(marketId, false, shortNotional, cap);
        }
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

    function _positive(int256 x) private pure returns (int256) {
        return x > 0 ? x : int256(0);
    }
}

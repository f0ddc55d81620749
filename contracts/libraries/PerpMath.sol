// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {SignedWad} from "./SignedWad.sol";

/// @title PerpMath
/// @notice Pure pricing, fee and funding maths of a perp market. All values are WAD.
library PerpMath {
    using SignedWad for int256;

    int256 internal constant WAD = 1e18;
    int256 internal constant ONE_DAY = 1 days;

    /// @notice fill = oracle × (1 + (skew + delta/2) / skewScale): the average price along the
    /// premium curve between skew and skew + delta. Rounds against the trader: up for buys,
    /// down for sells. May be ≤ 0 for extreme skews, which the caller rejects.
    function fillPrice(
        uint256 oraclePriceWad,
        int256 skewWad,
        int256 deltaWad,
        uint256 skewScaleWad
    ) internal pure returns (int256) {
        int256 price = int256(oraclePriceWad);
        // price × (2·skew + delta) / (2·skewScale), rounded against the trader.
        int256 num = price * (2 * skewWad + deltaWad);
        int256 den = 2 * int256(skewScaleWad);
        int256 premium = deltaWad > 0 ? num.divCeil(den) : num.divFloor(den);
        return price + premium;
    }

    /// @notice Fee for moving skew from `skewWad` by `deltaWad` at `fillPriceWad`: the part that
    /// moves |skew| toward zero pays the maker rate, the rest the taker rate. Rounds up.
    function tradeFee(
        int256 skewWad,
        int256 deltaWad,
        uint256 fillPriceWad,
        uint256 makerFeeWad,
        uint256 takerFeeWad
    ) internal pure returns (uint256) {
        uint256 absDelta = SignedWad.abs(deltaWad);
        uint256 makerSize;
        // Same sign of skew and delta, or zero skew: all taker. Opposite: maker up to |skew|.
        if ((skewWad > 0 && deltaWad < 0) || (skewWad < 0 && deltaWad > 0)) {
            uint256 absSkew = SignedWad.abs(skewWad);
            makerSize = absDelta < absSkew ? absDelta : absSkew;
        }
        uint256 takerSize = absDelta - makerSize;
        uint256 weighted = makerSize * makerFeeWad + takerSize * takerFeeWad; // WAD^2
        return FixedPointMathLib.fullMulDivUp(weighted, fillPriceWad, 1e36);
    }

    /// @notice Funding rate now: the daily rate drifts by maxVelocity × clamp(skew/skewScale, −1, 1)
    /// per day since the last update.
    function currentFundingRate(
        int256 lastRateWad,
        int256 skewWad,
        uint256 skewScaleWad,
        uint256 maxVelocityWad,
        uint256 elapsed
    ) internal pure returns (int256) {
        int256 scale = int256(skewScaleWad);
        int256 proportional = (skewWad * WAD) / scale;
        if (proportional > WAD) proportional = WAD;
        if (proportional < -WAD) proportional = -WAD;
        int256 velocity = (proportional * int256(maxVelocityWad)) / WAD;
        return lastRateWad + (velocity * int256(elapsed)) / ONE_DAY;
    }

    /// @notice Funding per base unit (USD, WAD) accrued over `elapsed` seconds at the average of
    /// the two rates. Positive means longs pay shorts.
    function fundingPerUnit(
        int256 lastRateWad,
        int256 nowRateWad,
        uint256 priceWad,
        uint256 elapsed
    ) internal pure returns (int256) {
        int256 avgRate = (lastRateWad + nowRateWad) / 2;
        return (avgRate * int256(priceWad) * int256(elapsed)) / (WAD * ONE_DAY);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {IPriceCurve} from "../../interfaces/IPriceCurve.sol";
import {CurveBase} from "./CurveBase.sol";

/// @title ExponentialDecrease
/// @notice factor(t) = 2 ^ (−t / halfLife) = exp(−t · ln 2 / halfLife): continuous decay that
/// halves the price every `halfLife` seconds.
contract ExponentialDecrease is CurveBase {
    uint256 public constant MIN_HALF_LIFE = 10;
    uint256 public constant MAX_HALF_LIFE = 30 days;
    uint256 internal constant LN2_WAD = 693_147_180_559_945_309;

    /// @notice Seconds for the price to halve.
    uint256 public immutable halfLife;

    constructor(uint256 halfLife_) {
        halfLife = _checked("halfLife", halfLife_, MIN_HALF_LIFE, MAX_HALF_LIFE);
    }

    /// @inheritdoc IPriceCurve
    function factor(uint256 elapsedSec) external view returns (uint256) {
        // Beyond 135 half-lives the result is below 1e-40: zero.
        if (elapsedSec >= 135 * halfLife) return 0;
        return uint256(FixedPointMathLib.expWad(-int256((elapsedSec * LN2_WAD) / halfLife)));
    }
}

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
    int256 internal constant LN2_WAD = 693_147_180_559_945_309;

    /// @notice Seconds for the price to halve.
    uint256 public halfLife;

    constructor(address admin, uint256 halfLife_) CurveBase(admin) {
        halfLife = _checkedSet("halfLife", 0, halfLife_, MIN_HALF_LIFE, MAX_HALF_LIFE);
    }

    /// @notice Sets `halfLife`. Role: RISK_ADMIN.
    function setHalfLife(uint256 halfLife_) external onlyRole(RISK_ADMIN_ROLE) {
        halfLife = _checkedSet("halfLife", halfLife, halfLife_, MIN_HALF_LIFE, MAX_HALF_LIFE);
    }

    /// @inheritdoc IPriceCurve
    function factor(uint256 elapsedSec) external view returns (uint256) {
        // Beyond ~135 half-lives the result underflows to zero; cap the exponent to stay in range.
        uint256 hl = halfLife;
        if (elapsedSec >= 135 * hl) return 0;
        int256 exponent = -int256((elapsedSec * uint256(LN2_WAD)) / hl);
        return uint256(FixedPointMathLib.expWad(exponent));
    }
}

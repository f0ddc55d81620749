// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {IPriceCurve} from "../../interfaces/IPriceCurve.sol";
import {CurveBase} from "./CurveBase.sol";

/// @title StairstepExponentialDecrease
/// @notice factor(t) = cut ^ floor(t / step): the price is multiplied by `cut` every `step` seconds.
contract StairstepExponentialDecrease is CurveBase {
    uint256 public constant MIN_STEP = 1;
    uint256 public constant MAX_STEP = 1 days;
    /// @notice `cut` lies in [0.5, 1): at most a halving per step, and always some decrease.
    uint256 public constant MIN_CUT = 0.5e18;
    uint256 public constant MAX_CUT = 1e18 - 1;

    /// @notice Seconds between price drops.
    uint256 public immutable step;
    /// @notice Multiplier applied per step (WAD).
    uint256 public immutable cut;

    constructor(uint256 step_, uint256 cut_) {
        step = _checked("step", step_, MIN_STEP, MAX_STEP);
        cut = _checked("cut", cut_, MIN_CUT, MAX_CUT);
    }

    /// @inheritdoc IPriceCurve
    function factor(uint256 elapsedSec) external view returns (uint256) {
        return FixedPointMathLib.rpow(cut, elapsedSec / step, 1e18);
    }
}

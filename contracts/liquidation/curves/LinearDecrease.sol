// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPriceCurve} from "../../interfaces/IPriceCurve.sol";
import {CurveBase} from "./CurveBase.sol";

/// @title LinearDecrease
/// @notice factor(t) = max(0, 1 − t / tau): the price falls linearly to zero over `tau` seconds.
contract LinearDecrease is CurveBase {
    uint256 public constant MIN_TAU = 60;
    uint256 public constant MAX_TAU = 30 days;

    /// @notice Seconds for the price to reach zero.
    uint256 public immutable tau;

    constructor(uint256 tau_) {
        tau = _checked("tau", tau_, MIN_TAU, MAX_TAU);
    }

    /// @inheritdoc IPriceCurve
    function factor(uint256 elapsedSec) external view returns (uint256) {
        if (elapsedSec >= tau) return 0;
        return ((tau - elapsedSec) * 1e18) / tau;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPriceCurve} from "../../interfaces/IPriceCurve.sol";

/// @title CurveBase
/// @notice Bound checks shared by the price curves. Curves are immutable: their parameters are
/// fixed at deployment (so reading the price costs no storage access), and governance changes a
/// curve by pointing the auction house at a new one through its bounded, evented `setParams`.
abstract contract CurveBase is IPriceCurve {
    /// @dev Reverts unless `value` is in [min, max]; emits the value.
    function _checked(bytes32 param, uint256 value, uint256 min, uint256 max) internal returns (uint256) {
        if (value < min || value > max) revert CurveParamOutOfBounds(param, value, min, max);
        emit CurveParamSet(param, value);
        return value;
    }
}

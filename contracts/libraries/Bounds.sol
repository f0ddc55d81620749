// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "../interfaces/IBulwarkErrors.sol";

/// @title Bounds
/// @notice The one hard-bound check of every parameter setter.
library Bounds {
    /// @notice Reverts `ParamOutOfBounds(param, value, min, max)` unless min ≤ value ≤ max.
    function check(bytes32 param, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert IBulwarkErrors.ParamOutOfBounds(param, value, min, max);
    }
}

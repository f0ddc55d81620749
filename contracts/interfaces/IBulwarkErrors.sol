// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IBulwarkErrors
/// @notice The errors every Bulwark contract shares, declared once. Each protocol interface
/// inherits this one, so its ABI carries them.
interface IBulwarkErrors {
    /// @notice A zero address was given where an address is required.
    error ZeroAddress();
    /// @notice A setter was called with the values already in force.
    error NoChange();
    /// @notice Parameter `param` = `value` lies outside its hard bounds [`min`, `max`].
    error ParamOutOfBounds(bytes32 param, uint256 value, uint256 min, uint256 max);
    /// @notice The circuit breaker's effective level `level` on `marketId` (`bytes32(0)`: global)
    /// blocks this operation (`BreakerState.permits`, docs/circuit-breakers.md).
    error BreakerActive(bytes32 marketId, uint256 level);
}

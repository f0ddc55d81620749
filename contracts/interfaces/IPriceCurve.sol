// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IPriceCurve
/// @notice A Dutch-auction price curve: the fraction of the starting price an auction asks
/// `elapsedSec` seconds after it started. Pure in time: no state beyond its own parameters.
/// @dev Implementations return 1e18 at elapsed = 0, never increase with time, and never revert.
interface IPriceCurve {
    /// @notice Emitted once per parameter at deployment (curves are immutable).
    event CurveParamSet(bytes32 indexed param, uint256 value);

    /// @notice A constructor parameter outside its hard bounds.
    error CurveParamOutOfBounds(bytes32 param, uint256 value, uint256 min, uint256 max);

    /// @notice Fraction (WAD) of the starting price asked after `elapsedSec` seconds.
    function factor(uint256 elapsedSec) external view returns (uint256 factorWad);
}

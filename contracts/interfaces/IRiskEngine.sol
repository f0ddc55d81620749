// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRiskEngine
/// @notice Margin policy consulted by the vault for every margin check. The static engine returns
/// fixed ratios; the dynamic engine scales them with volatility and liquidity and supplies a
/// smoothed price for the wick filter.
interface IRiskEngine {
    /// @notice Initial and maintenance margin ratios for a position of `notionalWad` USD in `marketId`.
    /// @dev Ratios are WAD. Implementations must return `mmrWad <= imrWad`, and must not revert for
    /// a listed market: the vault calls this on every margin check.
    function marginRatios(bytes32 marketId, uint256 notionalWad) external view returns (uint256 imrWad, uint256 mmrWad);

    /// @notice Smoothed price for the wick filter; 0 when the engine has none, in which case the
    /// vault uses the oracle price alone.
    function smoothedPrice(bytes32 marketId) external view returns (uint256 priceWad);

    /// @notice Fraction of MM (WAD, ≤ 1e18) below which an account is liquidatable at the oracle
    /// price alone, bypassing the wick filter. 1e18 when the engine has no wick filter.
    function hardFloorWad() external view returns (uint256);
}

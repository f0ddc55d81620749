// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title SignedWad
/// @notice Signed fixed-point helpers with explicit rounding direction (toward −∞ or +∞), which
/// solady's signed helpers (rounding toward zero) do not offer.
library SignedWad {
    int256 internal constant WAD = 1e18;

    /// @dev floor(a / d); d must be positive (negate both operands first otherwise).
    function divFloor(int256 a, int256 d) internal pure returns (int256 q) {
        q = a / d;
        if (a % d != 0 && a < 0) q -= 1;
    }

    /// @dev ceil(a / d); d must be positive.
    function divCeil(int256 a, int256 d) internal pure returns (int256 q) {
        q = a / d;
        if (a % d != 0 && a > 0) q += 1;
    }

    /// @dev floor(a × b / 1e18).
    function mulWadFloor(int256 a, int256 b) internal pure returns (int256) {
        return divFloor(a * b, WAD);
    }

    /// @dev ceil(a × b / 1e18).
    function mulWadCeil(int256 a, int256 b) internal pure returns (int256) {
        return divCeil(a * b, WAD);
    }

    function abs(int256 a) internal pure returns (uint256) {
        return uint256(a >= 0 ? a : -a);
    }
}

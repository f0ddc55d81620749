// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BreakerState
/// @notice The packed state of one circuit-breaker key (a market, or global) and its time-based
/// recovery, shared by `CircuitBreaker` (which decides) and `PerpVault` (which mirrors the state so
/// that a trade or a kick reads it from warm storage instead of calling out).
/// @dev Layout of a state word (the low 96 bits):
///   bits  0..7   level (0..3)
///   bits  8..39  stepAt: when the first step down happens (unix seconds)
///   bits 40..63  stepSec: cooldown of each further step
///   bits 64..95  endAt: hard end of the trip; the level is 0 from then on
/// A market word also carries, above the state, the margin multipliers the vault applies:
///   bits  96..159 cautionImWad: IM multiple for risk-increasing trades at level 1
///   bits 160..223 haltImWad: IM multiple a withdrawal must keep at level 3
library BreakerState {
    uint256 internal constant WAD = 1e18;

    /// @notice Packs a state word.
    function pack(
        uint256 level,
        uint256 firstStepAt,
        uint256 cooldownSec,
        uint256 hardEndAt
    ) internal pure returns (uint256) {
        return level | (firstStepAt << 8) | (cooldownSec << 40) | (hardEndAt << 64);
    }

    /// @notice Adds the margin multipliers to a state word (the low 96 bits are kept).
    function withMultipliers(uint256 word, uint256 cautionImWad, uint256 haltImWad) internal pure returns (uint256) {
        return uint256(uint96(word)) | (cautionImWad << 96) | (haltImWad << 160);
    }

    /// @notice The stored level, before recovery.
    function storedLevel(uint256 word) internal pure returns (uint256) {
        return word & 0xff;
    }

    function stepAt(uint256 word) internal pure returns (uint256) {
        return (word >> 8) & 0xffffffff;
    }

    function stepSec(uint256 word) internal pure returns (uint256) {
        return (word >> 40) & 0xffffff;
    }

    function endAt(uint256 word) internal pure returns (uint256) {
        return (word >> 64) & 0xffffffff;
    }

    /// @notice The level at `nowSec`: one step down at `stepAt` and one more every `stepSec`
    /// after it, and 0 from `endAt` on.
    function levelAt(uint256 word, uint256 nowSec) internal pure returns (uint256) {
        uint256 level = word & 0xff;
        if (level == 0 || nowSec >= endAt(word)) return 0;
        uint256 first = stepAt(word);
        if (nowSec < first) return level;
        uint256 period = stepSec(word);
        uint256 steps = 1 + (period == 0 ? level : (nowSec - first) / period);
        return steps >= level ? 0 : level - steps;
    }

    /// @notice When `levelAt` first returns 0: the last step down, or `endAt` if that comes first.
    function zeroAt(uint256 word) internal pure returns (uint256 at) {
        at = endAt(word);
        uint256 level = word & 0xff;
        if (level == 0) return at;
        uint256 stepped = stepAt(word) + (level - 1) * stepSec(word);
        if (stepped < at) at = stepped;
    }

    /// @notice IM multiple at level 1 (WAD; 1.0 when unset).
    function cautionIm(uint256 word) internal pure returns (uint256 m) {
        m = uint64(word >> 96);
        if (m == 0) m = WAD;
    }

    /// @notice IM multiple a withdrawal must keep at level 3 (WAD; 1.0 when unset).
    function haltIm(uint256 word) internal pure returns (uint256 m) {
        m = uint64(word >> 160);
        if (m == 0) m = WAD;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Circuit-breaker levels, the one named type for them (docs/circuit-breakers.md). A state
/// word and the ABI carry a level as its number (`uint8`/`uint256`); contracts name it through
/// `BreakerState.CAUTION` etc. and gate operations through `BreakerState.permits`.
enum BreakerLevel {
    Normal,
    Caution,
    Pause,
    Halt
}

/// @notice The operations a breaker level may block: the rows of the permission matrix.
enum BreakerAction {
    Deposit,
    Withdraw,
    RiskIncreasingTrade,
    ReduceOnlyTrade,
    Kick,
    Take,
    Redo,
    LpDeposit,
    LpWithdraw,
    Takeover,
    LpInstantExit
}

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
///   bits  96..159 cautionImWad: IM multiple for risk-increasing trades at caution
///   bits 160..223 haltImWad: IM multiple a withdrawal must keep at halt
library BreakerState {
    uint256 internal constant WAD = 1e18;

    uint256 internal constant NORMAL = uint256(BreakerLevel.Normal);
    uint256 internal constant CAUTION = uint256(BreakerLevel.Caution);
    uint256 internal constant PAUSE = uint256(BreakerLevel.Pause);
    uint256 internal constant HALT = uint256(BreakerLevel.Halt);

    /// @notice The permission matrix, one table (`Takeover`, the pool taking a liquidatable
    /// account's slice over at the oracle, is the rule "transfer never waits": only a halt refuses it;
    /// the sale of what the pool took is paced instead, see `AuctionHouse`): bit `4 × action + level` is set when `action`
    /// (a `BreakerAction`) is allowed at `level`. Read it through `permits`, or on chain through
    /// `CircuitBreaker.permissions()`; docs/circuit-breakers.md prints the same table (a test
    /// compares them). Conditions on an allowed action (IM × cautionIm for a risk-increasing trade
    /// at caution, IM × haltIm for a withdrawal at halt, the caution share of kick capacity) are
    /// applied where the action runs.
    uint256 internal constant PERMISSIONS =
        (0xf << (4 * uint256(BreakerAction.Deposit))) |
            (0xf << (4 * uint256(BreakerAction.Withdraw))) |
            (0x3 << (4 * uint256(BreakerAction.RiskIncreasingTrade))) |
            (0xf << (4 * uint256(BreakerAction.ReduceOnlyTrade))) |
            (0x3 << (4 * uint256(BreakerAction.Kick))) |
            (0x7 << (4 * uint256(BreakerAction.Take))) |
            (0x7 << (4 * uint256(BreakerAction.Redo))) |
            (0xf << (4 * uint256(BreakerAction.LpDeposit))) |
            (0x3 << (4 * uint256(BreakerAction.LpWithdraw))) |
            (0x7 << (4 * uint256(BreakerAction.Takeover))) |
            (0x1 << (4 * uint256(BreakerAction.LpInstantExit)));

    /// @notice Whether `action` is allowed at effective level `level`.
    function permits(BreakerAction action, uint256 level) internal pure returns (bool) {
        return (PERMISSIONS >> (4 * uint256(action) + level)) & 1 != 0;
    }

    /// @notice Packs a state word from the fields its getters read back (`storedLevel`, `stepAt`,
    /// `stepSec`, `endAt`).
    function pack(uint256 level, uint256 stepAt_, uint256 stepSec_, uint256 endAt_) internal pure returns (uint256) {
        return level | (stepAt_ << 8) | (stepSec_ << 40) | (endAt_ << 64);
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
        if (level == NORMAL || nowSec >= endAt(word)) return NORMAL;
        uint256 first = stepAt(word);
        if (nowSec < first) return level;
        uint256 period = stepSec(word);
        uint256 steps = 1 + (period == 0 ? level : (nowSec - first) / period);
        return steps >= level ? NORMAL : level - steps;
    }

    /// @notice When `levelAt` first returns 0: the last step down, or `endAt` if that comes first.
    function zeroAt(uint256 word) internal pure returns (uint256 at) {
        at = endAt(word);
        uint256 level = word & 0xff;
        if (level == NORMAL) return at;
        uint256 stepped = stepAt(word) + (level - 1) * stepSec(word);
        if (stepped < at) at = stepped;
    }

    /// @notice IM multiple at caution (WAD; 1.0 when unset).
    function cautionIm(uint256 word) internal pure returns (uint256 m) {
        m = uint64(word >> 96);
        if (m == 0) m = WAD;
    }

    /// @notice IM multiple a withdrawal must keep at halt (WAD; 1.0 when unset).
    function haltIm(uint256 word) internal pure returns (uint256 m) {
        m = uint64(word >> 160);
        if (m == 0) m = WAD;
    }
}

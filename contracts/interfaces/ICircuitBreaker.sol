// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ICircuitBreaker
/// @notice Graduated circuit breakers, per market and global. The vault, the pool and the auction
/// house consult `level(market)`; the effective level of a market is the higher of its own level and
/// the global one (key `GLOBAL`, `bytes32(0)`).
///
/// Levels: 0 normal; 1 caution (risk-increasing trades need IM × cautionMultiplier, liquidation
/// capacity shrinks); 2 liquidation pause (no kicks, no risk-increasing trades); 3 halt (no kicks
/// and no takes). Deposits and reduce-only trades are never blocked at any level.
///
/// Every trip expires on its own: a level steps down one at a time, each step after its cooldown,
/// without any transaction. A trip can never keep a market above level 0 for longer than
/// `maxPauseSec` after the trip that set it; only a new trigger can extend it.
interface ICircuitBreaker {
    /// @notice Why a level changed.
    enum Trigger {
        None,
        PriceMove,
        OracleGuard,
        AuctionHealth,
        InsuranceDrawdown,
        Guardian,
        Recovery
    }

    /// @notice A level change. `value` and `threshold` are the measured figure and the limit it
    /// crossed, in the trigger's unit (WAD fractions for moves, discounts and drawdowns; seconds for
    /// staleness); both 0 for a guardian trip and for recovery.
    event LevelChanged(
        bytes32 indexed market,
        uint8 fromLevel,
        uint8 toLevel,
        Trigger trigger,
        uint256 value,
        uint256 threshold
    );

    /// @notice Effective level of `market`: max(market level, global level), after time-based recovery.
    /// @param market Market id, or `bytes32(0)` for the global level alone.
    function level(bytes32 market) external view returns (uint8);

    /// @notice Evaluates every trigger of `market` (price move, oracle guard) and the global ones
    /// (insurance drawdown), and records the new price observation. Permissionless.
    /// @return The effective level after the poke.
    function poke(bytes32 market) external returns (uint8);

    /// @notice Guardian trip: raises `market` (or global, `bytes32(0)`) to `toLevel` for at most
    /// `maxPauseSec`. Cannot lower a level, and cannot extend a running trip beyond its cap.
    function trip(bytes32 market, uint8 toLevel) external;
}

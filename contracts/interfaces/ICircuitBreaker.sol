// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";

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
/// without any transaction. An episode (from a key leaving level 0 until it is back at 0) has a
/// hard end `maxPauseSec` after it began: automatic triggers inside it restart cooldowns but never
/// move the hard end; only a guardian raise sets a new one. Automatic triggers also share a pause
/// budget per key: at most `AUTO_PAUSE_BUDGET_TRIPS` × `maxPauseSec` of episodes per
/// `guardianRearmSec` window. A trigger with the budget spent raises nothing (`AutoPauseBudgetSpent`).
interface ICircuitBreaker is IBulwarkErrors {
    /// @notice Parameters (RISK_ADMIN, bounded; see docs/circuit-breakers.md for defaults and why).
    /// @param windowSec Rolling window of the price-move trigger.
    /// @param band1Wad Move within the window (fraction, WAD) beyond which a market goes to level 1.
    /// @param band2Wad ... level 2 (liquidation pause).
    /// @param band3Wad ... level 3 (halt).
    /// @param hysteresisWad A tripped market whose move is still beyond band × (1 − hysteresis)
    /// does not start stepping down (its cooldown restarts, within its hard end).
    /// @param cooldownSec Time at a level before it steps down by one.
    /// @param maxPauseSec Hard maximum of an episode: the level is 0 this long after the key left
    /// level 0, whatever automatic triggers fire meanwhile (a guardian raise sets a new end).
    /// @param oracleMaxAgeSec Oracle guard: an answer older than this trips level 2.
    /// @param oracleDeviationWad Oracle guard: |primary − secondary| / primary beyond this trips level 2.
    /// @param insuranceWindowSec Window of the insurance drawdown trigger.
    /// @param insuranceDrawdownWad Insurance balance lost within the window (fraction) that trips global level 2.
    /// @param insuranceMinPeakWad The drawdown trigger ignores a fund whose window peak is below
    /// this (USD WAD): a few dollars paid out of a nearly empty fund is not a crisis.
    /// @param cautionImWad IM multiple for risk-increasing trades at level 1 (≥ 1).
    /// @param haltImWad IM multiple a withdrawal must keep at level 3 (≥ 1): the conservative margin.
    /// @param guardianRearmSec After a guardian trip of any key, the guardian cannot trip any key
    /// again for this long (≥ 2 × maxPauseSec, so a guardian pauses LP exits at most half of the
    /// time, however many keys it alternates between). Also the window of the automatic pause budget.
    struct Params {
        uint32 windowSec;
        uint64 band1Wad;
        uint64 band2Wad;
        uint64 band3Wad;
        uint64 hysteresisWad;
        uint32 cooldownSec;
        uint32 maxPauseSec;
        uint32 oracleMaxAgeSec;
        uint64 oracleDeviationWad;
        uint32 insuranceWindowSec;
        uint64 insuranceDrawdownWad;
        uint128 insuranceMinPeakWad;
        uint64 cautionImWad;
        uint64 haltImWad;
        uint32 guardianRearmSec;
    }

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

    event ParamsSet(Params params);
    /// @notice An automatic trigger fired on a key whose pause budget for the window is spent: no
    /// level was raised. `usedSec` of episodes since `windowStart`.
    event AutoPauseBudgetSpent(bytes32 indexed market, Trigger trigger, uint256 windowStart, uint256 usedSec);
    event MarketAdded(bytes32 indexed market, address asset);

    error UnknownMarket(bytes32 market);
    error MarketAlreadyAdded(bytes32 market);
    error InvalidLevel(uint256 level);
    /// @notice A guardian trip must raise the level.
    error LevelNotRaised(bytes32 market, uint256 current, uint256 requested);
    /// @notice The guardian tripped a key recently; it may trip any key again from `readyAt`.
    error GuardianRearming(bytes32 market, uint256 readyAt);

    /// @notice The permission matrix (`BreakerState.PERMISSIONS`): bit `4 × action + level` is set
    /// when the `BreakerAction` `action` is allowed at effective level `level`. Every gate in the
    /// vault and the auction house reads this one table.
    function permissions() external pure returns (uint256);

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

    /// @notice Auction-health trigger, called by the auction house (REPORTER_ROLE): a take cleared
    /// at `discountWad` below oracle, beyond `thresholdWad`, or a lot reached the floor unbid
    /// (`floorReached`). Trips `market` to level 2. The auction house reports position and pool
    /// lots only, and only those of at least its `reportMinNotionalWad`.
    function reportAuctionHealth(bytes32 market, uint256 discountWad, uint256 thresholdWad, bool floorReached) external;

    /// @notice Lists a vault market so that `poke` can evaluate it (RISK_ADMIN).
    function addMarket(bytes32 market) external;

    function params() external view returns (Params memory);

    /// @notice Stored state of a key, in the `BreakerState` layout (before time-based recovery).
    function stateOf(bytes32 market) external view returns (uint256 word);
}

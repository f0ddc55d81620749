// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";

/// @title MockCircuitBreaker
/// @notice Test double of `ICircuitBreaker` whose levels a test writes directly. `level(market)` is
/// max(market level, global level) like the real breaker. `poke(market)` applies a level the test
/// armed with `armPoke` (a trigger condition that holds), and otherwise changes nothing: a keeper
/// that compares `poke(market)` (static call) with `level(market)` sees a difference only while a
/// poke is armed. Counts pokes so a test can check a keeper sends none needlessly.
contract MockCircuitBreaker is ICircuitBreaker {
    bytes32 internal constant GLOBAL = bytes32(0);

    mapping(bytes32 market => uint8) internal _levels;
    mapping(bytes32 market => uint8) internal _armed;
    mapping(bytes32 market => bool) internal _isArmed;

    /// @notice Number of `poke` calls that changed a level.
    uint256 public effectivePokes;
    /// @notice Number of `poke` calls in total.
    uint256 public pokes;

    error LevelOutOfRange(uint8 level);

    /// @notice Sets the own level of `market` (or global, `bytes32(0)`), emitting `LevelChanged`.
    function setLevel(bytes32 market, uint8 toLevel) external {
        _set(market, toLevel, Trigger.Guardian);
    }

    /// @notice Makes the next `poke(market)` set the market's own level to `toLevel`.
    function armPoke(bytes32 market, uint8 toLevel) external {
        if (toLevel > 3) revert LevelOutOfRange(toLevel);
        _armed[market] = toLevel;
        _isArmed[market] = true;
    }

    /// @inheritdoc ICircuitBreaker
    function poke(bytes32 market) external returns (uint8) {
        ++pokes;
        if (_isArmed[market]) {
            _isArmed[market] = false;
            if (_armed[market] != _levels[market]) {
                ++effectivePokes;
                _set(market, _armed[market], Trigger.PriceMove);
            }
        }
        return _effective(market);
    }

    /// @inheritdoc ICircuitBreaker
    function trip(bytes32 market, uint8 toLevel) external {
        if (toLevel > _levels[market]) _set(market, toLevel, Trigger.Guardian);
    }

    /// @inheritdoc ICircuitBreaker
    function level(bytes32 market) external view returns (uint8) {
        return _effective(market);
    }

    function _set(bytes32 market, uint8 toLevel, Trigger trigger) internal {
        if (toLevel > 3) revert LevelOutOfRange(toLevel);
        uint8 fromLevel = _levels[market];
        _levels[market] = toLevel;
        emit LevelChanged(market, fromLevel, toLevel, trigger, 0, 0);
    }

    function _effective(bytes32 market) internal view returns (uint8) {
        uint8 own = _levels[market];
        uint8 global = _levels[GLOBAL];
        return own > global ? own : global;
    }
}

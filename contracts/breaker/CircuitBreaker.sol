// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {BreakerState} from "../libraries/BreakerState.sol";
import {Bounds} from "../libraries/Bounds.sol";

/// @title CircuitBreaker
/// @notice Graduated circuit breakers for `PerpVault` and `AuctionHouse`. See `ICircuitBreaker`.
/// @dev The breaker decides; the vault enforces. Every raise is mirrored into the vault
/// (`IPerpVault.setBreakerState`), which computes the same time-based recovery from the same
/// word, so that a trade or a kick reads its level from the vault's storage instead of calling
/// out (the check costs a trade about 2.5k gas instead of 7k). Recovery needs no transaction;
/// `poke` records it with a `Recovery` event.
contract CircuitBreaker is ICircuitBreaker, AccessControl {
    using BreakerState for uint256;

    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");
    bytes32 public constant GLOBAL = bytes32(0);

    uint256 internal constant WAD = 1e18;
    uint32 public constant MIN_WINDOW = 60;
    uint32 public constant MAX_WINDOW = 7 days;
    uint64 public constant MIN_BAND = 0.005e18;
    uint64 public constant MAX_BAND = 0.9e18;
    uint64 public constant MAX_HYSTERESIS = 0.9e18;
    uint32 public constant MIN_COOLDOWN = 60;
    uint32 public constant MAX_COOLDOWN = 1 days;
    /// @notice No parameter set can pause anything for longer than this in one trip.
    uint32 public constant MAX_MAX_PAUSE = 3 days;
    uint32 public constant MIN_ORACLE_AGE = 60;
    uint32 public constant MAX_ORACLE_AGE = 2 days;
    uint64 public constant MIN_ORACLE_DEVIATION = 0.001e18;
    uint64 public constant MAX_ORACLE_DEVIATION = 0.5e18;
    uint64 public constant MIN_DRAWDOWN = 0.01e18;
    uint64 public constant MAX_IM_MULTIPLE = 5e18;
    uint128 public constant MAX_INSURANCE_MIN_PEAK = 1e9 * 1e18; // $1B
    uint32 public constant MAX_REARM = 30 days;

    IPerpVault public immutable vault;
    IOracleRouter public immutable oracle;

    Params internal _params;

    /// @dev Per key: the `BreakerState` word (low 96 bits).
    mapping(bytes32 market => uint256 word) internal _state;
    /// @notice Automatic triggers may pause a key for this many `maxPauseSec` per `guardianRearmSec`.
    uint256 public constant AUTO_PAUSE_BUDGET_TRIPS = 2;

    /// @dev When the guardian last tripped any key. LP exits stop while any market is at level 2,
    /// so every key shares one rearm clock: alternating keys must not keep LP exits shut for longer
    /// than `maxPauseSec` per `guardianRearmSec`.
    uint256 internal _guardianTrippedAt;

    /// @dev Per key: the running episode's start (0: none booked) and the pause budget's window.
    struct Episodes {
        uint32 since;
        uint32 windowStart;
        uint32 usedSec;
    }

    mapping(bytes32 market => Episodes) internal _episodes;

    /// @dev Price extremes over the rolling window: each is replaced by the current price once it
    /// is older than the window, or when the price goes beyond it.
    struct PriceWindow {
        uint128 highWad;
        uint32 highAt;
        uint128 lowWad;
        uint32 lowAt;
    }

    mapping(bytes32 market => PriceWindow) internal _windows;
    mapping(bytes32 market => address asset) internal _assetOf;
    bytes32[] internal _markets;

    /// @dev Insurance balance peak within its window.
    uint128 internal _insurancePeakWad;
    uint32 internal _insurancePeakAt;

    constructor(address admin, IPerpVault vault_, Params memory params_) {
        if (admin == address(0) || address(vault_) == address(0)) revert ZeroAddress();
        vault = vault_;
        oracle = vault_.oracle();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
        _setParams(params_);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ICircuitBreaker
    function addMarket(bytes32 market) external onlyRole(RISK_ADMIN_ROLE) {
        if (market == GLOBAL) revert UnknownMarket(market);
        if (_assetOf[market] != address(0)) revert MarketAlreadyAdded(market);
        address asset = vault.marketParams(market).oracleAsset; // reverts for an unknown market
        _assetOf[market] = asset;
        _markets.push(market);
        _push(market, _state[market]);
        emit MarketAdded(market, asset);
    }

    /// @notice Replaces the parameters and pushes the new margin multiples to the vault.
    function setParams(Params calldata p) external onlyRole(RISK_ADMIN_ROLE) {
        _setParams(p);
        for (uint256 i; i < _markets.length; ++i) _push(_markets[i], _state[_markets[i]]);
    }

    // ------------------------------------------------------------------ triggers

    /// @inheritdoc ICircuitBreaker
    function poke(bytes32 market) external returns (uint8) {
        address asset;
        if (market != GLOBAL) {
            asset = _assetOf[market];
            if (asset == address(0)) revert UnknownMarket(market);
            _recover(market);
        }
        _recover(GLOBAL);
        _checkInsurance();
        if (asset != address(0)) {
            (bool ok, uint256 priceWad) = _checkOracle(market, asset);
            if (ok) _checkPriceMove(market, priceWad);
        }
        return uint8(_level(market));
    }

    /// @inheritdoc ICircuitBreaker
    function trip(bytes32 market, uint8 toLevel) external onlyRole(GUARDIAN_ROLE) {
        if (toLevel == BreakerState.NORMAL || toLevel > BreakerState.HALT) revert InvalidLevel(toLevel);
        if (market != GLOBAL && _assetOf[market] == address(0)) revert UnknownMarket(market);
        // One rearm clock for every key (see `_guardianTrippedAt`).
        uint256 last = _guardianTrippedAt;
        // solhint-disable-next-line not-rely-on-time
        if (last != 0 && block.timestamp < last + _params.guardianRearmSec) {
            revert GuardianRearming(market, last + _params.guardianRearmSec);
        }
        uint256 current = _state[market].levelAt(block.timestamp); // solhint-disable-line not-rely-on-time
        if (toLevel <= current) revert LevelNotRaised(market, current, toLevel);
        _guardianTrippedAt = block.timestamp; // solhint-disable-line not-rely-on-time
        _raise(market, toLevel, Trigger.Guardian, 0, 0);
    }

    /// @inheritdoc ICircuitBreaker
    function reportAuctionHealth(
        bytes32 market,
        uint256 discountWad,
        uint256 thresholdWad,
        bool floorReached
    ) external onlyRole(REPORTER_ROLE) {
        if (!floorReached && discountWad <= thresholdWad) return;
        _raise(market, BreakerState.PAUSE, Trigger.AuctionHealth, discountWad, thresholdWad);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICircuitBreaker
    function level(bytes32 market) external view returns (uint8) {
        return uint8(_level(market));
    }

    /// @inheritdoc ICircuitBreaker
    function permissions() external pure returns (uint256) {
        return BreakerState.PERMISSIONS;
    }

    /// @inheritdoc ICircuitBreaker
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc ICircuitBreaker
    function stateOf(bytes32 market) external view returns (uint256) {
        return _state[market];
    }

    /// @notice Markets `poke` evaluates.
    function markets() external view returns (bytes32[] memory) {
        return _markets;
    }

    /// @notice A key's episode bookkeeping: the running episode's start (0 when none is booked), the
    /// pause budget's window start, and the seconds of episodes booked in it.
    function episodes(bytes32 market) external view returns (Episodes memory) {
        return _episodes[market];
    }

    /// @notice The rolling-window price extremes of a market (WAD) and when each was set.
    function priceWindow(bytes32 market) external view returns (PriceWindow memory) {
        return _windows[market];
    }

    // ------------------------------------------------------------------ internal: triggers

    /// @dev Oracle guard: non-positive, stale, or primary and secondary apart by more than the
    /// deviation limit each trip level 2. Returns the primary price when the feed is sound.
    function _checkOracle(bytes32 market, address asset) internal returns (bool ok, uint256 priceWad) {
        IOracleRouter.Feed memory feed = oracle.feedOf(asset);
        (bool sound, uint256 primaryWad) = _readFeed(market, feed.primary, feed.primaryDecimals);
        if (!sound) return (false, 0);
        if (address(feed.secondary) != address(0)) {
            (bool secondarySound, uint256 secondaryWad) = _readFeed(market, feed.secondary, feed.secondaryDecimals);
            if (!secondarySound) return (false, 0);
            uint256 diff = primaryWad > secondaryWad ? primaryWad - secondaryWad : secondaryWad - primaryWad;
            uint256 limit = _params.oracleDeviationWad;
            if (diff * WAD > limit * primaryWad) {
                _raise(market, BreakerState.PAUSE, Trigger.OracleGuard, (diff * WAD) / primaryWad, limit);
                return (false, 0);
            }
        }
        return (true, primaryWad);
    }

    function _readFeed(bytes32 market, AggregatorV3Interface feed, uint8 decimals) internal returns (bool, uint256) {
        try feed.latestRoundData() returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (answer <= 0) {
                _raise(market, BreakerState.PAUSE, Trigger.OracleGuard, 0, 0);
                return (false, 0);
            }
            // solhint-disable-next-line not-rely-on-time
            uint256 age = block.timestamp > updatedAt ? block.timestamp - updatedAt : 0;
            if (age > _params.oracleMaxAgeSec) {
                _raise(market, BreakerState.PAUSE, Trigger.OracleGuard, age, _params.oracleMaxAgeSec);
                return (false, 0);
            }
            return (true, uint256(answer) * 10 ** (18 - decimals));
        } catch {
            _raise(market, BreakerState.PAUSE, Trigger.OracleGuard, 0, 0);
            return (false, 0);
        }
    }

    /// @dev Move from the window's high (a fall) or low (a rise) beyond a band trips that band's
    /// level; a move still beyond band × (1 − hysteresis) holds the current level (its cooldown
    /// restarts, bounded by the trip's hard end).
    function _checkPriceMove(bytes32 market, uint256 priceWad) internal {
        PriceWindow memory w = _windows[market];
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        if (w.highWad == 0 || nowSec > uint256(w.highAt) + _params.windowSec || priceWad >= w.highWad) {
            (w.highWad, w.highAt) = (uint128(priceWad), uint32(nowSec));
        }
        if (w.lowWad == 0 || nowSec > uint256(w.lowAt) + _params.windowSec || priceWad <= w.lowWad) {
            (w.lowWad, w.lowAt) = (uint128(priceWad), uint32(nowSec));
        }
        _windows[market] = w;
        // Move as an exact fraction num / den, compared without rounding.
        (uint256 num, uint256 den) = w.highWad - priceWad >= priceWad - w.lowWad
            ? (w.highWad - priceWad, uint256(w.highWad))
            : (priceWad - w.lowWad, uint256(w.lowWad));
        Params memory p = _params;
        uint256 tripTo = _bandLevel(num, den, p.band1Wad, p.band2Wad, p.band3Wad, WAD);
        if (tripTo != 0) {
            _raise(market, tripTo, Trigger.PriceMove, (num * WAD) / den, _band(p, tripTo));
            return;
        }
        uint256 current = _state[market].levelAt(nowSec);
        if (current == BreakerState.NORMAL) return;
        uint256 hold = _bandLevel(num, den, p.band1Wad, p.band2Wad, p.band3Wad, WAD - p.hysteresisWad);
        if (hold >= current) _hold(market);
    }

    /// @dev Highest level whose band × scale the move num/den exceeds (0 when none).
    function _bandLevel(
        uint256 num,
        uint256 den,
        uint256 b1,
        uint256 b2,
        uint256 b3,
        uint256 scaleWad
    ) internal pure returns (uint256) {
        // num / den > band × scale / WAD²  ⇔  num × WAD² > band × scale × den
        uint256 lhs = num * WAD * WAD;
        if (lhs > b3 * scaleWad * den) return BreakerState.HALT;
        if (lhs > b2 * scaleWad * den) return BreakerState.PAUSE;
        if (lhs > b1 * scaleWad * den) return BreakerState.CAUTION;
        return BreakerState.NORMAL;
    }

    function _band(Params memory p, uint256 lvl) internal pure returns (uint256) {
        return
            lvl == BreakerState.HALT
                ? p.band3Wad
                : lvl == BreakerState.PAUSE
                    ? p.band2Wad
                    : p.band1Wad;
    }

    /// @dev Insurance drawdown from the window's peak beyond the limit trips global level 1 (caution).
    function _checkInsurance() internal {
        uint256 balance = vault.insuranceBalance();
        uint256 peak = _insurancePeakWad;
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        if (balance >= peak || nowSec > uint256(_insurancePeakAt) + _params.insuranceWindowSec) {
            (_insurancePeakWad, _insurancePeakAt) = (uint128(balance), uint32(nowSec));
            return;
        }
        if (peak < _params.insuranceMinPeakWad) return;
        uint256 lost = peak - balance;
        uint256 limit = _params.insuranceDrawdownWad;
        if (lost * WAD > limit * peak)
            _raise(GLOBAL, BreakerState.CAUTION, Trigger.InsuranceDrawdown, (lost * WAD) / peak, limit);
    }

    // ------------------------------------------------------------------ internal: state

    function _level(bytes32 market) internal view returns (uint256) {
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        uint256 g = _state[GLOBAL].levelAt(nowSec);
        if (market == GLOBAL) return g;
        uint256 m = _state[market].levelAt(nowSec);
        return g > m ? g : m;
    }

    /// @dev A new trigger at or above the current level: the level becomes `toLevel` and its
    /// cooldown restarts from now. The hard end: inside an episode an automatic trigger keeps it,
    /// a guardian trip sets it `maxPauseSec` from now; a new automatic episode gets `maxPauseSec`
    /// or what is left of the key's pause budget, and none when that is spent. Mirrored into the vault.
    function _raise(bytes32 market, uint256 toLevel, Trigger trigger, uint256 value, uint256 threshold) internal {
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        uint256 stored = _state[market];
        uint256 current = stored.levelAt(nowSec);
        // A trigger below the current level leaves the higher trip alone.
        if (toLevel < current) return;
        Params memory p = _params;
        uint256 end;
        if (current == BreakerState.NORMAL) {
            end = _startEpisode(market, stored, nowSec, trigger, p);
            if (end == nowSec) return; // budget spent
        } else {
            end = trigger == Trigger.Guardian ? nowSec + p.maxPauseSec : stored.endAt();
        }
        uint256 firstStep = nowSec + p.cooldownSec;
        uint256 word = BreakerState.pack(toLevel, firstStep < end ? firstStep : end, p.cooldownSec, end);
        _state[market] = word;
        _push(market, word);
        if (toLevel != current) {
            emit LevelChanged(market, uint8(current), uint8(toLevel), trigger, value, threshold);
        }
    }

    /// @dev A key leaves level 0: books the episode before it, rolls the budget window, and returns
    /// the new episode's hard end (`nowSec` itself when an automatic trigger finds the budget spent).
    function _startEpisode(
        bytes32 market,
        uint256 stored,
        uint256 nowSec,
        Trigger trigger,
        Params memory p
    ) internal returns (uint256 end) {
        Episodes memory e = _book(_episodes[market], stored);
        if (nowSec >= uint256(e.windowStart) + p.guardianRearmSec) (e.windowStart, e.usedSec) = (uint32(nowSec), 0);
        uint256 budget = AUTO_PAUSE_BUDGET_TRIPS * p.maxPauseSec;
        uint256 left = budget > e.usedSec ? budget - e.usedSec : 0;
        if (trigger == Trigger.Guardian) left = p.maxPauseSec;
        if (left == 0) {
            _episodes[market] = e;
            emit AutoPauseBudgetSpent(market, trigger, e.windowStart, e.usedSec);
            return nowSec;
        }
        end = nowSec + (left < p.maxPauseSec ? left : p.maxPauseSec);
        e.since = uint32(nowSec);
        _episodes[market] = e;
    }

    /// @dev Adds a finished episode (its last word `stored`, at level 0 by now) to the budget used.
    function _book(Episodes memory e, uint256 stored) internal pure returns (Episodes memory) {
        if (e.since == 0) return e;
        uint256 zeroAt = stored.zeroAt();
        if (zeroAt > e.since) e.usedSec += uint32(zeroAt - e.since);
        e.since = 0;
        return e;
    }

    /// @dev Hysteresis: restart the cooldown of the current level, never past the trip's hard end.
    function _hold(bytes32 market) internal {
        uint256 word = _state[market];
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        uint256 end = word.endAt();
        uint256 next = nowSec + _params.cooldownSec;
        if (next > end) next = end;
        if (next <= word.stepAt()) return;
        uint256 held = BreakerState.pack(word.levelAt(nowSec), next, word.stepSec(), end);
        _state[market] = held;
        _push(market, held);
    }

    /// @dev Records time-based recovery with an event (the vault already applies it).
    function _recover(bytes32 market) internal {
        uint256 word = _state[market];
        uint256 stored = word.storedLevel();
        if (stored == BreakerState.NORMAL) return;
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        uint256 current = word.levelAt(nowSec);
        if (current == stored) return;
        uint256 steps = stored - current;
        if (current == BreakerState.NORMAL) {
            _episodes[market] = _book(_episodes[market], word);
            _state[market] = 0;
        } else {
            _state[market] = BreakerState.pack(
                current,
                word.stepAt() + steps * word.stepSec(),
                word.stepSec(),
                word.endAt()
            );
        }
        emit LevelChanged(market, uint8(stored), uint8(current), Trigger.Recovery, 0, 0);
    }

    function _push(bytes32 market, uint256 word) internal {
        if (market == GLOBAL) vault.setBreakerState(GLOBAL, uint96(word));
        else vault.setBreakerState(market, word.withMultipliers(_params.cautionImWad, _params.haltImWad));
    }

    function _setParams(Params memory p) internal {
        Bounds.check("windowSec", p.windowSec, MIN_WINDOW, MAX_WINDOW);
        Bounds.check("band1Wad", p.band1Wad, MIN_BAND, MAX_BAND);
        Bounds.check("band2Wad", p.band2Wad, uint256(p.band1Wad) + 1, MAX_BAND);
        Bounds.check("band3Wad", p.band3Wad, uint256(p.band2Wad) + 1, MAX_BAND);
        Bounds.check("hysteresisWad", p.hysteresisWad, 0, MAX_HYSTERESIS);
        Bounds.check("cooldownSec", p.cooldownSec, MIN_COOLDOWN, MAX_COOLDOWN);
        Bounds.check("maxPauseSec", p.maxPauseSec, p.cooldownSec, MAX_MAX_PAUSE);
        Bounds.check("oracleMaxAgeSec", p.oracleMaxAgeSec, MIN_ORACLE_AGE, MAX_ORACLE_AGE);
        Bounds.check("oracleDeviationWad", p.oracleDeviationWad, MIN_ORACLE_DEVIATION, MAX_ORACLE_DEVIATION);
        Bounds.check("insuranceWindowSec", p.insuranceWindowSec, MIN_WINDOW, MAX_WINDOW);
        Bounds.check("insuranceDrawdownWad", p.insuranceDrawdownWad, MIN_DRAWDOWN, WAD);
        Bounds.check("insuranceMinPeakWad", p.insuranceMinPeakWad, 0, MAX_INSURANCE_MIN_PEAK);
        Bounds.check("cautionImWad", p.cautionImWad, WAD, MAX_IM_MULTIPLE);
        Bounds.check("haltImWad", p.haltImWad, WAD, MAX_IM_MULTIPLE);
        Bounds.check("guardianRearmSec", p.guardianRearmSec, 2 * uint256(p.maxPauseSec), MAX_REARM);
        _params = p;
        emit ParamsSet(p);
    }
}

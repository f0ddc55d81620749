// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";

/// @title OracleRouter
/// @notice Chainlink-style price sources per asset, normalised to WAD, with staleness, sign,
/// deviation and sequencer checks.
contract OracleRouter is IOracleRouter, AccessControl {
    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");

    /// @notice Heartbeats shorter than this are rejected (a feed cannot be expected to update faster).
    uint32 public constant MIN_HEARTBEAT = 60;
    /// @notice Longest heartbeat accepted: two days.
    uint32 public constant MAX_HEARTBEAT = 2 days;
    /// @notice Largest primary/secondary deviation bound: 20%.
    uint16 public constant MAX_DEVIATION_BPS = 2_000;
    uint32 public constant MAX_SEQUENCER_GRACE = 1 days;

    mapping(address asset => Feed) internal _feeds;
    AggregatorV3Interface public sequencerFeed;
    uint32 public sequencerGracePeriod;

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IOracleRouter
    function setFeed(
        address asset,
        AggregatorV3Interface primary,
        uint32 primaryHeartbeat,
        AggregatorV3Interface secondary,
        uint32 secondaryHeartbeat,
        uint16 maxDeviationBps
    ) external onlyRole(RISK_ADMIN_ROLE) {
        if (asset == address(0) || address(primary) == address(0)) revert ZeroAddress();
        _checkHeartbeat(primaryHeartbeat);
        uint8 primaryDecimals = _checkedDecimals(primary);
        uint8 secondaryDecimals;
        if (address(secondary) != address(0)) {
            _checkHeartbeat(secondaryHeartbeat);
            if (maxDeviationBps == 0 || maxDeviationBps > MAX_DEVIATION_BPS) revert InvalidDeviation(maxDeviationBps);
            secondaryDecimals = _checkedDecimals(secondary);
        } else {
            secondaryHeartbeat = 0;
            maxDeviationBps = 0;
        }
        _feeds[asset] = Feed({
            primary: primary,
            primaryHeartbeat: primaryHeartbeat,
            primaryDecimals: primaryDecimals,
            maxDeviationBps: maxDeviationBps,
            secondary: secondary,
            secondaryHeartbeat: secondaryHeartbeat,
            secondaryDecimals: secondaryDecimals
        });
        emit FeedSet(
            asset,
            address(primary),
            primaryHeartbeat,
            address(secondary),
            secondaryHeartbeat,
            maxDeviationBps
        );
    }

    /// @inheritdoc IOracleRouter
    function setSequencerFeed(AggregatorV3Interface feed, uint32 gracePeriodSec) external onlyRole(RISK_ADMIN_ROLE) {
        if (gracePeriodSec > MAX_SEQUENCER_GRACE) revert InvalidHeartbeat(gracePeriodSec);
        sequencerFeed = feed;
        sequencerGracePeriod = gracePeriodSec;
        emit SequencerFeedSet(address(feed), gracePeriodSec);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IOracleRouter
    function getPrice(address asset) external view returns (uint256 priceWad) {
        Feed storage feed = _feeds[asset];
        // First slot only; the secondary's slot is read only when one is set (maxDeviationBps != 0).
        AggregatorV3Interface primary = feed.primary;
        if (address(primary) == address(0)) revert FeedNotSet(asset);
        uint16 maxDeviationBps = feed.maxDeviationBps;
        _checkSequencer();
        priceWad = _read(asset, primary, feed.primaryHeartbeat, feed.primaryDecimals);
        if (maxDeviationBps != 0) {
            uint256 secondaryWad = _read(asset, feed.secondary, feed.secondaryHeartbeat, feed.secondaryDecimals);
            if (_exceedsDeviation(priceWad, secondaryWad, maxDeviationBps)) {
                revert PriceDeviation(asset, priceWad, secondaryWad, maxDeviationBps);
            }
        }
    }

    /// @inheritdoc IOracleRouter
    function tryGetPrice(address asset) external view returns (uint256 priceWad, OracleStatus status) {
        Feed memory feed = _feeds[asset];
        if (address(feed.primary) == address(0)) return (0, OracleStatus.NotConfigured);
        status = _sequencerStatus();
        (uint256 primaryWad, OracleStatus primaryStatus) = _tryRead(
            feed.primary,
            feed.primaryHeartbeat,
            feed.primaryDecimals
        );
        priceWad = primaryWad;
        if (status != OracleStatus.Ok) return (priceWad, status);
        if (primaryStatus != OracleStatus.Ok) return (priceWad, primaryStatus);
        if (address(feed.secondary) != address(0)) {
            (uint256 secondaryWad, OracleStatus secondaryStatus) = _tryRead(
                feed.secondary,
                feed.secondaryHeartbeat,
                feed.secondaryDecimals
            );
            if (secondaryStatus != OracleStatus.Ok) return (priceWad, secondaryStatus);
            if (_exceedsDeviation(primaryWad, secondaryWad, feed.maxDeviationBps)) {
                return (priceWad, OracleStatus.Deviation);
            }
        }
    }

    /// @inheritdoc IOracleRouter
    function feedOf(address asset) external view returns (Feed memory) {
        return _feeds[asset];
    }

    // ------------------------------------------------------------------ internal

    function _read(
        address asset,
        AggregatorV3Interface agg,
        uint32 heartbeat,
        uint8 decimals
    ) internal view returns (uint256) {
        (, int256 answer, , uint256 updatedAt, ) = agg.latestRoundData();
        if (answer <= 0) revert NonPositivePrice(asset, address(agg), answer);
        // solhint-disable-next-line not-rely-on-time
        if (updatedAt + heartbeat < block.timestamp) revert StalePrice(asset, address(agg), updatedAt, heartbeat);
        return _scale(uint256(answer), decimals);
    }

    function _tryRead(
        AggregatorV3Interface agg,
        uint32 heartbeat,
        uint8 decimals
    ) internal view returns (uint256, OracleStatus) {
        try agg.latestRoundData() returns (uint80, int256 answer, uint256, uint256 updatedAt, uint80) {
            if (answer <= 0) return (0, OracleStatus.NonPositive);
            uint256 priceWad = _scale(uint256(answer), decimals);
            // solhint-disable-next-line not-rely-on-time
            if (updatedAt + heartbeat < block.timestamp) return (priceWad, OracleStatus.Stale);
            return (priceWad, OracleStatus.Ok);
        } catch {
            return (0, OracleStatus.Stale);
        }
    }

    function _checkSequencer() internal view {
        AggregatorV3Interface feed = sequencerFeed;
        if (address(feed) == address(0)) return;
        (, int256 answer, uint256 startedAt, , ) = feed.latestRoundData();
        // startedAt 0: the feed has no valid round yet (Chainlink's uninitialised L2 feed): distrust it.
        if (answer != 0 || startedAt == 0) revert SequencerDown();
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp - startedAt <= sequencerGracePeriod) {
            revert SequencerGracePeriod(startedAt, sequencerGracePeriod);
        }
    }

    function _sequencerStatus() internal view returns (OracleStatus) {
        AggregatorV3Interface feed = sequencerFeed;
        if (address(feed) == address(0)) return OracleStatus.Ok;
        try feed.latestRoundData() returns (uint80, int256 answer, uint256 startedAt, uint256, uint80) {
            if (answer != 0 || startedAt == 0) return OracleStatus.SequencerDown;
            // solhint-disable-next-line not-rely-on-time
            if (block.timestamp - startedAt <= sequencerGracePeriod) return OracleStatus.SequencerGracePeriod;
            return OracleStatus.Ok;
        } catch {
            return OracleStatus.SequencerDown;
        }
    }

    function _checkHeartbeat(uint32 heartbeat) internal pure {
        if (heartbeat < MIN_HEARTBEAT || heartbeat > MAX_HEARTBEAT) revert InvalidHeartbeat(heartbeat);
    }

    function _checkedDecimals(AggregatorV3Interface agg) internal view returns (uint8 decimals) {
        decimals = agg.decimals();
        if (decimals > 18) revert UnsupportedDecimals(address(agg), decimals);
    }

    function _scale(uint256 answer, uint8 decimals) internal pure returns (uint256) {
        return answer * 10 ** (18 - decimals);
    }

    /// @dev |a − b| / a > maxBps / 10,000, compared exactly (no rounding to whole bps).
    function _exceedsDeviation(uint256 a, uint256 b, uint256 maxBps) internal pure returns (bool) {
        uint256 diff = a > b ? a - b : b - a;
        return diff * 10_000 > maxBps * a;
    }
}

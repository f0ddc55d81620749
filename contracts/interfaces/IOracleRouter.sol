// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @title IOracleRouter
/// @notice Resolves an asset to a WAD (1e18) USD price from Chainlink-style aggregators, with
/// heartbeat staleness, non-positive answer rejection, an optional secondary source used as a
/// deviation guard, and an optional L2 sequencer-uptime feed.
/// @dev `getPrice` reverts on any problem; `tryGetPrice` never reverts and reports a status so that
/// breakers and keepers can react to a bad feed instead of failing.
interface IOracleRouter is IBulwarkErrors {
    /// @notice Health of an asset's price, as returned by `tryGetPrice`.
    enum OracleStatus {
        Ok,
        NotConfigured,
        Stale,
        NonPositive,
        Deviation,
        SequencerDown,
        SequencerGracePeriod
    }

    /// @notice One asset's feed configuration (packed into two storage slots).
    /// @param primary Primary aggregator.
    /// @param primaryHeartbeat Maximum age in seconds of the primary's answer.
    /// @param primaryDecimals Decimals of the primary's answer (read from the feed when set).
    /// @param maxDeviationBps Largest allowed |primary − secondary| / primary, in basis points.
    /// @param secondary Optional secondary aggregator (zero address when none).
    /// @param secondaryHeartbeat Maximum age in seconds of the secondary's answer.
    /// @param secondaryDecimals Decimals of the secondary's answer.
    struct Feed {
        AggregatorV3Interface primary;
        uint32 primaryHeartbeat;
        uint8 primaryDecimals;
        uint16 maxDeviationBps;
        AggregatorV3Interface secondary;
        uint32 secondaryHeartbeat;
        uint8 secondaryDecimals;
    }

    /// @notice Emitted when an asset's feeds are set or replaced.
    event FeedSet(
        address indexed asset,
        address primary,
        uint32 primaryHeartbeat,
        address secondary,
        uint32 secondaryHeartbeat,
        uint16 maxDeviationBps
    );
    /// @notice Emitted when the sequencer-uptime feed or its grace period changes.
    event SequencerFeedSet(address feed, uint32 gracePeriodSec);

    /// @notice No feed is configured for `asset`.
    error FeedNotSet(address asset);
    /// @notice `feed` last updated at `updatedAt`, older than `heartbeat` seconds.
    error StalePrice(address asset, address feed, uint256 updatedAt, uint256 heartbeat);
    /// @notice `feed` answered zero or a negative number.
    error NonPositivePrice(address asset, address feed, int256 answer);
    /// @notice Primary and secondary disagree by more than the allowed deviation.
    error PriceDeviation(address asset, uint256 primaryWad, uint256 secondaryWad, uint256 maxDeviationBps);
    /// @notice The L2 sequencer reports that it is down, or its feed has no valid round (startedAt 0).
    error SequencerDown();
    /// @notice The sequencer came back at `startedAt`; prices are distrusted for the grace period.
    error SequencerGracePeriod(uint256 startedAt, uint256 gracePeriodSec);
    /// @notice A feed's decimals exceed 18.
    error UnsupportedDecimals(address feed, uint8 decimals);
    /// @notice A heartbeat outside [MIN_HEARTBEAT, MAX_HEARTBEAT].
    error InvalidHeartbeat(uint256 heartbeat);
    /// @notice A deviation bound outside (0, MAX_DEVIATION_BPS].
    error InvalidDeviation(uint256 maxDeviationBps);

    /// @notice Sets or replaces the feeds for `asset`. Role: RISK_ADMIN.
    /// @param secondary Zero address for none; then `secondaryHeartbeat` and `maxDeviationBps` are ignored.
    function setFeed(
        address asset,
        AggregatorV3Interface primary,
        uint32 primaryHeartbeat,
        AggregatorV3Interface secondary,
        uint32 secondaryHeartbeat,
        uint16 maxDeviationBps
    ) external;

    /// @notice Sets the L2 sequencer-uptime feed (zero address disables the check). Role: RISK_ADMIN.
    function setSequencerFeed(AggregatorV3Interface feed, uint32 gracePeriodSec) external;

    /// @notice The price of `asset` in USD, WAD. Reverts with a custom error if it cannot be trusted.
    function getPrice(address asset) external view returns (uint256 priceWad);

    /// @notice The price of `asset` and its status; never reverts. `priceWad` is the primary's
    /// answer when one is readable (even if stale), else 0.
    function tryGetPrice(address asset) external view returns (uint256 priceWad, OracleStatus status);

    /// @notice The configuration for `asset`.
    function feedOf(address asset) external view returns (Feed memory);
}

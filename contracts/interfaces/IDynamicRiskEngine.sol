// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";
import {IOracleRouter} from "./IOracleRouter.sol";
import {IRiskEngine} from "./IRiskEngine.sol";

/// @title IOracleRouterPrimary
/// @notice The first field of `IOracleRouter.feedOf`. `IOracleRouter.Feed` is a static struct, so its
/// ABI encoding is seven words starting with `primary`; the risk engine decodes only that word on
/// its hot path (about 700 gas less than decoding the whole struct). Keep `primary` first in `Feed`.
interface IOracleRouterPrimary {
    function feedOf(address asset) external view returns (AggregatorV3Interface primary);
}

/// @title IDynamicRiskEngine
/// @notice Margin policy that responds to the market (see docs/risk-model.md):
/// - initial margin scales with an EWMA estimate of volatility fed by accepted oracle updates:
///   `imr = min(1, max(baseImr, k × σ_horizon))`;
/// - maintenance margin follows half (a fraction) of it, `max(baseMmr, maintenanceFraction × imr)`,
///   plus a per-position impact term `impactFactor × |notional| / depth`;
/// - the maintenance ratio of every position falls at once but rises at most
///   `maxMmrRisePerHour` (linearly in time), whether the cause is volatility or a parameter change;
/// - a smoothed price (an EMA of oracle updates) feeds the vault's wick filter, with a hard floor.
/// @dev Units: parameters that are fractions are set in basis points (`…Bps`, 1 bp = 0.01%), as the
/// router's `maxDeviationBps`; they pack into the one storage word that both `updatePrice` and
/// `marginRatios` read. Prices, ratios returned by views and USD amounts are WAD (1e18); durations
/// are seconds. `varianceRateWad` is a variance per second (σ² per second, WAD).
interface IDynamicRiskEngine is IRiskEngine, IBulwarkErrors {
    // ------------------------------------------------------------------ types

    /// @notice Everything a market needs, given once to `configureMarket`. Bounds are the
    /// engine's `MIN_*`/`MAX_*` constants.
    /// @param oracleAsset Asset whose `IOracleRouter` price marks the market (as in the vault).
    /// @param volHalfLifeSec Half-life of the EWMA of squared log returns.
    /// @param liquidationHorizonSec Time over which a liquidation is assumed to unwind; σ is scaled to it.
    /// @param smoothingHalfLifeSec Half-life of the smoothed price used by the wick filter.
    /// @param volMultiplierBps `k`: how many σ_horizon the initial margin covers (30,000 = 3σ).
    /// @param initialVolBps Annualised volatility seeding the EWMA of a new market (8,000 = 80%).
    /// @param baseImrBps Initial margin ratio floor.
    /// @param baseMmrBps Maintenance margin ratio floor; must be below `baseImrBps`.
    /// @param maintenanceFractionBps Maintenance target as a fraction of the volatility-scaled imr.
    /// @param maxMmrRisePerHourBps Largest rise of any position's maintenance ratio per hour.
    /// @param impactFactorBps Ratio added per `depthUsdWad` of notional (to maintenance and initial).
    /// @param depthUsdWad USD notional that moves the venue's price by 1%.
    struct MarketParams {
        address oracleAsset;
        uint24 volHalfLifeSec;
        uint24 liquidationHorizonSec;
        uint24 smoothingHalfLifeSec;
        uint16 volMultiplierBps;
        uint32 initialVolBps;
        uint16 baseImrBps;
        uint16 baseMmrBps;
        uint16 maintenanceFractionBps;
        uint16 maxMmrRisePerHourBps;
        uint16 impactFactorBps;
        uint128 depthUsdWad;
    }

    /// @notice A market's risk state now, for keepers and the simulator.
    /// @param lastPriceWad Last accepted oracle price.
    /// @param observedAt Feed timestamp (`updatedAt`) of the last accepted price.
    /// @param smoothedPriceWad The wick filter's price now (see `smoothedPrice`).
    /// @param varianceRateWad EWMA of squared log returns per second.
    /// @param sigmaAnnualWad Annualised volatility, `sqrt(varianceRate × 365 days)`.
    /// @param sigmaHorizonWad Volatility over the liquidation horizon, `sqrt(varianceRate × horizon)`.
    /// @param imrWad Initial margin ratio of a zero-notional position.
    /// @param targetMmrWad Base maintenance ratio the rate limit converges to.
    /// @param effectiveMmrWad Base maintenance ratio in force now (zero notional, rate-limited).
    /// @param impactPerMillionWad Maintenance (and initial) ratio added per $1M of notional (target).
    /// @param checkpointAt When the rate limit was last checkpointed (update or parameter change).
    struct RiskState {
        uint256 lastPriceWad;
        uint256 observedAt;
        uint256 smoothedPriceWad;
        uint256 varianceRateWad;
        uint256 sigmaAnnualWad;
        uint256 sigmaHorizonWad;
        uint256 imrWad;
        uint256 targetMmrWad;
        uint256 effectiveMmrWad;
        uint256 impactPerMillionWad;
        uint256 checkpointAt;
    }

    // ------------------------------------------------------------------ events

    /// @notice A market was configured; its price state is seeded at `priceWad`.
    event MarketConfigured(bytes32 indexed marketId, MarketParams params, uint256 priceWad);
    event VolatilityParamsSet(
        bytes32 indexed marketId,
        uint24 volHalfLifeSec,
        uint24 liquidationHorizonSec,
        uint16 volMultiplierBps
    );
    event MarginParamsSet(
        bytes32 indexed marketId,
        uint16 baseImrBps,
        uint16 baseMmrBps,
        uint16 maintenanceFractionBps,
        uint16 maxMmrRisePerHourBps
    );
    /// @notice `impactPerMillionWad` is the resulting target slope, rounded up.
    event ImpactParamsSet(
        bytes32 indexed marketId,
        uint16 impactFactorBps,
        uint128 depthUsdWad,
        uint64 impactPerMillionWad
    );
    event SmoothingHalfLifeSet(bytes32 indexed marketId, uint24 smoothingHalfLifeSec);
    /// @notice The market now reads `oracleAsset`; its price state is re-seeded at `priceWad`.
    event OracleAssetSet(bytes32 indexed marketId, address indexed oracleAsset, uint256 priceWad);
    event HardFloorSet(uint16 hardFloorBps);

    // ------------------------------------------------------------------ errors

    /// @notice `marketId` has no configuration in this engine.
    error MarketNotConfigured(bytes32 marketId);
    /// @notice `marketId` is configured already; use the group setters.
    error MarketAlreadyConfigured(bytes32 marketId);
    /// @notice The maintenance floor must lie below the initial floor.
    error InvalidMarginParams(bytes32 marketId, uint256 baseImrBps, uint256 baseMmrBps);
    /// @notice The oracle cannot give a trusted, timestamped price for `asset` (when seeding a market).
    error OracleUnavailable(bytes32 marketId, address asset);
    /// @notice `priceWad` does not fit the engine's 96-bit price state (above ~7.9e10 USD).
    error PriceOutOfRange(bytes32 marketId, uint256 priceWad);

    // ------------------------------------------------------------------ admin (RISK_ADMIN)

    /// @notice Configures a new market and seeds its state from the oracle: price and smoothed
    /// price at the current oracle price, variance rate from `initialVolBps`. Role: RISK_ADMIN.
    function configureMarket(bytes32 marketId, MarketParams calldata params) external;

    /// @notice EWMA half-life, liquidation horizon and the σ multiplier `k`. Checkpoints the
    /// maintenance rate limit first, so a raise ramps. Role: RISK_ADMIN.
    function setVolatilityParams(
        bytes32 marketId,
        uint24 volHalfLifeSec,
        uint24 liquidationHorizonSec,
        uint16 volMultiplierBps
    ) external;

    /// @notice Margin floors, maintenance fraction and the maintenance rise limit. Checkpoints the
    /// rate limit first (under the old rise limit), so a raise ramps. Role: RISK_ADMIN.
    function setMarginParams(
        bytes32 marketId,
        uint16 baseImrBps,
        uint16 baseMmrBps,
        uint16 maintenanceFractionBps,
        uint16 maxMmrRisePerHourBps
    ) external;

    /// @notice Impact factor and venue depth. A higher slope (factor / depth) reaches maintenance
    /// through the rate limit; initial margin uses it at once. A raise made while an earlier
    /// raise is still ramping restarts that ramp from below: maintenance may fall then, never jump.
    /// Role: RISK_ADMIN.
    function setImpactParams(bytes32 marketId, uint16 impactFactorBps, uint128 depthUsdWad) external;

    /// @notice Half-life of the smoothed price. Role: RISK_ADMIN.
    function setSmoothingHalfLife(bytes32 marketId, uint24 smoothingHalfLifeSec) external;

    /// @notice Follows a change of the vault market's oracle asset: re-seeds the price and the
    /// smoothed price at the new asset's price; the variance estimate is kept. Role: RISK_ADMIN.
    function setOracleAsset(bytes32 marketId, address oracleAsset) external;

    /// @notice Fraction of MM below which an account is liquidatable at the oracle price alone
    /// (`hardFloorWad()` reports it in WAD). 10,000 switches the wick filter off. Role: RISK_ADMIN.
    function setHardFloor(uint16 hardFloorBps) external;

    // ------------------------------------------------------------------ keepers

    /// @notice Feeds the market's latest oracle observation into the EWMA and the smoothed price.
    /// Permissionless: the price is the router's validated `getPrice`, and only an observation
    /// whose primary-feed `updatedAt` is newer than the last accepted one (and not in the future)
    /// is accepted; an old one returns false without a state change. Nobody can inject a price or
    /// count an observation twice.
    /// @dev Reverts `MarketNotConfigured` for an unknown market, the router's error when its price
    /// cannot be trusted (stale, deviation, sequencer), and `PriceOutOfRange` for a price that does
    /// not fit 96 bits. Call it on every feed round: σ and the stored EMA are only as fresh as the
    /// last accepted observation (the `smoothedPrice` view bridges the gap for the wick filter).
    function updatePrice(bytes32 marketId) external returns (bool accepted);

    // ------------------------------------------------------------------ views

    /// @notice `marginRatios` as it would be at `timestamp` (≥ now) if no update or parameter
    /// change happened before: shows where the maintenance rate limit is heading.
    function marginRatiosAt(
        bytes32 marketId,
        uint256 notionalWad,
        uint256 timestamp
    ) external view returns (uint256 imrWad, uint256 mmrWad);

    /// @notice The market's risk state now. Reverts `MarketNotConfigured` for an unknown market.
    function riskState(bytes32 marketId) external view returns (RiskState memory);

    /// @notice The market's current parameters (`initialVolBps` as configured).
    function marketParams(bytes32 marketId) external view returns (MarketParams memory);

    /// @notice Whether `marketId` is configured.
    function isConfigured(bytes32 marketId) external view returns (bool);

    /// @notice The oracle router every price comes from.
    function oracle() external view returns (IOracleRouter);
}

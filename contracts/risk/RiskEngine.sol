// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../interfaces/IRiskEngine.sol";
import {IDynamicRiskEngine, IOracleRouterPrimary} from "../interfaces/IDynamicRiskEngine.sol";
import {Bounds} from "../libraries/Bounds.sol";

/// @title RiskEngine
/// @notice Dynamic margin policy: volatility-scaled initial margin, liquidity-aware maintenance
/// margin that rises at a bounded rate, and a smoothed price for the vault's wick filter.
/// See `IDynamicRiskEngine` and docs/risk-model.md for the model and its parameters.
/// @dev Per market, the maintenance ratio of a position of notional N at time t is
///   min( T + c·N,  a + c·N + ρ·(t − t_a),  b + d·N + ρ·(t − t_b) )   capped by its initial ratio,
/// where T is the volatility-driven base target, c the impact slope, ρ the rise limit per second,
/// (a, t_a) the base checkpoint written on every accepted update and parameter change, and
/// (b, d, t_b) the ramp line that carries a raise of the impact slope (d ≤ c). Every checkpoint
/// replaces the state by a representation that is nowhere above the ratio in force, so the
/// ratio of every position rises at most ρ per second between and across checkpoints.
contract RiskEngine is IDynamicRiskEngine, AccessControl {
    using FixedPointMathLib for uint256;

    // ------------------------------------------------------------------ constants

    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");

    uint24 public constant MIN_VOL_HALF_LIFE = 5 minutes;
    uint24 public constant MAX_VOL_HALF_LIFE = 30 days;
    uint24 public constant MIN_LIQUIDATION_HORIZON = 1 minutes;
    uint24 public constant MAX_LIQUIDATION_HORIZON = 7 days;
    /// @notice One L1 slot: a shorter smoothing half-life would not filter a one-block wick.
    uint24 public constant MIN_SMOOTHING_HALF_LIFE = 12;
    uint24 public constant MAX_SMOOTHING_HALF_LIFE = 1 hours;
    uint16 public constant MAX_VOL_MULTIPLIER_BPS = 60_000;
    uint32 public constant MIN_INITIAL_VOL_BPS = 100;
    uint32 public constant MAX_INITIAL_VOL_BPS = 100_000;
    /// @notice 100× is the most leverage any market may allow.
    uint16 public constant MIN_BASE_IMR_BPS = 100;
    uint16 public constant MAX_BASE_IMR_BPS = 10_000;
    uint16 public constant MIN_BASE_MMR_BPS = 50;
    uint16 public constant MAX_BASE_MMR_BPS = 5_000;
    /// @notice Keeps the volatility-driven maintenance target below initial margin.
    uint16 public constant MAX_MAINTENANCE_FRACTION_BPS = 9_000;
    uint16 public constant MIN_MMR_RISE_PER_HOUR_BPS = 1;
    uint16 public constant MAX_MMR_RISE_PER_HOUR_BPS = 1_000;
    uint16 public constant MAX_IMPACT_FACTOR_BPS = 10_000;
    uint128 public constant MIN_DEPTH_USD = 1e6 * 1e18;
    uint128 public constant MAX_DEPTH_USD = 1e12 * 1e18;
    uint16 public constant MIN_HARD_FLOOR_BPS = 1_000;
    uint16 public constant MAX_HARD_FLOOR_BPS = 10_000;

    uint256 internal constant WAD = 1e18;
    /// @dev 1 bp in WAD.
    uint256 internal constant BPS = 1e14;
    uint256 internal constant BPS_PER_ONE = 1e4;
    uint256 internal constant ONE_MILLION_USD = 1e24;
    uint256 internal constant SECONDS_PER_YEAR = 365 days;
    uint256 internal constant LN2_WAD = 693_147_180_559_945_309;
    /// @dev A larger notional (1e27 USD) is treated as this one, so that no product can overflow.
    uint256 internal constant MAX_NOTIONAL = 1e45;
    /// @dev The variance rate saturates here (σ ≈ 150,000% a year): initial margin is 100% long before.
    uint256 internal constant MAX_VARIANCE_RATE = type(uint56).max;

    // ------------------------------------------------------------------ immutables

    /// @inheritdoc IDynamicRiskEngine
    IOracleRouter public immutable oracle;

    // ------------------------------------------------------------------ storage

    // One market takes six slots, packed by access: `updatePrice` reads `oracle` and rewrites
    // `price` and `state`; `marginRatios` reads `state` and `impact` only.

    /// @dev Where prices come from.
    struct OracleConfig {
        address oracleAsset;
        uint24 volHalfLifeSec;
        uint24 smoothingHalfLifeSec;
    }

    /// @dev The last accepted observation (feed timestamp) and the EMA of the prices before it, at
    /// its time. Fills the word, so that writing it needs no read.
    struct PriceState {
        uint96 lastPriceWad;
        uint96 emaPriceWad;
        uint64 observedAt;
    }

    /// @dev The variance estimate, the base checkpoint (a, t_a) and every parameter the ratios need,
    /// in one word. `baseImrBps != 0` marks a configured market.
    struct MarginState {
        uint56 varianceRateWad;
        uint64 floorMmrWad;
        uint32 checkpointAt;
        uint16 baseImrBps;
        uint16 baseMmrBps;
        uint16 maintenanceFractionBps;
        uint16 volMultiplierBps;
        uint16 maxMmrRisePerHourBps;
        uint24 liquidationHorizonSec;
    }

    /// @dev The target impact slope c and the ramp line (b, d, t_b).
    struct ImpactState {
        uint64 impactPerMillionWad;
        uint64 rampImpactPerMillionWad;
        uint64 rampMmrWad;
        uint32 rampStartAt;
    }

    /// @dev Parameters kept for setters and views.
    struct ImpactConfig {
        uint16 impactFactorBps;
        uint128 depthUsdWad;
        uint32 initialVolBps;
    }

    struct Market {
        OracleConfig oracle;
        PriceState price;
        MarginState state;
        ImpactState impact;
        ImpactConfig impactConfig;
    }

    mapping(bytes32 marketId => Market) internal _markets;
    uint16 internal _hardFloorBps;

    // ------------------------------------------------------------------ constructor

    constructor(address admin, IOracleRouter oracle_, uint16 hardFloorBps_) {
        if (admin == address(0) || address(oracle_) == address(0)) revert ZeroAddress();
        Bounds.check("hardFloor", hardFloorBps_, MIN_HARD_FLOOR_BPS, MAX_HARD_FLOOR_BPS);
        oracle = oracle_;
        _hardFloorBps = hardFloorBps_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
        emit HardFloorSet(hardFloorBps_);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IDynamicRiskEngine
    function configureMarket(bytes32 marketId, MarketParams calldata params) external onlyRole(RISK_ADMIN_ROLE) {
        if (params.oracleAsset == address(0)) revert ZeroAddress();
        Market storage m = _markets[marketId];
        if (m.state.baseImrBps != 0) revert MarketAlreadyConfigured(marketId);
        _checkVolatilityParams(params.volHalfLifeSec, params.liquidationHorizonSec, params.volMultiplierBps);
        _checkSmoothingHalfLife(params.smoothingHalfLifeSec);
        _checkMarginParams(
            marketId,
            params.baseImrBps,
            params.baseMmrBps,
            params.maintenanceFractionBps,
            params.maxMmrRisePerHourBps
        );
        _checkImpactParams(params.impactFactorBps, params.depthUsdWad);
        Bounds.check("initialVol", params.initialVolBps, MIN_INITIAL_VOL_BPS, MAX_INITIAL_VOL_BPS);
        uint256 priceWad = _seedPrice(m, marketId, params.oracleAsset);
        m.oracle = OracleConfig(params.oracleAsset, params.volHalfLifeSec, params.smoothingHalfLifeSec);
        _seedMargin(m, params);
        emit MarketConfigured(marketId, params, priceWad);
    }

    /// @inheritdoc IDynamicRiskEngine
    function setVolatilityParams(
        bytes32 marketId,
        uint24 volHalfLifeSec,
        uint24 liquidationHorizonSec,
        uint16 volMultiplierBps
    ) external onlyRole(RISK_ADMIN_ROLE) {
        Market storage m = _configured(marketId);
        _checkVolatilityParams(volHalfLifeSec, liquidationHorizonSec, volMultiplierBps);
        MarginState memory ms = m.state;
        if (
            m.oracle.volHalfLifeSec == volHalfLifeSec &&
            ms.liquidationHorizonSec == liquidationHorizonSec &&
            ms.volMultiplierBps == volMultiplierBps
        ) revert NoChange();
        ms = _checkpoint(m);
        ms.liquidationHorizonSec = liquidationHorizonSec;
        ms.volMultiplierBps = volMultiplierBps;
        m.state = ms;
        m.oracle.volHalfLifeSec = volHalfLifeSec;
        emit VolatilityParamsSet(marketId, volHalfLifeSec, liquidationHorizonSec, volMultiplierBps);
    }

    /// @inheritdoc IDynamicRiskEngine
    function setMarginParams(
        bytes32 marketId,
        uint16 baseImrBps,
        uint16 baseMmrBps,
        uint16 maintenanceFractionBps,
        uint16 maxMmrRisePerHourBps
    ) external onlyRole(RISK_ADMIN_ROLE) {
        Market storage m = _configured(marketId);
        _checkMarginParams(marketId, baseImrBps, baseMmrBps, maintenanceFractionBps, maxMmrRisePerHourBps);
        MarginState memory ms = m.state;
        if (
            ms.baseImrBps == baseImrBps &&
            ms.baseMmrBps == baseMmrBps &&
            ms.maintenanceFractionBps == maintenanceFractionBps &&
            ms.maxMmrRisePerHourBps == maxMmrRisePerHourBps
        ) revert NoChange();
        // Checkpoint under the old parameters (and the old rise limit) before the new ones apply.
        ms = _checkpoint(m);
        ms.baseImrBps = baseImrBps;
        ms.baseMmrBps = baseMmrBps;
        ms.maintenanceFractionBps = maintenanceFractionBps;
        ms.maxMmrRisePerHourBps = maxMmrRisePerHourBps;
        m.state = ms;
        emit MarginParamsSet(marketId, baseImrBps, baseMmrBps, maintenanceFractionBps, maxMmrRisePerHourBps);
    }

    /// @inheritdoc IDynamicRiskEngine
    function setImpactParams(
        bytes32 marketId,
        uint16 impactFactorBps,
        uint128 depthUsdWad
    ) external onlyRole(RISK_ADMIN_ROLE) {
        Market storage m = _configured(marketId);
        _checkImpactParams(impactFactorBps, depthUsdWad);
        ImpactConfig memory ic = m.impactConfig;
        if (ic.impactFactorBps == impactFactorBps && ic.depthUsdWad == depthUsdWad) revert NoChange();
        MarginState memory ms = _checkpoint(m);
        m.state = ms;
        uint64 slope = _impactPerMillion(impactFactorBps, depthUsdWad);
        ImpactState memory im = m.impact;
        if (slope < im.impactPerMillionWad) {
            // A lower slope applies at once, to the ramp line too.
            if (im.rampImpactPerMillionWad > slope) im.rampImpactPerMillionWad = slope;
        } else if (slope > im.impactPerMillionWad) {
            // A higher slope ramps: the ramp line keeps the old slope (d ≤ c) and starts no higher
            // than the base checkpoint, so that it lies below the ratio in force for every notional.
            if (im.rampMmrWad > ms.floorMmrWad) im.rampMmrWad = ms.floorMmrWad;
        }
        im.impactPerMillionWad = slope;
        m.impact = im;
        m.impactConfig = ImpactConfig(impactFactorBps, depthUsdWad, ic.initialVolBps);
        emit ImpactParamsSet(marketId, impactFactorBps, depthUsdWad, slope);
    }

    /// @inheritdoc IDynamicRiskEngine
    function setSmoothingHalfLife(bytes32 marketId, uint24 smoothingHalfLifeSec) external onlyRole(RISK_ADMIN_ROLE) {
        Market storage m = _configured(marketId);
        _checkSmoothingHalfLife(smoothingHalfLifeSec);
        if (m.oracle.smoothingHalfLifeSec == smoothingHalfLifeSec) revert NoChange();
        m.oracle.smoothingHalfLifeSec = smoothingHalfLifeSec;
        emit SmoothingHalfLifeSet(marketId, smoothingHalfLifeSec);
    }

    /// @inheritdoc IDynamicRiskEngine
    function setOracleAsset(bytes32 marketId, address oracleAsset) external onlyRole(RISK_ADMIN_ROLE) {
        if (oracleAsset == address(0)) revert ZeroAddress();
        Market storage m = _configured(marketId);
        if (m.oracle.oracleAsset == oracleAsset) revert NoChange();
        uint256 priceWad = _seedPrice(m, marketId, oracleAsset);
        m.oracle.oracleAsset = oracleAsset;
        emit OracleAssetSet(marketId, oracleAsset, priceWad);
    }

    /// @inheritdoc IDynamicRiskEngine
    function setHardFloor(uint16 hardFloorBps) external onlyRole(RISK_ADMIN_ROLE) {
        Bounds.check("hardFloor", hardFloorBps, MIN_HARD_FLOOR_BPS, MAX_HARD_FLOOR_BPS);
        if (_hardFloorBps == hardFloorBps) revert NoChange();
        _hardFloorBps = hardFloorBps;
        emit HardFloorSet(hardFloorBps);
    }

    // ------------------------------------------------------------------ keepers

    /// @inheritdoc IDynamicRiskEngine
    function updatePrice(bytes32 marketId) external returns (bool accepted) {
        Market storage m = _markets[marketId];
        OracleConfig memory oc = m.oracle;
        if (oc.oracleAsset == address(0)) revert MarketNotConfigured(marketId);
        uint256 priceWad = oracle.getPrice(oc.oracleAsset);
        // The router just read this aggregator successfully, so its round data is there.
        (, , , uint256 observedAt, ) = IOracleRouterPrimary(address(oracle)).feedOf(oc.oracleAsset).latestRoundData();
        PriceState memory ps = m.price;
        // solhint-disable-next-line not-rely-on-time
        if (observedAt <= ps.observedAt || observedAt > block.timestamp) return false;
        if (priceWad > type(uint96).max) revert PriceOutOfRange(marketId, priceWad);
        uint256 dt;
        unchecked {
            dt = observedAt - ps.observedAt;
        }
        _rollVariance(m, _squaredLogReturn(ps.lastPriceWad, priceWad), dt, oc.volHalfLifeSec);
        // The EMA at the new observation's time, of the prices before it (the last one held for dt).
        uint256 emaWad = _decayToward(ps.lastPriceWad, ps.emaPriceWad, dt, oc.smoothingHalfLifeSec);
        m.price = PriceState(uint96(priceWad), uint96(emaWad), uint64(observedAt));
        // No event: it would cost 1.7k of the 60k budget. The observation is evented by its feed;
        // the engine's state after it is in `riskState`.
        return true;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRiskEngine
    function marginRatios(
        bytes32 marketId,
        uint256 notionalWad
    ) external view returns (uint256 imrWad, uint256 mmrWad) {
        // solhint-disable-next-line not-rely-on-time
        return _marginRatios(marketId, notionalWad, block.timestamp);
    }

    /// @inheritdoc IDynamicRiskEngine
    function marginRatiosAt(
        bytes32 marketId,
        uint256 notionalWad,
        uint256 timestamp
    ) external view returns (uint256 imrWad, uint256 mmrWad) {
        // solhint-disable-next-line not-rely-on-time
        return _marginRatios(marketId, notionalWad, timestamp > block.timestamp ? timestamp : block.timestamp);
    }

    /// @inheritdoc IRiskEngine
    /// @dev The stored EMA is rolled to the oracle's latest observation (the last accepted price
    /// held until then), then toward that observation's price for the time since:
    /// `p + (ema − p) · 2^(−elapsed / smoothingHalfLife)`. A price that just appeared therefore
    /// weighs little, however long nobody called `updatePrice`. When the oracle cannot be trusted,
    /// the EMA decays toward the last accepted price instead. 0 for an unconfigured market.
    function smoothedPrice(bytes32 marketId) external view returns (uint256 priceWad) {
        Market storage m = _markets[marketId];
        if (m.oracle.oracleAsset == address(0)) return 0;
        return _smoothedNow(m);
    }

    /// @inheritdoc IRiskEngine
    function hardFloorWad() external view returns (uint256) {
        return _hardFloorBps * BPS;
    }

    /// @inheritdoc IDynamicRiskEngine
    function riskState(bytes32 marketId) external view returns (RiskState memory s) {
        Market storage m = _configured(marketId);
        PriceState memory ps = m.price;
        MarginState memory ms = m.state;
        s.lastPriceWad = ps.lastPriceWad;
        s.observedAt = ps.observedAt;
        s.smoothedPriceWad = _smoothedNow(m);
        s.varianceRateWad = ms.varianceRateWad;
        s.sigmaAnnualWad = _sigma(ms.varianceRateWad, SECONDS_PER_YEAR);
        s.sigmaHorizonWad = _sigma(ms.varianceRateWad, ms.liquidationHorizonSec);
        s.imrWad = _imr(ms.varianceRateWad, ms);
        s.targetMmrWad = _targetMmr(s.imrWad, ms);
        // solhint-disable-next-line not-rely-on-time
        s.effectiveMmrWad = _baseMmrAt(ms, block.timestamp);
        s.impactPerMillionWad = m.impact.impactPerMillionWad;
        s.checkpointAt = ms.checkpointAt;
    }

    /// @inheritdoc IDynamicRiskEngine
    function marketParams(bytes32 marketId) external view returns (MarketParams memory p) {
        Market storage m = _configured(marketId);
        OracleConfig memory oc = m.oracle;
        MarginState memory ms = m.state;
        ImpactConfig memory ic = m.impactConfig;
        p.oracleAsset = oc.oracleAsset;
        p.volHalfLifeSec = oc.volHalfLifeSec;
        p.liquidationHorizonSec = ms.liquidationHorizonSec;
        p.smoothingHalfLifeSec = oc.smoothingHalfLifeSec;
        p.volMultiplierBps = ms.volMultiplierBps;
        p.initialVolBps = ic.initialVolBps;
        p.baseImrBps = ms.baseImrBps;
        p.baseMmrBps = ms.baseMmrBps;
        p.maintenanceFractionBps = ms.maintenanceFractionBps;
        p.maxMmrRisePerHourBps = ms.maxMmrRisePerHourBps;
        p.impactFactorBps = ic.impactFactorBps;
        p.depthUsdWad = ic.depthUsdWad;
    }

    /// @inheritdoc IDynamicRiskEngine
    function isConfigured(bytes32 marketId) external view returns (bool) {
        return _markets[marketId].state.baseImrBps != 0;
    }

    // ------------------------------------------------------------------ internal: state changes

    /// @dev Reads and stores a seed observation of `asset` as the market's price and smoothed price.
    function _seedPrice(Market storage m, bytes32 marketId, address asset) internal returns (uint256 priceWad) {
        uint256 observedAt;
        (priceWad, observedAt) = _observe(asset);
        if (observedAt == 0) revert OracleUnavailable(marketId, asset);
        if (priceWad > type(uint96).max) revert PriceOutOfRange(marketId, priceWad);
        // solhint-disable-next-line not-rely-on-time
        if (observedAt > block.timestamp) observedAt = block.timestamp;
        m.price = PriceState(uint96(priceWad), uint96(priceWad), uint64(observedAt));
    }

    /// @dev Seeds the variance from the initial volatility and starts the rate limit at the target.
    function _seedMargin(Market storage m, MarketParams calldata params) internal {
        uint256 volWad = uint256(params.initialVolBps) * BPS;
        MarginState memory ms = MarginState({
            varianceRateWad: uint56((volWad * volWad) / WAD / SECONDS_PER_YEAR),
            floorMmrWad: 0,
            // solhint-disable-next-line not-rely-on-time
            checkpointAt: uint32(block.timestamp),
            baseImrBps: params.baseImrBps,
            baseMmrBps: params.baseMmrBps,
            maintenanceFractionBps: params.maintenanceFractionBps,
            volMultiplierBps: params.volMultiplierBps,
            maxMmrRisePerHourBps: params.maxMmrRisePerHourBps,
            liquidationHorizonSec: params.liquidationHorizonSec
        });
        ms.floorMmrWad = uint64(_targetMmr(_imr(ms.varianceRateWad, ms), ms));
        m.state = ms;
        uint64 slope = _impactPerMillion(params.impactFactorBps, params.depthUsdWad);
        m.impact = ImpactState(slope, slope, ms.floorMmrWad, ms.checkpointAt);
        m.impactConfig = ImpactConfig(params.impactFactorBps, params.depthUsdWad, params.initialVolBps);
    }

    /// @dev Checkpoints the base rate limit under the variance in force until now, then folds the
    /// new squared return into the EWMA: v ← λ·v + (1 − λ)·r²/dt with λ = 2^(−dt/halfLife).
    function _rollVariance(Market storage m, uint256 squaredReturnWad, uint256 dt, uint256 halfLifeSec) internal {
        MarginState memory ms = m.state;
        // solhint-disable-next-line not-rely-on-time
        uint256 floorMmrWad = _baseMmrAt(ms, block.timestamp);
        uint256 keep = _halfLifeDecay(dt, halfLifeSec);
        uint256 varianceRateWad;
        // keep ≤ 1e18, varianceRate < 2^56, r² < 2^72 (|r| < 67 for 96-bit prices), dt ≥ 1.
        unchecked {
            varianceRateWad = (keep * ms.varianceRateWad + ((WAD - keep) * squaredReturnWad) / dt) / WAD;
        }
        if (varianceRateWad > MAX_VARIANCE_RATE) varianceRateWad = MAX_VARIANCE_RATE;
        // Only the three moving fields are written (one SSTORE once the optimizer merges them).
        MarginState storage st = m.state;
        st.varianceRateWad = uint56(varianceRateWad);
        st.floorMmrWad = uint64(floorMmrWad);
        // solhint-disable-next-line not-rely-on-time
        st.checkpointAt = uint32(block.timestamp);
    }

    /// @dev Advances both rate-limit lines to now (the ratios in force), stores the ramp line and
    /// returns the margin word with the base checkpoint moved, for the caller to change and store.
    /// Called before every parameter change that moves a maintenance ratio.
    function _checkpoint(Market storage m) internal returns (MarginState memory ms) {
        ms = m.state;
        ImpactState memory im = m.impact;
        // solhint-disable-next-line not-rely-on-time
        uint256 rampMmr = im.rampMmrWad + _rise(ms.maxMmrRisePerHourBps, im.rampStartAt, block.timestamp);
        im.rampMmrWad = uint64(rampMmr < WAD ? rampMmr : WAD);
        // solhint-disable-next-line not-rely-on-time
        im.rampStartAt = uint32(block.timestamp);
        m.impact = im;
        // solhint-disable-next-line not-rely-on-time
        ms.floorMmrWad = uint64(_baseMmrAt(ms, block.timestamp));
        // solhint-disable-next-line not-rely-on-time
        ms.checkpointAt = uint32(block.timestamp);
    }

    // ------------------------------------------------------------------ internal: views

    function _configured(bytes32 marketId) internal view returns (Market storage m) {
        m = _markets[marketId];
        if (m.state.baseImrBps == 0) revert MarketNotConfigured(marketId);
    }

    /// @dev The oracle's price of `asset` and the primary feed's `updatedAt`; (0, 0) when the
    /// router reports any problem or the feed cannot be read. Never reverts.
    function _observe(address asset) internal view returns (uint256 priceWad, uint256 observedAt) {
        (uint256 p, IOracleRouter.OracleStatus status) = oracle.tryGetPrice(asset);
        if (status != IOracleRouter.OracleStatus.Ok) return (0, 0);
        try IOracleRouterPrimary(address(oracle)).feedOf(asset).latestRoundData() returns (
            uint80,
            int256,
            uint256,
            uint256 updatedAt,
            uint80
        ) {
            return (p, updatedAt);
        } catch {
            return (0, 0);
        }
    }

    function _smoothedNow(Market storage m) internal view returns (uint256) {
        OracleConfig memory oc = m.oracle;
        (uint256 priceWad, uint256 observedAt) = _observe(oc.oracleAsset);
        PriceState memory ps = m.price;
        uint256 emaWad = ps.emaPriceWad;
        uint256 lastWad = ps.lastPriceWad;
        uint256 since = ps.observedAt;
        if (observedAt > since && priceWad <= type(uint96).max) {
            // solhint-disable-next-line not-rely-on-time
            if (observedAt > block.timestamp) observedAt = block.timestamp;
            emaWad = _decayToward(lastWad, emaWad, observedAt - since, oc.smoothingHalfLifeSec);
            (lastWad, since) = (priceWad, observedAt);
        }
        // solhint-disable-next-line not-rely-on-time
        uint256 elapsed = block.timestamp > since ? block.timestamp - since : 0;
        return _decayToward(lastWad, emaWad, elapsed, oc.smoothingHalfLifeSec);
    }

    /// @dev Initial and maintenance ratio of a position of `notionalWad` at time `at` (≥ every
    /// checkpoint). Rounded up; `mmrWad ≤ imrWad ≤ 1`.
    function _marginRatios(
        bytes32 marketId,
        uint256 notionalWad,
        uint256 at
    ) internal view returns (uint256 imrWad, uint256 mmrWad) {
        Market storage m = _markets[marketId];
        MarginState memory ms = m.state;
        if (ms.baseImrBps == 0) revert MarketNotConfigured(marketId);
        uint256 marketImr = _imr(ms.varianceRateWad, ms);
        uint256 baseMmr = FixedPointMathLib.min(
            _targetMmr(marketImr, ms),
            ms.floorMmrWad + _rise(ms.maxMmrRisePerHourBps, ms.checkpointAt, at)
        );
        if (notionalWad > MAX_NOTIONAL) notionalWad = MAX_NOTIONAL;
        ImpactState memory im = m.impact;
        uint256 impact = notionalWad.mulDivUp(im.impactPerMillionWad, ONE_MILLION_USD);
        uint256 ramp =
            im.rampMmrWad +
                _rise(ms.maxMmrRisePerHourBps, im.rampStartAt, at) +
                notionalWad.mulDivUp(im.rampImpactPerMillionWad, ONE_MILLION_USD);
        imrWad = FixedPointMathLib.min(marketImr + impact, WAD);
        mmrWad = FixedPointMathLib.min(FixedPointMathLib.min(baseMmr + impact, ramp), imrWad);
    }

    /// @dev Base maintenance ratio in force at `at`: the target, or the checkpoint plus the rise
    /// allowed since, whichever is lower.
    function _baseMmrAt(MarginState memory ms, uint256 at) internal pure returns (uint256) {
        uint256 target = _targetMmr(_imr(ms.varianceRateWad, ms), ms);
        uint256 ramped = ms.floorMmrWad + _rise(ms.maxMmrRisePerHourBps, ms.checkpointAt, at);
        return target < ramped ? target : ramped;
    }

    /// @dev imr = min(1, max(baseImr, k × σ_horizon)), rounded up. In calm markets (k·σ ≤ baseImr,
    /// compared squared) no square root is taken.
    function _imr(uint256 varianceRateWad, MarginState memory ms) internal pure returns (uint256) {
        uint256 horizonVarianceWad;
        uint256 k = ms.volMultiplierBps;
        uint256 baseImr = ms.baseImrBps;
        // varianceRate < 2^56 and horizon < 2^24, so k² × σ² < 2^112.
        unchecked {
            horizonVarianceWad = varianceRateWad * ms.liquidationHorizonSec;
            if (k * k * horizonVarianceWad <= baseImr * baseImr * WAD) return baseImr * BPS;
        }
        // σ is rounded down, so just above the threshold k × σ may land a few wei under the floor.
        uint256 imrWad = FixedPointMathLib.max(horizonVarianceWad.sqrtWad().mulDivUp(k, BPS_PER_ONE), baseImr * BPS);
        return imrWad < WAD ? imrWad : WAD;
    }

    /// @dev Base maintenance target = max(baseMmr, maintenanceFraction × imr) ≤ imr.
    function _targetMmr(uint256 imrWad, MarginState memory ms) internal pure returns (uint256) {
        uint256 targetWad = imrWad.mulDivUp(ms.maintenanceFractionBps, BPS_PER_ONE);
        uint256 floorWad = uint256(ms.baseMmrBps) * BPS;
        return targetWad > floorWad ? targetWad : floorWad;
    }

    /// @dev σ over `periodSec` = sqrt(varianceRate × period), WAD, rounded down.
    function _sigma(uint256 varianceRateWad, uint256 periodSec) internal pure returns (uint256) {
        return (varianceRateWad * periodSec).sqrtWad();
    }

    /// @dev Rise allowed from `since` to `at` at `perHourBps`, WAD, rounded down.
    function _rise(uint256 perHourBps, uint256 since, uint256 at) internal pure returns (uint256) {
        if (at <= since) return 0;
        // Only `marginRatiosAt` lets a caller pick `at`: beyond 2^32 s the rise saturates at 100%.
        if (at - since > type(uint32).max) return WAD;
        // perHourBps < 2^16 and at − since < 2^32.
        unchecked {
            return (perHourBps * BPS * (at - since)) / 1 hours;
        }
    }

    /// @dev r² for r = ln(priceWad / prevWad), WAD.
    function _squaredLogReturn(uint256 prevWad, uint256 priceWad) internal pure returns (uint256) {
        uint256 ratioWad = priceWad.divWad(prevWad);
        if (ratioWad == 0) ratioWad = 1;
        int256 r = FixedPointMathLib.lnWad(int256(ratioWad));
        // |r| < 67e18 for 96-bit prices.
        unchecked {
            return uint256(r * r) / WAD;
        }
    }

    /// @dev `from` moved toward `target`, keeping 2^(−elapsed/halfLife) of the gap (rounded toward target).
    function _decayToward(
        uint256 target,
        uint256 from,
        uint256 elapsed,
        uint256 halfLifeSec
    ) internal pure returns (uint256) {
        if (from == target || elapsed == 0) return from;
        uint256 keep = _halfLifeDecay(elapsed, halfLifeSec);
        // Both prices fit 96 bits and keep ≤ 1e18; the result lies between them.
        unchecked {
            return from > target ? target + ((from - target) * keep) / WAD : target - ((target - from) * keep) / WAD;
        }
    }

    /// @dev 2^(−elapsed/halfLife) = exp(−elapsed·ln2/halfLife), WAD.
    function _halfLifeDecay(uint256 elapsed, uint256 halfLifeSec) internal pure returns (uint256) {
        // Elapsed times are differences of 32-bit timestamps; halfLife ≥ 12 s.
        unchecked {
            return uint256(FixedPointMathLib.expWad(-int256((elapsed * LN2_WAD) / halfLifeSec)));
        }
    }

    /// @dev Impact slope: ratio added per $1M of notional = factor × 1e6 USD / depth, WAD, rounded up.
    function _impactPerMillion(uint16 impactFactorBps, uint128 depthUsdWad) internal pure returns (uint64) {
        return uint64((uint256(impactFactorBps) * BPS).mulDivUp(ONE_MILLION_USD, depthUsdWad));
    }

    // ------------------------------------------------------------------ internal: checks

    function _checkVolatilityParams(
        uint24 volHalfLifeSec,
        uint24 liquidationHorizonSec,
        uint16 volMultiplierBps
    ) internal pure {
        Bounds.check("volHalfLife", volHalfLifeSec, MIN_VOL_HALF_LIFE, MAX_VOL_HALF_LIFE);
        Bounds.check("liquidationHorizon", liquidationHorizonSec, MIN_LIQUIDATION_HORIZON, MAX_LIQUIDATION_HORIZON);
        Bounds.check("volMultiplier", volMultiplierBps, 0, MAX_VOL_MULTIPLIER_BPS);
    }

    function _checkSmoothingHalfLife(uint24 smoothingHalfLifeSec) internal pure {
        Bounds.check("smoothingHalfLife", smoothingHalfLifeSec, MIN_SMOOTHING_HALF_LIFE, MAX_SMOOTHING_HALF_LIFE);
    }

    function _checkMarginParams(
        bytes32 marketId,
        uint16 baseImrBps,
        uint16 baseMmrBps,
        uint16 maintenanceFractionBps,
        uint16 maxMmrRisePerHourBps
    ) internal pure {
        Bounds.check("baseImr", baseImrBps, MIN_BASE_IMR_BPS, MAX_BASE_IMR_BPS);
        Bounds.check("baseMmr", baseMmrBps, MIN_BASE_MMR_BPS, MAX_BASE_MMR_BPS);
        if (baseMmrBps >= baseImrBps) revert InvalidMarginParams(marketId, baseImrBps, baseMmrBps);
        Bounds.check("maintenanceFraction", maintenanceFractionBps, 0, MAX_MAINTENANCE_FRACTION_BPS);
        Bounds.check("maxMmrRisePerHour", maxMmrRisePerHourBps, MIN_MMR_RISE_PER_HOUR_BPS, MAX_MMR_RISE_PER_HOUR_BPS);
    }

    function _checkImpactParams(uint16 impactFactorBps, uint128 depthUsdWad) internal pure {
        Bounds.check("impactFactor", impactFactorBps, 0, MAX_IMPACT_FACTOR_BPS);
        Bounds.check("depthUsd", depthUsdWad, MIN_DEPTH_USD, MAX_DEPTH_USD);
    }
}

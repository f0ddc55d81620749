// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../interfaces/IRiskEngine.sol";
import {VaultTypes} from "./vault/VaultTypes.sol";
import {Fills} from "./vault/Fills.sol";
import {Bounds} from "./Bounds.sol";
import {IBulwarkErrors} from "../interfaces/IBulwarkErrors.sol";

/// @title VaultAdmin
/// @notice Listing and parameter setters of `PerpVault`, with their hard bounds, linked as an
/// external library to keep the vault under the code-size limit. Every setter checks its bounds,
/// rejects a no-op and emits the vault's event.
library VaultAdmin {
    /// @notice Markets are tracked in a 64-bit mask per account.
    uint256 public constant MAX_MARKETS = 64;
    /// @notice Collateral assets (quote included) are tracked in a 32-bit mask per account.
    uint256 public constant MAX_COLLATERALS = 32;
    uint64 public constant MAX_FEE = 0.01e18; // 1% of notional
    uint64 public constant MAX_FUNDING_VELOCITY = 10e18; // 1000%/day per day
    uint64 public constant MIN_OI_POOL_RATIO = 0.01e18;
    uint64 public constant MAX_OI_POOL_RATIO = 10e18;
    uint128 public constant MIN_SKEW_SCALE = 1e18; // base units
    uint128 public constant MAX_SKEW_SCALE = 1e30;
    uint64 public constant MAX_COLLATERAL_WEIGHT = 0.95e18;

    function listMarket(
        bytes32[] storage marketIds,
        mapping(bytes32 => uint256) storage marketIndexPlusOne,
        mapping(uint256 => VaultTypes.Market) storage markets,
        IOracleRouter oracle,
        IRiskEngine engine,
        bytes32 marketId,
        IPerpVault.MarketParams calldata params
    ) external {
        if (marketIndexPlusOne[marketId] != 0) revert IPerpVault.MarketAlreadyListed(marketId);
        uint256 index = marketIds.length;
        if (index >= MAX_MARKETS) revert IPerpVault.TooManyMarkets(MAX_MARKETS);
        checkMarketParams(params);
        // Both must answer for the market to be usable: fail at listing rather than at the first trade.
        oracle.getPrice(params.oracleAsset);
        engine.marginRatios(marketId, 0);
        marketIds.push(marketId);
        marketIndexPlusOne[marketId] = index + 1;
        VaultTypes.Market storage m = markets[index];
        m.params = params;
        m.id = marketId;
        // solhint-disable-next-line not-rely-on-time
        m.state.lastFundingTime = uint48(block.timestamp);
        emit IPerpVault.MarketListed(marketId, uint8(index), params);
    }

    function setMarketParams(
        VaultTypes.Market storage m,
        IOracleRouter oracle,
        bytes32 marketId,
        IPerpVault.MarketParams calldata params
    ) external {
        checkMarketParams(params);
        IPerpVault.MarketParams memory old = m.params;
        if (keccak256(abi.encode(old)) == keccak256(abi.encode(params))) revert IBulwarkErrors.NoChange();
        if (params.oracleAsset != old.oracleAsset) oracle.getPrice(params.oracleAsset);
        // Accrue funding under the old parameters before the new ones apply.
        IPerpVault.MarketState memory st = m.state;
        Fills.accrueFunding(old, st, oracle.getPrice(old.oracleAsset));
        m.state.fundingIndexWad = st.fundingIndexWad;
        m.state.fundingRateWad = st.fundingRateWad;
        m.state.lastFundingTime = st.lastFundingTime;
        m.params = params;
        emit IPerpVault.MarketParamsSet(marketId, params);
    }

    function listCollateral(
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(address => uint256) storage collateralIndexPlusOne,
        IOracleRouter oracle,
        address token,
        uint64 weightWad,
        uint128 capWad
    ) external {
        if (token == address(0)) revert IBulwarkErrors.ZeroAddress();
        if (collateralIndexPlusOne[token] != 0) revert IPerpVault.CollateralAlreadyListed(token);
        uint256 index = collaterals.length;
        if (index >= MAX_COLLATERALS) revert IPerpVault.TooManyCollaterals(MAX_COLLATERALS);
        checkCollateralParams(weightWad, capWad);
        uint8 decimals = IERC20Metadata(token).decimals();
        if (decimals > 18) revert IPerpVault.UnsupportedDecimals(token, decimals);
        oracle.getPrice(token);
        collaterals.push(
            IPerpVault.CollateralConfig({
                token: token,
                weightWad: weightWad,
                decimals: decimals,
                index: uint8(index),
                capWad: capWad,
                totalDepositedWad: 0
            })
        );
        collateralIndexPlusOne[token] = index + 1;
        emit IPerpVault.CollateralListed(token, uint8(index), weightWad, capWad);
    }

    function setCollateralParams(
        IPerpVault.CollateralConfig storage cfg,
        address token,
        uint64 weightWad,
        uint128 capWad
    ) external {
        checkCollateralParams(weightWad, capWad);
        if (cfg.weightWad == weightWad && cfg.capWad == capWad) revert IBulwarkErrors.NoChange();
        cfg.weightWad = weightWad;
        cfg.capWad = capWad;
        emit IPerpVault.CollateralParamsSet(token, weightWad, capWad);
    }

    function checkMarketParams(IPerpVault.MarketParams calldata p) internal pure {
        if (p.oracleAsset == address(0)) revert IBulwarkErrors.ZeroAddress();
        Bounds.check("makerFee", p.makerFeeWad, 0, MAX_FEE);
        Bounds.check("takerFee", p.takerFeeWad, 0, MAX_FEE);
        Bounds.check("maxFundingVelocity", p.maxFundingVelocityWad, 0, MAX_FUNDING_VELOCITY);
        Bounds.check("maxOiPoolRatio", p.maxOiPoolRatioWad, MIN_OI_POOL_RATIO, MAX_OI_POOL_RATIO);
        Bounds.check("skewScale", p.skewScaleWad, MIN_SKEW_SCALE, MAX_SKEW_SCALE);
    }

    function checkCollateralParams(uint64 weightWad, uint128 capWad) internal pure {
        Bounds.check("collateralWeight", weightWad, 1, MAX_COLLATERAL_WEIGHT);
        Bounds.check("collateralCap", capWad, 1, type(uint128).max);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV3Pool} from "@uniswap/v3-core/contracts/interfaces/IUniswapV3Pool.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IAuctionHouse} from "../interfaces/IAuctionHouse.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";

/// @title SimLens
/// @notice Batch views for the cascade laboratory (sim/engine): one `eth_call` answers, for a whole
/// population, what would otherwise take one call per account per block.
/// @dev Simulation only; stateless. Every per-account read is isolated: an account whose view
/// reverts (e.g. a stale oracle) is reported, not fatal.
contract SimLens {
    /// @notice `scan` code: the account is healthy.
    uint8 public constant HEALTHY = 0;
    /// @notice `scan` code: already in liquidation (a running auction); a kick would revert.
    uint8 public constant IN_LIQUIDATION = 3;
    /// @notice `scan` code: the vault's view reverted.
    uint8 public constant VIEW_FAILED = 255;

    /// @notice Margin of one account at given prices.
    /// @param ok False when a view reverted (the other fields are then zero).
    /// @param equityWad Equity at the given prices (the vault's equity, re-marked).
    /// @param maintenanceWad Maintenance margin at the given prices.
    /// @param equityOracleWad The vault's equity at oracle prices.
    /// @param maintenanceOracleWad The vault's maintenance margin at oracle prices.
    struct Margin {
        bool ok;
        int256 equityWad;
        uint256 maintenanceWad;
        int256 equityOracleWad;
        uint256 maintenanceOracleWad;
    }

    /// @notice Block-level state the engine records every block, and what its keepers read before
    /// the next one: each market's remaining auction capacity and breaker level.
    struct BlockState {
        uint160[] sqrtPricesX96;
        uint256 insuranceWad;
        uint256 poolValueWad;
        int256 poolBalanceWad;
        uint256[] capacityWad;
        uint8[] levels;
    }

    /// @notice What the engine needs to model an account's health between scans: its equity and
    /// maintenance margin at oracle prices, its position size in each of `markets` and its balance
    /// of each of `tokens` (WAD).
    struct Exposure {
        bool ok;
        int256 equityOracleWad;
        uint256 maintenanceOracleWad;
        int256[] sizesWad;
        uint256[] collateralWad;
    }

    /// @notice Arrays of different lengths.
    error LengthMismatch(uint256 a, uint256 b);

    /// @notice Liquidation status of each account: `HEALTHY`, a `LiquidationReason` (1, 2),
    /// `IN_LIQUIDATION` or `VIEW_FAILED`.
    function scan(IPerpVault vault, address[] calldata accounts) external view returns (uint8[] memory codes) {
        codes = new uint8[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            if (vault.isInLiquidation(accounts[i])) {
                codes[i] = IN_LIQUIDATION;
                continue;
            }
            try vault.isLiquidatable(accounts[i]) returns (bool liquidatable, IPerpVault.LiquidationReason reason) {
                codes[i] = liquidatable ? uint8(reason) : HEALTHY;
            } catch {
                codes[i] = VIEW_FAILED;
            }
        }
    }

    /// @notice Equity and maintenance margin of each account re-marked at `pricesWad` (one per
    /// asset in `assets`; other assets stay at the oracle). Equity is the vault's own figure
    /// (funding and fees included) moved by Σ size × Δprice and Σ collateral × weight × Δprice;
    /// maintenance is Σ |size| × price × mmr(notional) from the vault's risk engine plus the
    /// liquidation buffer.
    function marginsAt(
        IPerpVault vault,
        address[] calldata accounts,
        address[] calldata assets,
        uint256[] calldata pricesWad
    ) external view returns (Margin[] memory out) {
        if (assets.length != pricesWad.length) revert LengthMismatch(assets.length, pricesWad.length);
        out = new Margin[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            try this.marginAt(vault, accounts[i], assets, pricesWad) returns (Margin memory m) {
                out[i] = m;
            } catch {
                out[i].ok = false;
            }
        }
    }

    /// @notice `marginsAt` for one account; reverts when a view does.
    function marginAt(
        IPerpVault vault,
        address account,
        address[] calldata assets,
        uint256[] calldata pricesWad
    ) external view returns (Margin memory m) {
        IPerpVault.AccountHealth memory h = vault.accountHealth(account);
        IOracleRouter oracle = vault.oracle();
        m.ok = true;
        m.equityOracleWad = h.equityWad;
        m.maintenanceOracleWad = h.maintenanceMarginWad;
        int256 equity = h.equityWad;
        uint256 maintenance;
        bytes32[] memory markets = vault.accountMarkets(account);
        for (uint256 j; j < markets.length; ++j) {
            int256 size = vault.getPosition(account, markets[j]).sizeWad;
            address asset = vault.marketParams(markets[j]).oracleAsset;
            uint256 po = oracle.getPrice(asset);
            uint256 pf = _priceOf(asset, assets, pricesWad, po);
            equity += (size * (int256(pf) - int256(po))) / 1e18;
            uint256 notional = (uint256(size >= 0 ? size : -size) * pf) / 1e18;
            (, uint256 mmr) = vault.riskEngine().marginRatios(markets[j], notional);
            maintenance += (notional * mmr) / 1e18;
        }
        if (markets.length != 0) maintenance += vault.liquidationBufferWad();
        address[] memory tokens = vault.collateralTokens();
        for (uint256 j = 1; j < tokens.length; ++j) {
            uint256 balance = vault.collateralBalance(account, tokens[j]);
            if (balance == 0) continue;
            uint256 po = oracle.getPrice(tokens[j]);
            uint256 pf = _priceOf(tokens[j], assets, pricesWad, po);
            uint256 weight = vault.collateralConfig(tokens[j]).weightWad;
            equity += (int256((balance * weight) / 1e18) * (int256(pf) - int256(po))) / 1e18;
        }
        m.equityWad = equity;
        m.maintenanceWad = maintenance;
    }

    /// @notice `Exposure` of each account; an account whose views revert comes back with `ok` false.
    function exposures(
        IPerpVault vault,
        address[] calldata accounts,
        bytes32[] calldata markets,
        address[] calldata tokens
    ) external view returns (Exposure[] memory out) {
        out = new Exposure[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            Exposure memory e = out[i];
            e.sizesWad = new int256[](markets.length);
            e.collateralWad = new uint256[](tokens.length);
            try vault.accountHealth(accounts[i]) returns (IPerpVault.AccountHealth memory h) {
                e.ok = true;
                e.equityOracleWad = h.equityWad;
                e.maintenanceOracleWad = h.maintenanceMarginWad;
            } catch {
                continue;
            }
            for (uint256 j; j < markets.length; ++j) e.sizesWad[j] = vault.getPosition(accounts[i], markets[j]).sizeWad;
            for (uint256 j; j < tokens.length; ++j)
                e.collateralWad[j] = vault.collateralBalance(accounts[i], tokens[j]);
        }
    }

    /// @notice Venue prices, insurance balance, pool value, and per market (`markets`) the auction
    /// throttle's available capacity and the breaker's effective level, in one call.
    function blockState(
        IPerpVault vault,
        IUniswapV3Pool[] calldata pools,
        IAuctionHouse auction,
        ICircuitBreaker breaker,
        bytes32[] calldata markets
    ) external view returns (BlockState memory s) {
        s.sqrtPricesX96 = new uint160[](pools.length);
        for (uint256 i; i < pools.length; ++i) (s.sqrtPricesX96[i], , , , , , ) = pools[i].slot0();
        s.insuranceWad = vault.insuranceBalance();
        s.poolValueWad = vault.poolValue();
        s.poolBalanceWad = vault.poolBalance();
        s.capacityWad = new uint256[](markets.length);
        s.levels = new uint8[](markets.length);
        for (uint256 i; i < markets.length; ++i) {
            s.capacityWad[i] = auction.availableCapacity(markets[i]);
            s.levels[i] = breaker.level(markets[i]);
        }
    }

    function _priceOf(
        address asset,
        address[] calldata assets,
        uint256[] calldata pricesWad,
        uint256 fallbackWad
    ) internal pure returns (uint256) {
        for (uint256 k; k < assets.length; ++k) if (assets[k] == asset) return pricesWad[k];
        return fallbackWad;
    }
}

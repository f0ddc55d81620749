// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../interfaces/IRiskEngine.sol";
import {VaultTypes} from "./vault/VaultTypes.sol";
import {Fills} from "./vault/Fills.sol";
import {Liquidation} from "./vault/Liquidation.sol";
import {Margin} from "./vault/Margin.sol";

/// @title VaultLogic
/// @notice The one linked library of `PerpVault`'s hot paths: each external function here is an
/// entry into one domain library (`Fills`: fills and funding; `Liquidation`: slices; `Margin`:
/// health, liquidatability and pool value). The domains are internal libraries linked into this
/// single deployment, so that the vault stays under the 24,576-byte limit and a trade or a
/// liquidation pays one cold DELEGATECALL target (2,600 gas) rather than one per domain
/// (docs/architecture.md, "Where things live"). It reads the vault's storage by reference.
library VaultLogic {
    /// @notice `Fills.executeTrade` in market `index` for the account whose records are given.
    function executeTrade(
        VaultTypes.Market storage m,
        mapping(uint256 => IPerpVault.Position) storage positions,
        VaultTypes.AccountData storage acct,
        IOracleRouter oracle,
        bytes32 marketId,
        uint256 index,
        int256 delta,
        uint256 acceptablePriceWad,
        int256 poolBalanceWad
    ) external returns (VaultTypes.TradeResult memory) {
        return
            Fills.executeTrade(m, positions, acct, oracle, marketId, index, delta, acceptablePriceWad, poolBalanceWad);
    }

    /// @notice `Liquidation.liquidateSlice`.
    function liquidateSlice(
        VaultTypes.Market storage m,
        mapping(address => VaultTypes.AccountData) storage accounts,
        mapping(address => mapping(uint256 => IPerpVault.Position)) storage positions,
        IOracleRouter oracle,
        Liquidation.Slice memory s
    ) external returns (int256 realizedPnl, uint256 fillPriceWad, uint256 oraclePrice, int256 poolDelta) {
        return Liquidation.liquidateSlice(m, accounts, positions, oracle, s);
    }

    /// @notice `Margin.check`: liquidatable, why, and the health at the oracle price.
    function liquidationCheck(
        mapping(uint256 => VaultTypes.Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        VaultTypes.HealthInputs memory inp
    ) external view returns (bool, IPerpVault.LiquidationReason, IPerpVault.AccountHealth memory) {
        IPerpVault.PositionSnapshot memory none;
        return Margin.check(markets, positions, collaterals, collateralBalances, inp, none, false);
    }

    /// @notice `Margin.check` with the kick's target (the largest position by notional).
    function kickCheck(
        mapping(uint256 => VaultTypes.Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        VaultTypes.HealthInputs memory inp
    )
        external
        view
        returns (bool liquidatable, IPerpVault.AccountHealth memory h, IPerpVault.PositionSnapshot memory target)
    {
        (liquidatable, , h) = Margin.check(markets, positions, collaterals, collateralBalances, inp, target, true);
    }

    /// @notice `Margin.healthOf`: equity and requirements of one account.
    function health(
        mapping(uint256 => VaultTypes.Market) storage markets,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IPerpVault.CollateralConfig[] storage collaterals,
        mapping(uint256 => uint256) storage collateralBalances,
        VaultTypes.HealthInputs memory inp
    ) external view returns (IPerpVault.AccountHealth memory) {
        IPerpVault.PositionSnapshot memory none;
        return Margin.healthOf(markets, positions, collaterals, collateralBalances, inp, none, false);
    }

    /// @notice `Margin.positionSnapshots`.
    function positionSnapshots(
        mapping(uint256 => VaultTypes.Market) storage markets,
        bytes32[] storage marketIds,
        mapping(uint256 => IPerpVault.Position) storage positions,
        IOracleRouter oracle,
        IRiskEngine engine,
        uint256 positionMask
    ) external view returns (IPerpVault.PositionSnapshot[] memory) {
        return Margin.positionSnapshots(markets, marketIds, positions, oracle, engine, positionMask);
    }

    /// @notice `Margin.poolValueAndReserve`.
    function poolValueAndReserve(
        mapping(uint256 => VaultTypes.Market) storage markets,
        uint256 marketCount,
        IOracleRouter oracle,
        int256 poolBalanceWad,
        uint256 reserveRatioWad
    ) external view returns (int256 value, uint256 reserved) {
        return Margin.poolValueAndReserve(markets, marketCount, oracle, poolBalanceWad, reserveRatioWad);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPerpVault} from "../../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../../interfaces/IRiskEngine.sol";

/// @title VaultTypes
/// @notice The storage records and call records `PerpVault` shares with its domain libraries
/// (`Margin`, `Fills`, `Liquidation`) and their linked facade `VaultLogic`.
library VaultTypes {
    /// @dev One slot per account: quote balance, the masks of open markets and held collateral, and
    /// how many liquidations hold it (a counter: nested holds release one at a time).
    struct AccountData {
        int128 quoteBalanceWad;
        uint64 positionMask;
        uint32 collateralMask;
        uint8 liquidations;
    }

    struct FillOutcome {
        int256 newSize;
        int256 newEntry;
        int256 realizedPnl;
        int256 fundingPaid;
        bool increasesRisk;
    }

    /// @dev `id` repeats the market's entry in the vault's `_marketIds` so that a health check or a
    /// liquidation by index reads it in one slot (the array also reads its length slot).
    struct Market {
        IPerpVault.MarketParams params;
        IPerpVault.MarketState state;
        bytes32 id;
    }

    /// @dev What a health check needs besides storage references.
    struct HealthInputs {
        IOracleRouter oracle;
        IRiskEngine engine;
        uint256 liquidationBufferWad;
        int256 quoteBalanceWad;
        uint256 positionMask;
        uint256 collateralMask;
        bool smoothed;
        // A market whose id and oracle price the caller already holds (a trade just read them);
        // `hintIndex` = type(uint256).max for none. Saves a cold id read and a repeated oracle call.
        uint256 hintIndex;
        bytes32 hintMarketId;
        uint256 hintPriceWad;
    }

    /// @dev A trader's fill: what `PerpVault.trade` books and emits.
    struct TradeResult {
        uint256 fillPriceWad;
        uint256 feeWad;
        int256 realizedPnlWad;
        int256 fundingPaidWad;
        int256 newSizeWad;
        uint256 oraclePriceWad;
        bool increasesRisk;
    }
}

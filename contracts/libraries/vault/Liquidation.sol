// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {IPerpVault} from "../../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../../interfaces/IOracleRouter.sol";
import {SignedWad} from "../SignedWad.sol";
import {Fills} from "./Fills.sol";
import {VaultTypes} from "./VaultTypes.sol";

/// @title Liquidation
/// @notice The liquidation domain of the vault: moving a slice of a liquidated position (or of the
/// pool's own exposure) to a bidder or to the pool, at a set price or at the oracle × a factor.
/// Internal: linked into the vault through `VaultLogic`; the vault checks the receiver's margin,
/// books the pool's ledger and emits.
library Liquidation {
    using SignedWad for int256;
    using FixedPointMathLib for uint256;

    /// @dev Where a slice goes and at what price.
    struct Slice {
        address account; // the liquidated account; address(0): the pool sells its own exposure
        address to; // the receiver; address(0): the pool absorbs the slice
        uint256 index;
        bytes32 marketId;
        int256 sliceWad; // the account's size change (−size direction)
        uint256 priceWad; // a set price, or 0 for oracle × priceFactorWad
        uint256 priceFactorWad;
    }

    /// @notice Checks the slice, fills both sides at the slice's price and returns the account's
    /// realised PnL, the fill price, the oracle price and what the pool's ledger gains.
    /// @dev Oracle-relative prices round for the account: up when it sells (a long slice), down
    /// when it buys back (a short slice).
    function liquidateSlice(
        VaultTypes.Market storage m,
        mapping(address => VaultTypes.AccountData) storage accounts,
        mapping(address => mapping(uint256 => IPerpVault.Position)) storage positions,
        IOracleRouter oracle,
        Slice memory s
    ) internal returns (int256 realizedPnl, uint256 fillPriceWad, uint256 oraclePrice, int256 poolDelta) {
        if (s.to == s.account) revert IPerpVault.SelfTransfer(s.account);
        // `account` zero: the pool sells `to` a slice of its own exposure (an auction of a lot it
        // took over at the kick); the auction house bounds the slice by the lot.
        int256 size = s.account == address(0) ? -s.sliceWad : positions[s.account][s.index].sizeWad;
        if (s.sliceWad == 0 || (size > 0) == (s.sliceWad > 0) || s.sliceWad.abs() > size.abs()) {
            revert IPerpVault.InvalidLiquidationSlice(s.account, s.marketId, size, s.sliceWad);
        }
        IPerpVault.MarketParams memory params = m.params;
        oraclePrice = oracle.getPrice(params.oracleAsset);
        if (s.priceWad != 0) fillPriceWad = s.priceWad;
        else {
            fillPriceWad =
                s.sliceWad < 0 ? oraclePrice.mulWadUp(s.priceFactorWad) : oraclePrice.mulWad(s.priceFactorWad);
        }
        IPerpVault.MarketState memory st = m.state;
        Fills.accrueFunding(params, st, oraclePrice);
        if (s.account != address(0)) {
            VaultTypes.FillOutcome memory o = Fills.applyFill(
                positions[s.account],
                accounts[s.account],
                s.index,
                s.sliceWad,
                fillPriceWad,
                st
            );
            realizedPnl = o.realizedPnl;
            poolDelta = o.fundingPaid - o.realizedPnl;
        }
        if (s.to != address(0)) {
            if (accounts[s.to].liquidations != 0) revert IPerpVault.AccountInLiquidation(s.to);
            VaultTypes.FillOutcome memory c = Fills.applyFill(
                positions[s.to],
                accounts[s.to],
                s.index,
                -s.sliceWad,
                fillPriceWad,
                st
            );
            poolDelta += c.fundingPaid - c.realizedPnl;
        }
        m.state = st;
    }
}

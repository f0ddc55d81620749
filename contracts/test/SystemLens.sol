// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @title SystemLens
/// @notice Test helper: every total the system invariants compare, in one `eth_call`.
contract SystemLens {
    struct Totals {
        /// @dev Per collateral index (0 = quote): the vault's token balance in WAD.
        uint256[] heldWad;
        /// @dev Per collateral index: Σ account balances (+ pool + insurance for the quote token).
        int256[] owedWad;
        /// @dev Per collateral index: the vault's `totalDepositedWad` (0 for the quote token).
        uint256[] depositedWad;
        /// @dev Per market: Σ long sizes and Σ |short sizes| over `accounts`, and the stored totals.
        uint256[] sumLongWad;
        uint256[] sumShortWad;
        uint256[] oiLongWad;
        uint256[] oiShortWad;
    }

    function totals(IPerpVault vault, address[] calldata accounts) external view returns (Totals memory t) {
        address[] memory tokens = vault.collateralTokens();
        uint256 n = tokens.length;
        t.heldWad = new uint256[](n);
        t.owedWad = new int256[](n);
        t.depositedWad = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            IPerpVault.CollateralConfig memory cfg = vault.collateralConfig(tokens[i]);
            t.heldWad[i] = IERC20(tokens[i]).balanceOf(address(vault)) * 10 ** (18 - cfg.decimals);
            int256 owed;
            for (uint256 k; k < accounts.length; ++k) {
                owed +=
                    i == 0 ? vault.quoteBalance(accounts[k]) : int256(vault.collateralBalance(accounts[k], tokens[i]));
            }
            if (i == 0) owed += vault.poolBalance() + int256(vault.insuranceBalance());
            t.owedWad[i] = owed;
            t.depositedWad[i] = cfg.totalDepositedWad;
        }
        bytes32[] memory markets = vault.marketIds();
        uint256 m = markets.length;
        t.sumLongWad = new uint256[](m);
        t.sumShortWad = new uint256[](m);
        t.oiLongWad = new uint256[](m);
        t.oiShortWad = new uint256[](m);
        for (uint256 j; j < m; ++j) {
            for (uint256 k; k < accounts.length; ++k) {
                int256 size = vault.getPosition(accounts[k], markets[j]).sizeWad;
                if (size > 0) t.sumLongWad[j] += uint256(size);
                else t.sumShortWad[j] += uint256(-size);
            }
            IPerpVault.MarketState memory st = vault.marketState(markets[j]);
            t.oiLongWad[j] = st.oiLongWad;
            t.oiShortWad[j] = st.oiShortWad;
        }
    }
}

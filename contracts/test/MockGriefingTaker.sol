// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAuctionHouse, IAuctionTaker} from "../interfaces/IAuctionHouse.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @title MockGriefingTaker
/// @notice A bidder contract (its own receiver) whose take callback misbehaves: it reverts, burns
/// gas, or pulls its quote out of the vault before the auction house charges it (Maker's `BadGuy`).
contract MockGriefingTaker is IAuctionTaker {
    using SafeERC20 for IERC20;

    enum Mode {
        None,
        Revert,
        BurnGas,
        WithdrawQuote
    }

    IAuctionHouse public immutable auctionHouse;
    IPerpVault public immutable vault;
    Mode public mode;
    uint256 public burned;

    error Griefed(uint256 auctionId);

    constructor(IAuctionHouse auctionHouse_, IPerpVault vault_) {
        auctionHouse = auctionHouse_;
        vault = vault_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Deposits `amount` of `token` (held by this contract) into its vault account.
    function depositToVault(address token, uint256 amount) external {
        IERC20(token).forceApprove(address(vault), amount);
        vault.deposit(token, amount);
    }

    /// @notice Takes as the bidder, with this contract as the receiver (callback when `data` is set).
    function bid(uint256 id, uint256 amount, uint256 priceLimitWad, bytes calldata data) external {
        auctionHouse.take(id, amount, priceLimitWad, address(this), data);
    }

    /// @inheritdoc IAuctionTaker
    function onAuctionTake(address, uint256 auctionId, uint256, uint256, bytes calldata) external {
        Mode m = mode;
        if (m == Mode.Revert) revert Griefed(auctionId);
        if (m == Mode.BurnGas) {
            // Burn whatever the caller sent, short of running out: the griefer pays for it.
            uint256 n;
            while (gasleft() > 200_000) {
                n += 1;
                burned = n;
            }
        } else if (m == Mode.WithdrawQuote) {
            address quote = vault.quoteToken();
            int256 balance = vault.quoteBalance(address(this));
            uint256 scale = 10 ** (18 - IERC20Metadata(quote).decimals());
            if (balance > 0 && uint256(balance) >= scale) vault.withdraw(quote, uint256(balance) / scale);
        }
    }
}

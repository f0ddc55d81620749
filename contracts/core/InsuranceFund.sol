// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @title InsuranceFund
/// @notice See `IInsuranceFund`. The quote itself stays in `PerpVault`.
contract InsuranceFund is IInsuranceFund, AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Upper bound on the target: $10 billion.
    uint256 public constant MAX_TARGET_BALANCE = 1e28;

    IPerpVault public immutable vault;
    uint256 internal immutable QUOTE_SCALE;

    uint256 public targetBalanceWad;

    constructor(address admin, IPerpVault vault_) {
        if (admin == address(0) || address(vault_) == address(0)) revert ZeroAddress();
        vault = vault_;
        QUOTE_SCALE = 10 ** (18 - IERC20Metadata(vault_.quoteToken()).decimals());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IInsuranceFund
    function setTargetBalance(uint256 targetBalanceWad_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (targetBalanceWad_ > MAX_TARGET_BALANCE) revert TargetOutOfBounds(targetBalanceWad_, MAX_TARGET_BALANCE);
        if (targetBalanceWad_ == targetBalanceWad) revert NoChange();
        targetBalanceWad = targetBalanceWad_;
        emit TargetBalanceSet(targetBalanceWad_);
    }

    /// @inheritdoc IInsuranceFund
    function withdrawSurplus(uint256 amount, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = vault.insuranceBalance();
        uint256 surplus = balance > targetBalanceWad ? balance - targetBalanceWad : 0;
        uint256 amountWad = amount * QUOTE_SCALE;
        if (amountWad > surplus) revert ExceedsSurplus(amountWad, surplus);
        vault.insuranceWithdraw(amount, to);
        emit SurplusWithdrawn(to, amount);
    }

    /// @inheritdoc IInsuranceFund
    function sweepToken(address token, uint256 amount, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert ZeroAddress();
        if (token == vault.quoteToken()) revert CannotSweepQuote(token);
        IERC20(token).safeTransfer(to, amount);
        emit TokenSwept(token, to, amount);
    }

    /// @inheritdoc IInsuranceFund
    function balanceWad() external view returns (uint256) {
        return vault.insuranceBalance();
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {IPerpVault} from "./IPerpVault.sol";

/// @title IInsuranceFund
/// @notice Owner of the insurance ledger in `PerpVault`. It is funded by liquidation penalties and
/// a share of trading fees, and pays shortfalls before LPs do. Anyone may add to it through
/// `PerpVault.fundInsurance`. Governance may withdraw only the surplus above `targetBalanceWad`.
interface IInsuranceFund is IBulwarkErrors {
    event TargetBalanceSet(uint256 targetBalanceWad);
    event SurplusWithdrawn(address indexed to, uint256 amount);
    event TokenSwept(address indexed token, address indexed to, uint256 amount);

    error TargetOutOfBounds(uint256 targetBalanceWad, uint256 max);
    /// @notice A withdrawal of `requestedWad` exceeds the surplus above the target.
    error ExceedsSurplus(uint256 requestedWad, uint256 surplusWad);
    /// @notice The quote token lives on the vault's ledger: use `withdrawSurplus`.
    error CannotSweepQuote(address token);

    function vault() external view returns (IPerpVault);

    /// @notice Quote (WAD) held for the fund in the vault.
    function balanceWad() external view returns (uint256);

    /// @notice Balance the fund keeps before any surplus may be withdrawn.
    function targetBalanceWad() external view returns (uint256);

    /// @notice Sets the target balance. Role: DEFAULT_ADMIN (a timelock in production).
    function setTargetBalance(uint256 targetBalanceWad) external;

    /// @notice Withdraws `amount` quote tokens (token units) of surplus to `to`. Role: DEFAULT_ADMIN.
    function withdrawSurplus(uint256 amount, address to) external;

    /// @notice Sends collateral the fund bought at a backstop (held by this contract as tokens) to
    /// `to`, e.g. a desk that sells it. Never the quote token. Role: DEFAULT_ADMIN.
    function sweepToken(address token, uint256 amount, address to) external;
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IPerpVault} from "./IPerpVault.sol";

/// @title ILiquidityPool
/// @notice ERC-4626 vault on the quote token whose LPs are the counterparty of every trade.
/// @dev Deposited quote is held by `PerpVault` on the pool's ledger. `totalAssets` is the pool's
/// value there: realised balance, minus traders' unrealised PnL, plus unsettled funding, rounded
/// down. Withdrawals are limited to free liquidity: what is not reserved to back open interest.
/// Share inflation is blunted with OpenZeppelin's virtual shares (`_decimalsOffset`), and
/// donations cannot move `totalAssets` because it reads the vault's ledger, not a token balance.
interface ILiquidityPool is IERC4626, IBulwarkErrors {
    /// @notice The quote token delivered `received` to the vault instead of `expected`.
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    /// @notice The pool's asset is not the vault's quote token.
    error AssetMismatch(address asset, address quoteToken);

    /// @notice The vault that holds the pool's quote and is its counterparty ledger.
    function vault() external view returns (IPerpVault);
}

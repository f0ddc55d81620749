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
///
/// Exits queue in stress (ERC-7540-style request and claim). While any market's breaker is at
/// caution or above, or for `EXIT_QUEUE_SEC` after the pool last took a position over from an
/// account, `withdraw` and `redeem` revert `ExitQueued` (and `maxWithdraw`/`maxRedeem` are 0):
/// an LP asks with `requestRedeem`, which escrows the shares (they keep sharing gains and losses),
/// and claims `EXIT_QUEUE_SEC` later with `claimRedeem`, at the share price of the claim, after
/// the shortfalls of the takeovers before it were booked. So an LP cannot leave at a share price
/// that still holds a loss the protocol already knows is coming.
interface ILiquidityPool is IERC4626, IBulwarkErrors {
    /// @notice The quote token delivered `received` to the vault instead of `expected`.
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    /// @notice The pool's asset is not the vault's quote token.
    error AssetMismatch(address asset, address quoteToken);

    /// @notice A redeem request: `shares` escrowed in the pool for `owner`, paid to `receiver` from
    /// `claimableAt` (unix seconds) at the share price of the claim.
    struct RedeemRequest {
        address owner;
        uint64 claimableAt;
        address receiver;
        uint128 shares;
    }

    event RedeemRequested(
        uint256 indexed requestId,
        address indexed owner,
        address receiver,
        uint256 shares,
        uint256 claimableAt
    );
    event RedeemClaimed(uint256 indexed requestId, address indexed receiver, uint256 shares, uint256 assets);
    event RedeemCancelled(uint256 indexed requestId, address indexed owner, uint256 shares);

    /// @notice Exits queue now: the highest breaker level is `level` (≥ 1), or the pool took a
    /// position over until `until` − `EXIT_QUEUE_SEC`. Use `requestRedeem`.
    error ExitQueued(uint256 level, uint256 until);
    error ZeroShares();
    error UnknownRequest(uint256 requestId);
    /// @notice Only the request's owner may claim or cancel it.
    error NotRequestOwner(uint256 requestId, address caller);
    /// @notice The request is claimable from `claimableAt`.
    error RequestNotClaimable(uint256 requestId, uint256 claimableAt);

    /// @notice Escrows `shares` of `owner` (the caller, or an owner that approved it) for a
    /// redemption to `receiver`, claimable `EXIT_QUEUE_SEC` from now. Allowed at any breaker level.
    /// @return requestId The request, for `claimRedeem` and `cancelRedeem`.
    function requestRedeem(uint256 shares, address receiver, address owner) external returns (uint256 requestId);

    /// @notice Burns a claimable request's shares at the current share price (`previewRedeem`,
    /// rounded down) and pays `receiver`. The owner only. Reverts where a withdrawal would: no free
    /// liquidity, or an LP-withdraw pause (`BreakerActive`); the request then stays.
    /// @return assets Quote token units paid.
    function claimRedeem(uint256 requestId) external returns (uint256 assets);

    /// @notice Returns a request's escrowed shares to its owner (the owner only).
    function cancelRedeem(uint256 requestId) external;

    /// @notice A request (all zero once claimed or cancelled).
    function redeemRequest(uint256 requestId) external view returns (RedeemRequest memory);

    /// @notice Whether exits queue now, and until when at least (0 when only the breaker holds them).
    function exitsQueued() external view returns (bool queued, uint256 level, uint256 until);

    /// @notice The vault that holds the pool's quote and is its counterparty ledger.
    function vault() external view returns (IPerpVault);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";
import {IAuctionHouse, IAuctionTaker} from "./IAuctionHouse.sol";
import {IPerpVault} from "./IPerpVault.sol";

/// @title IUniswapFlashTaker
/// @notice Takes `AuctionHouse` collateral lots with no capital of its own: the auction house
/// delivers the collateral, the `onAuctionTake` callback sells all of it for the quote token on a
/// Uniswap v3 pool (SwapRouter `exactInputSingle`) and deposits the proceeds into this contract's
/// own `PerpVault` account, from which the auction house then charges `owedWad`. The profit
/// (proceeds − owed) stays in that vault account until the owner calls `withdrawProfit`.
/// @dev Access: `flashTake` and `withdrawProfit` are owner-only. The profit accrues to this
/// contract's account and the swap has no price bound of its own (its only bound is
/// `owed + minProfit`), so only the owner chooses when, how much and through which pool to take.
/// `onAuctionTake` accepts only the auction house, and only while this contract's own
/// `flashTake` of that auction is in flight; any other call reverts.
///
/// Solvency: a take whose proceeds (in quote WAD, i.e. quote token units × scale) fall short of
/// `owedWad + minProfitWad` reverts with `InsufficientProceeds`, so a take never consumes profit
/// accumulated by earlier takes.
///
/// Caveats: the swap can be sandwiched; `minProfitWad` (and `priceLimitWad` on the auction price)
/// bound what a sandwich can extract. Another bidder can front-run the take: it then reverts in the
/// auction house (e.g. `AuctionNotRunning`, `DustRemainder`) and costs only gas. Any balance of the
/// collateral token this contract already holds (e.g. tokens sent to it) is sold with the lot.
/// Position lots are not supported (`NotCollateralLot`).
interface IUniswapFlashTaker is IAuctionTaker, IBulwarkErrors {
    /// @notice A flash take settled.
    /// @param auctionId The auction.
    /// @param token The collateral sold on Uniswap.
    /// @param collateralIn Collateral sold (token units).
    /// @param proceedsWad Quote received from the swap and deposited into the vault (WAD).
    /// @param owedWad Quote the auction house charged for the lot (WAD).
    /// @param profitWad `proceedsWad − owedWad`, left in this contract's vault account.
    event FlashTaken(
        uint256 indexed auctionId,
        address indexed token,
        uint256 collateralIn,
        uint256 proceedsWad,
        uint256 owedWad,
        uint256 profitWad
    );

    /// @notice The owner withdrew `amount` (token units) of `token` from the vault account to `to`.
    event ProfitWithdrawn(address indexed token, uint256 amount, address indexed to);

    /// @notice `onAuctionTake` called by `caller`, which is not the auction house.
    error NotAuctionHouse(address caller);
    /// @notice `onAuctionTake` called outside this contract's own flash take of `auctionId`
    /// (another bidder named this contract as its receiver, or no flash take is in flight).
    error UnexpectedCallback(address bidder, uint256 auctionId);
    /// @notice `auctionId` does not denote a collateral lot.
    error NotCollateralLot(uint256 auctionId);
    /// @notice The swap raised `proceedsWad`, less than owed + minimum profit (`requiredWad`).
    error InsufficientProceeds(uint256 auctionId, uint256 proceedsWad, uint256 requiredWad);

    /// @notice Takes up to `amount` (collateral WAD) of collateral auction `auctionId` at no more
    /// than `priceLimitWad` per unit, sells what it receives on the Uniswap v3 pool of fee tier
    /// `poolFee` (collateral → quote token), pays the auction from the proceeds and keeps at least
    /// `minProfitWad` (quote WAD) in this contract's vault account. Owner only.
    /// @dev The auction house may sell less than `amount` (the remaining lot, or just what covers
    /// the tab). Reverts with the auction house's errors (`PriceLimitExceeded`, `DustRemainder`,
    /// `AuctionNotRunning`, `AuctionNeedsRedo`...) or `InsufficientProceeds`.
    function flashTake(
        uint256 auctionId,
        uint256 amount,
        uint256 priceLimitWad,
        uint24 poolFee,
        uint256 minProfitWad
    ) external;

    /// @notice Withdraws `amount` (token units) of `token` from this contract's vault account to
    /// `to`. Owner only.
    function withdrawProfit(address token, uint256 amount, address to) external;

    /// @notice The auction house whose collateral lots this contract takes.
    function auctionHouse() external view returns (IAuctionHouse);

    /// @notice The vault holding this contract's account (the auction house's vault).
    function vault() external view returns (IPerpVault);

    /// @notice The Uniswap v3 SwapRouter used to sell collateral.
    function swapRouter() external view returns (ISwapRouter);

    /// @notice The vault's quote token, what collateral is sold for.
    function quoteToken() external view returns (address);
}

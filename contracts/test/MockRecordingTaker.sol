// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAuctionTaker} from "../interfaces/IAuctionHouse.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @notice A flash-take receiver that records the arguments of `onAuctionTake`, who called it, and
/// what the bidder and the receiver held at that moment (to prove the lot is delivered before the
/// bidder pays). Optionally funds the bidder's vault account from its own quote tokens during the
/// callback, as a bidder selling the lot on a DEX would. Never deploy outside tests.
contract MockRecordingTaker is IAuctionTaker {
    IPerpVault public immutable vault;
    /// @notice Token whose balance of this contract is recorded (the collateral being sold).
    IERC20 public immutable watchedToken;
    /// @notice Market whose position of the bidder is recorded (the position being sold).
    bytes32 public immutable watchedMarket;

    uint256 public calls;
    address public lastCaller;
    address public lastBidder;
    uint256 public lastAuctionId;
    uint256 public lastAmount;
    uint256 public lastOwedWad;
    bytes public lastData;
    /// @notice The bidder's vault quote balance during the callback.
    int256 public bidderQuoteDuringCall;
    /// @notice The bidder's position in `watchedMarket` during the callback.
    int256 public bidderPositionDuringCall;
    /// @notice This contract's balance of `watchedToken` during the callback.
    uint256 public tokenBalanceDuringCall;
    /// @notice Quote tokens (token units) deposited for the bidder during the callback.
    uint256 public fundAmount;

    constructor(IPerpVault vault_, IERC20 watchedToken_, bytes32 watchedMarket_) {
        vault = vault_;
        watchedToken = watchedToken_;
        watchedMarket = watchedMarket_;
    }

    /// @notice Deposits `amount` quote tokens for the bidder in the next callbacks (0 to stop).
    function setFunding(uint256 amount) external {
        fundAmount = amount;
        IERC20(vault.quoteToken()).approve(address(vault), type(uint256).max);
    }

    /// @inheritdoc IAuctionTaker
    function onAuctionTake(
        address bidder,
        uint256 auctionId,
        uint256 amount,
        uint256 owedWad,
        bytes calldata data
    ) external {
        calls += 1;
        lastCaller = msg.sender;
        lastBidder = bidder;
        lastAuctionId = auctionId;
        lastAmount = amount;
        lastOwedWad = owedWad;
        lastData = data;
        bidderQuoteDuringCall = vault.quoteBalance(bidder);
        bidderPositionDuringCall = vault.getPosition(bidder, watchedMarket).sizeWad;
        tokenBalanceDuringCall = watchedToken.balanceOf(address(this));
        if (fundAmount != 0) vault.depositFor(bidder, vault.quoteToken(), fundAmount);
    }
}

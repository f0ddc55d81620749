// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";
import {IAuctionHouse, IAuctionTaker} from "../interfaces/IAuctionHouse.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IUniswapFlashTaker} from "../interfaces/IUniswapFlashTaker.sol";

/// @title UniswapFlashTaker
/// @notice Flash-takes `AuctionHouse` collateral lots against a Uniswap v3 pool. See `IUniswapFlashTaker`.
contract UniswapFlashTaker is IUniswapFlashTaker, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc IUniswapFlashTaker
    IAuctionHouse public immutable auctionHouse;
    /// @inheritdoc IUniswapFlashTaker
    IPerpVault public immutable vault;
    /// @inheritdoc IUniswapFlashTaker
    ISwapRouter public immutable swapRouter;
    /// @inheritdoc IUniswapFlashTaker
    address public immutable quoteToken;
    /// @dev Quote token units → WAD.
    uint256 internal immutable QUOTE_SCALE;

    /// @dev The auction this contract's `flashTake` is taking right now; 0 outside one.
    uint256 private transient _pendingAuctionId;

    constructor(
        address owner_,
        IAuctionHouse auctionHouse_,
        IPerpVault vault_,
        ISwapRouter swapRouter_
    ) Ownable(owner_) {
        if (address(auctionHouse_) == address(0) || address(vault_) == address(0) || address(swapRouter_) == address(0))
            revert ZeroAddress();
        auctionHouse = auctionHouse_;
        vault = vault_;
        swapRouter = swapRouter_;
        quoteToken = vault_.quoteToken();
        QUOTE_SCALE = 10 ** (18 - IERC20Metadata(quoteToken).decimals());
    }

    // ------------------------------------------------------------------ owner

    /// @inheritdoc IUniswapFlashTaker
    function flashTake(
        uint256 auctionId,
        uint256 amount,
        uint256 priceLimitWad,
        uint24 poolFee,
        uint256 minProfitWad
    ) external onlyOwner nonReentrant {
        address token = _collateralOf(auctionId);
        _pendingAuctionId = auctionId;
        auctionHouse.take(auctionId, amount, priceLimitWad, address(this), abi.encode(token, poolFee, minProfitWad));
        _pendingAuctionId = 0;
    }

    /// @inheritdoc IUniswapFlashTaker
    function withdrawProfit(address token, uint256 amount, address to) external onlyOwner nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        vault.withdraw(token, amount);
        IERC20(token).safeTransfer(to, amount);
        emit ProfitWithdrawn(token, amount, to);
    }

    // ------------------------------------------------------------------ auction callback

    /// @inheritdoc IAuctionTaker
    /// @dev Sells this contract's whole balance of the collateral token, checks the proceeds cover
    /// `owedWad + minProfitWad`, and deposits them into this contract's vault account.
    function onAuctionTake(address bidder, uint256 auctionId, uint256, uint256 owedWad, bytes calldata data) external {
        if (msg.sender != address(auctionHouse)) revert NotAuctionHouse(msg.sender);
        if (bidder != address(this) || auctionId == 0 || auctionId != _pendingAuctionId) {
            revert UnexpectedCallback(bidder, auctionId);
        }
        (address token, uint24 poolFee, uint256 minProfitWad) = abi.decode(data, (address, uint24, uint256));
        uint256 collateralIn = IERC20(token).balanceOf(address(this));
        IERC20(token).forceApprove(address(swapRouter), collateralIn);
        uint256 proceeds = swapRouter.exactInputSingle(
            ISwapRouter.ExactInputSingleParams({
                tokenIn: token,
                tokenOut: quoteToken,
                fee: poolFee,
                recipient: address(this),
                deadline: block.timestamp,
                amountIn: collateralIn,
                amountOutMinimum: 0, // bounded below by the proceeds check
                sqrtPriceLimitX96: 0
            })
        );
        uint256 proceedsWad = proceeds * QUOTE_SCALE;
        uint256 requiredWad = owedWad + minProfitWad;
        if (proceedsWad < requiredWad) revert InsufficientProceeds(auctionId, proceedsWad, requiredWad);
        if (proceeds != 0) {
            IERC20(quoteToken).forceApprove(address(vault), proceeds);
            vault.deposit(quoteToken, proceeds);
        }
        emit FlashTaken(auctionId, token, collateralIn, proceedsWad, owedWad, proceedsWad - owedWad);
    }

    // ------------------------------------------------------------------ internal

    /// @dev The collateral token of a collateral-lot id (account << 16 | kind << 8 | index).
    function _collateralOf(uint256 auctionId) internal view returns (address) {
        uint256 index = uint8(auctionId);
        if (uint8(auctionId >> 8) != uint8(IAuctionHouse.LotKind.Collateral) || index == 0) {
            revert NotCollateralLot(auctionId);
        }
        address[] memory tokens = vault.collateralTokens();
        if (index >= tokens.length) revert NotCollateralLot(auctionId);
        return tokens[index];
    }
}

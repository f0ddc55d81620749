// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILiquidityPool} from "../interfaces/ILiquidityPool.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {BreakerState, BreakerAction} from "../libraries/BreakerState.sol";

/// @title LiquidityPool
/// @notice See `ILiquidityPool`.
contract LiquidityPool is ILiquidityPool, ERC4626, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Virtual-share offset against the first-depositor inflation attack: an attacker must
    /// donate 10^6 times what they hope to steal.
    uint8 public constant DECIMALS_OFFSET = 6;

    /// @notice How long exits queue after the pool last took a position over, and how long a
    /// request waits before it can be claimed.
    uint256 public constant EXIT_QUEUE_SEC = 1 hours;

    IPerpVault public immutable vault;
    uint256 internal immutable QUOTE_SCALE;

    mapping(uint256 requestId => RedeemRequest) internal _requests;
    uint256 public lastRequestId;

    constructor(
        IERC20Metadata asset_,
        IPerpVault vault_,
        string memory name_,
        string memory symbol_
    ) ERC20(name_, symbol_) ERC4626(asset_) {
        if (address(vault_) == address(0)) revert ZeroAddress();
        if (address(asset_) != vault_.quoteToken()) revert AssetMismatch(address(asset_), vault_.quoteToken());
        vault = vault_;
        QUOTE_SCALE = 10 ** (18 - asset_.decimals());
    }

    /// @notice The pool's value in the vault, in quote token units, rounded down.
    function totalAssets() public view override(ERC4626, IERC4626) returns (uint256) {
        return vault.poolValue() / QUOTE_SCALE;
    }

    /// @notice Limited by the free liquidity not reserved for open interest; 0 while exits queue.
    function maxWithdraw(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        (bool queued, , ) = exitsQueued();
        return queued ? 0 : _openMaxWithdraw(owner);
    }

    /// @notice Limited by the free liquidity not reserved for open interest; 0 while exits queue.
    function maxRedeem(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        (bool queued, , ) = exitsQueued();
        return queued ? 0 : _openMaxRedeem(owner);
    }

    function deposit(
        uint256 assets,
        address receiver
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256) {
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override(ERC4626, IERC4626) nonReentrant returns (uint256) {
        return super.mint(shares, receiver);
    }

    function withdraw(
        uint256 assets,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256) {
        // ERC4626.withdraw with the exit gate read once (its maxWithdraw would read it again).
        _requireExitsOpen();
        uint256 maxAssets = _openMaxWithdraw(owner);
        if (assets > maxAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, maxAssets);
        uint256 shares = previewWithdraw(assets);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
        return shares;
    }

    function redeem(
        uint256 shares,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256) {
        // ERC4626.redeem with the exit gate read once.
        _requireExitsOpen();
        uint256 maxShares = _openMaxRedeem(owner);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(owner, shares, maxShares);
        uint256 assets = previewRedeem(shares);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
        return assets;
    }

    /// @inheritdoc ILiquidityPool
    function requestRedeem(
        uint256 shares,
        address receiver,
        address owner
    ) external nonReentrant returns (uint256 requestId) {
        if (shares == 0) revert ZeroShares();
        if (receiver == address(0)) revert ZeroAddress();
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _transfer(owner, address(this), shares);
        requestId = ++lastRequestId;
        // solhint-disable-next-line not-rely-on-time
        uint256 claimableAt = block.timestamp + EXIT_QUEUE_SEC;
        _requests[requestId] = RedeemRequest(owner, uint64(claimableAt), receiver, SafeCast.toUint128(shares));
        emit RedeemRequested(requestId, owner, receiver, shares, claimableAt);
    }

    /// @inheritdoc ILiquidityPool
    function claimRedeem(uint256 requestId) external nonReentrant returns (uint256 assets) {
        RedeemRequest memory r = _ownRequest(requestId);
        // solhint-disable-next-line not-rely-on-time
        if (block.timestamp < r.claimableAt) revert RequestNotClaimable(requestId, r.claimableAt);
        // The price of now: every shortfall booked before the claim is in it.
        assets = previewRedeem(r.shares);
        delete _requests[requestId];
        _burn(address(this), r.shares);
        vault.poolWithdraw(assets, r.receiver);
        emit Withdraw(msg.sender, r.receiver, r.owner, assets, r.shares);
        emit RedeemClaimed(requestId, r.receiver, r.shares, assets);
    }

    /// @inheritdoc ILiquidityPool
    function cancelRedeem(uint256 requestId) external nonReentrant {
        RedeemRequest memory r = _ownRequest(requestId);
        delete _requests[requestId];
        _transfer(address(this), r.owner, r.shares);
        emit RedeemCancelled(requestId, r.owner, r.shares);
    }

    /// @inheritdoc ILiquidityPool
    function redeemRequest(uint256 requestId) external view returns (RedeemRequest memory) {
        return _requests[requestId];
    }

    /// @inheritdoc ILiquidityPool
    function exitsQueued() public view returns (bool queued, uint256 level, uint256 until) {
        uint256 lastFill;
        (level, lastFill) = vault.lpExitState();
        if (lastFill != 0) until = lastFill + EXIT_QUEUE_SEC;
        // solhint-disable-next-line not-rely-on-time
        queued = !BreakerState.permits(BreakerAction.LpInstantExit, level) || block.timestamp < until;
        if (block.timestamp >= until) until = 0; // solhint-disable-line not-rely-on-time
    }

    /// @dev `maxWithdraw` when exits are open. Not super.maxWithdraw: it goes through the capped
    /// maxRedeem and would round down twice.
    function _openMaxWithdraw(address owner) internal view returns (uint256) {
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), _freeAssets());
    }

    /// @dev `maxRedeem` when exits are open.
    function _openMaxRedeem(address owner) internal view returns (uint256) {
        return Math.min(super.maxRedeem(owner), _convertToShares(_freeAssets(), Math.Rounding.Floor));
    }

    function _requireExitsOpen() internal view {
        (bool queued, uint256 level, uint256 until) = exitsQueued();
        if (queued) revert ExitQueued(level, until);
    }

    function _ownRequest(uint256 requestId) internal view returns (RedeemRequest memory r) {
        r = _requests[requestId];
        if (r.shares == 0) revert UnknownRequest(requestId);
        if (msg.sender != r.owner) revert NotRequestOwner(requestId, msg.sender);
    }

    function _freeAssets() internal view returns (uint256) {
        return vault.poolFreeLiquidity() / QUOTE_SCALE;
    }

    /// @dev Quote goes straight to the vault; the received amount is measured there.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        IERC20 token = IERC20(asset());
        address vaultAddr = address(vault);
        uint256 before = token.balanceOf(vaultAddr);
        token.safeTransferFrom(caller, vaultAddr, assets);
        uint256 received = token.balanceOf(vaultAddr) - before;
        if (received != assets) revert FeeOnTransferToken(address(token), assets, received);
        vault.poolDeposit(assets);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    function _withdraw(
        address caller,
        address receiver,
        address owner,
        uint256 assets,
        uint256 shares
    ) internal override {
        if (caller != owner) _spendAllowance(owner, caller, shares);
        _burn(owner, shares);
        vault.poolWithdraw(assets, receiver);
        emit Withdraw(caller, receiver, owner, assets, shares);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }
}

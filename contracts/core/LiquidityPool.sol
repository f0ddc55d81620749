// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILiquidityPool} from "../interfaces/ILiquidityPool.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @title LiquidityPool
/// @notice See `ILiquidityPool`.
contract LiquidityPool is ILiquidityPool, ERC4626, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Virtual-share offset against the first-depositor inflation attack: an attacker must
    /// donate 10^6 times what they hope to steal.
    uint8 public constant DECIMALS_OFFSET = 6;

    IPerpVault public immutable vault;
    uint256 internal immutable QUOTE_SCALE;

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

    /// @notice Limited by the free liquidity not reserved for open interest.
    function maxWithdraw(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        // Not super.maxWithdraw: it goes through the capped maxRedeem and would round down twice.
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), _freeAssets());
    }

    /// @notice Limited by the free liquidity not reserved for open interest.
    function maxRedeem(address owner) public view override(ERC4626, IERC4626) returns (uint256) {
        return Math.min(super.maxRedeem(owner), _convertToShares(_freeAssets(), Math.Rounding.Floor));
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
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(
        uint256 shares,
        address receiver,
        address owner
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256) {
        return super.redeem(shares, receiver, owner);
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

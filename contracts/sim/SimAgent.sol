// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV3Pool} from "@uniswap/v3-core/contracts/interfaces/IUniswapV3Pool.sol";
import {IUniswapV3SwapCallback} from "@uniswap/v3-core/contracts/interfaces/callback/IUniswapV3SwapCallback.sol";
import {IUniswapV3MintCallback} from "@uniswap/v3-core/contracts/interfaces/callback/IUniswapV3MintCallback.sol";
import {IAuctionHouse} from "../interfaces/IAuctionHouse.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";

/// @title SimAgent
/// @notice One agent of the cascade laboratory (sim/engine): a liquidity provider, an arbitrageur,
/// the pool's hedger, a momentum seller or a keeper/bidder. It trades on the simulated Uniswap v3
/// venues directly through the pool (no router), holds a vault account, and batches a block's
/// worth of keeper actions in one call. A failing kick, take or swap never reverts the batch: it
/// is reported as `ActionFailed` and the batch goes on.
/// @dev Simulation only, never deployed outside the lab. Owner-gated so that nobody else can spend
/// its balances. Base amounts are in the base token's own units.
contract SimAgent is IUniswapV3SwapCallback, IUniswapV3MintCallback {
    using SafeERC20 for IERC20;

    /// @notice A venue: a Uniswap v3 pool of a base asset against the vault's quote token.
    /// @param pool The pool.
    /// @param base The base token.
    /// @param baseIsToken0 Whether the base sorts first in the pool.
    /// @param marketId The vault market of the base asset (zero when it has none).
    /// @param baseScale 10^(18 − base decimals): base WAD → token units.
    struct Venue {
        IUniswapV3Pool pool;
        address base;
        bool baseIsToken0;
        bytes32 marketId;
        uint256 baseScale;
    }

    /// @notice What a failed action was.
    enum ActionKind {
        Kick,
        Take,
        Redo,
        Swap
    }

    /// @dev TickMath.MIN_SQRT_RATIO + 1 and MAX_SQRT_RATIO − 1.
    uint160 internal constant MIN_SQRT_LIMIT = 4_295_128_740;
    uint160 internal constant MAX_SQRT_LIMIT = 1_461_446_703_485_210_103_287_233_952_253_324_377_742;

    address public immutable owner;
    IPerpVault public immutable vault;
    IAuctionHouse public immutable auctionHouse;
    address public immutable quote;

    Venue[] internal _venues;

    /// @notice An action inside a batch reverted; `target` is the account, auction id or venue.
    event ActionFailed(ActionKind indexed kind, uint256 indexed target, bytes reason);
    /// @notice A swap on venue `venue`: signed changes of this agent's balances.
    event Swapped(uint256 indexed venue, int256 baseDelta, int256 quoteDelta);

    /// @notice The caller is not the agent's owner.
    error NotOwner(address caller);
    /// @notice A callback from an address that is not one of the agent's venues.
    error UnknownPool(address caller);
    /// @notice Array arguments of different lengths.
    error LengthMismatch(uint256 a, uint256 b);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address owner_, IPerpVault vault_, IAuctionHouse auctionHouse_) {
        owner = owner_;
        vault = vault_;
        auctionHouse = auctionHouse_;
        quote = vault_.quoteToken();
    }

    // ------------------------------------------------------------------ setup

    /// @notice Registers a venue; its index is the order of registration.
    function addVenue(IUniswapV3Pool pool, address base, bytes32 marketId, uint8 baseDecimals) external onlyOwner {
        _venues.push(Venue(pool, base, pool.token0() == base, marketId, 10 ** (18 - baseDecimals)));
    }

    /// @notice Approves the vault to pull `token` from this agent.
    function approveVault(address token) external onlyOwner {
        IERC20(token).forceApprove(address(vault), type(uint256).max);
    }

    /// @notice Deposits `amount` of `token` into this agent's own vault account.
    function deposit(address token, uint256 amount) external onlyOwner {
        vault.deposit(token, amount);
    }

    /// @notice Funds many vault accounts from this agent's balance of `token` (population setup).
    function depositFor(address token, address[] calldata accounts, uint256[] calldata amounts) external onlyOwner {
        if (accounts.length != amounts.length) revert LengthMismatch(accounts.length, amounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            if (amounts[i] != 0) vault.depositFor(accounts[i], token, amounts[i]);
        }
    }

    /// @notice Mints `liquidity` in [tickLower, tickUpper) of venue `v`, paid from this agent.
    function mintLiquidity(uint256 v, int24 tickLower, int24 tickUpper, uint128 liquidity) external onlyOwner {
        _venues[v].pool.mint(address(this), tickLower, tickUpper, liquidity, abi.encode(v));
    }

    // ------------------------------------------------------------------ trading

    /// @notice Trades venue `v` toward `sqrtTargetX96`, spending at most `maxBaseIn` (when selling
    /// base) or `maxQuoteIn` (when buying). Stops at the target. Never reverts on a failed swap.
    function swapToward(uint256 v, uint160 sqrtTargetX96, uint256 maxBaseIn, uint256 maxQuoteIn) external onlyOwner {
        Venue memory venue = _venues[v];
        (uint160 sqrtNow, , , , , , ) = venue.pool.slot0();
        if (sqrtTargetX96 == sqrtNow) return;
        bool zeroForOne = sqrtTargetX96 < sqrtNow;
        // Selling token0 lowers token1/token0. Base price falls when selling base.
        bool sellsBase = zeroForOne == venue.baseIsToken0;
        address tokenIn = sellsBase ? venue.base : quote;
        uint256 cap = sellsBase ? maxBaseIn : maxQuoteIn;
        uint256 balance = IERC20(tokenIn).balanceOf(address(this));
        if (balance < cap) cap = balance;
        if (cap == 0) return;
        _swap(v, venue, zeroForOne, int256(cap), sqrtTargetX96);
    }

    /// @notice The pool's hedger: keeps this agent's base balance at `anchor` plus the vault's net
    /// open interest (longs − shorts) of the venue's market, the pool's short delta, plus what the
    /// pool has on sale in takeover auctions: that exposure is left to the bidders, not sold on
    /// the venue. Trades at most `maxBase` base units (type(uint256).max: no limit).
    function hedgePool(uint256 v, int256 anchor, uint256 maxBase) external onlyOwner {
        Venue memory venue = _venues[v];
        IPerpVault.MarketState memory s = vault.marketState(venue.marketId);
        int256 onSale = auctionHouse.poolOnSale(vault.marketIndex(venue.marketId));
        int256 exposure = int256(uint256(s.oiLongWad)) - int256(uint256(s.oiShortWad)) + onSale;
        _rebalance(v, venue, anchor + exposure / int256(venue.baseScale), maxBase);
    }

    /// @notice Takeover mode: puts each market's backlog on sale as far as its disposal budget
    /// allows (`AuctionHouse.releaseBacklog`); a market with nothing to release or no budget is skipped.
    function releaseBacklogs(bytes32[] calldata marketIds) external onlyOwner {
        for (uint256 i; i < marketIds.length; ++i) {
            // solhint-disable-next-line no-empty-blocks
            try auctionHouse.releaseBacklog(marketIds[i]) returns (uint256) {} catch {}
        }
    }

    // ------------------------------------------------------------------ keeper

    /// @notice One block of a keeper's work: kicks, takes (or redos) and hedging, each isolated.
    /// @param kicks Accounts to kick.
    /// @param takeIds Running auctions to consider.
    /// @param takeAssets Oracle asset of each auction's lot (to read the oracle price).
    /// @param minDiscountBps Take only at least this far below oracle (above, for short lots).
    /// @param anchors Per venue: the base balance to hold when flat in the vault.
    /// @param maxHedgeBase Per venue: most base units to trade while hedging this block.
    function keeperAct(
        address[] calldata kicks,
        uint256[] calldata takeIds,
        address[] calldata takeAssets,
        uint256 minDiscountBps,
        int256[] calldata anchors,
        uint256[] calldata maxHedgeBase
    ) external onlyOwner {
        if (takeIds.length != takeAssets.length) revert LengthMismatch(takeIds.length, takeAssets.length);
        if (anchors.length != maxHedgeBase.length) revert LengthMismatch(anchors.length, maxHedgeBase.length);
        for (uint256 i; i < kicks.length; ++i) {
            // solhint-disable-next-line no-empty-blocks
            try auctionHouse.kick(kicks[i]) returns (uint256) {} catch (bytes memory reason) {
                emit ActionFailed(ActionKind.Kick, uint160(kicks[i]), reason);
            }
        }
        for (uint256 i; i < takeIds.length; ++i) _considerTake(takeIds[i], takeAssets[i], minDiscountBps);
        for (uint256 v; v < anchors.length; ++v) {
            if (maxHedgeBase[v] == 0) continue;
            Venue memory venue = _venues[v];
            int256 size = vault.getPosition(address(this), venue.marketId).sizeWad / int256(venue.baseScale);
            _rebalance(v, venue, anchors[v] - size, maxHedgeBase[v]);
        }
    }

    /// @inheritdoc IUniswapV3SwapCallback
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        Venue memory venue = _checkedVenue(abi.decode(data, (uint256)));
        (address token0, address token1) = venue.baseIsToken0 ? (venue.base, quote) : (quote, venue.base);
        if (amount0Delta > 0) IERC20(token0).safeTransfer(msg.sender, uint256(amount0Delta));
        if (amount1Delta > 0) IERC20(token1).safeTransfer(msg.sender, uint256(amount1Delta));
    }

    /// @inheritdoc IUniswapV3MintCallback
    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata data) external {
        Venue memory venue = _checkedVenue(abi.decode(data, (uint256)));
        (address token0, address token1) = venue.baseIsToken0 ? (venue.base, quote) : (quote, venue.base);
        if (amount0Owed > 0) IERC20(token0).safeTransfer(msg.sender, amount0Owed);
        if (amount1Owed > 0) IERC20(token1).safeTransfer(msg.sender, amount1Owed);
    }

    // ------------------------------------------------------------------ views

    /// @notice Venue `v`.
    function venueAt(uint256 v) external view returns (Venue memory) {
        return _venues[v];
    }

    // ------------------------------------------------------------------ internal

    function _considerTake(uint256 id, address asset, uint256 minDiscountBps) internal {
        try auctionHouse.auctionStatus(id) returns (uint256 price, bool needsRedo, IAuctionHouse.Auction memory a) {
            if (a.lot == 0) return;
            if (needsRedo) {
                // solhint-disable-next-line no-empty-blocks
                try auctionHouse.redo(id) {} catch (bytes memory reason) {
                    emit ActionFailed(ActionKind.Redo, id, reason);
                }
                return;
            }
            try vault.oracle().getPrice(asset) returns (uint256 oraclePrice) {
                _takeIfCheap(id, a.lot, price, oraclePrice, minDiscountBps);
            } catch (bytes memory reason) {
                emit ActionFailed(ActionKind.Take, id, reason);
            }
        } catch (bytes memory reason) {
            emit ActionFailed(ActionKind.Take, id, reason);
        }
    }

    function _takeIfCheap(uint256 id, int256 lot, uint256 price, uint256 oraclePrice, uint256 minDiscountBps) internal {
        // A short lot (a position or pool lot with lot < 0; never a collateral lot) is priced at
        // oracle × (2 − m): its price rises over time and the bidder is paid to take it.
        bool shortLot = ((id >> 8) & 0xff) != uint256(IAuctionHouse.LotKind.Collateral) && lot < 0;
        bool cheapEnough =
            shortLot
                ? price * 10_000 >= oraclePrice * (10_000 + minDiscountBps)
                : price * 10_000 <= oraclePrice * (10_000 - minDiscountBps);
        if (!cheapEnough) return;
        uint256 amount = uint256(lot >= 0 ? lot : -lot);
        // The view and the take round the price apart by a few wei: allow 0.01%.
        uint256 limit = shortLot ? (price * 9_999) / 10_000 : (price * 10_001) / 10_000;
        // solhint-disable-next-line no-empty-blocks
        try auctionHouse.take(id, amount, limit, address(this), "") {} catch (bytes memory reason) {
            emit ActionFailed(ActionKind.Take, id, reason);
        }
    }

    /// @dev Trades toward a base balance of `target`, at most `maxBase` base units.
    function _rebalance(uint256 v, Venue memory venue, int256 target, uint256 maxBase) internal {
        int256 balance = int256(IERC20(venue.base).balanceOf(address(this)));
        if (balance == target) return;
        if (balance > target) {
            uint256 excess = uint256(balance - target);
            if (excess > maxBase) excess = maxBase;
            // Selling base: zeroForOne when base is token0; exact input.
            _swap(v, venue, venue.baseIsToken0, int256(excess), venue.baseIsToken0 ? MIN_SQRT_LIMIT : MAX_SQRT_LIMIT);
        } else {
            uint256 deficit = uint256(target - balance);
            if (deficit > maxBase) deficit = maxBase;
            // Buying base: exact output.
            _swap(
                v,
                venue,
                !venue.baseIsToken0,
                -int256(deficit),
                venue.baseIsToken0 ? MAX_SQRT_LIMIT : MIN_SQRT_LIMIT
            );
        }
    }

    function _swap(uint256 v, Venue memory venue, bool zeroForOne, int256 amount, uint160 limit) internal {
        try venue.pool.swap(address(this), zeroForOne, amount, limit, abi.encode(v)) returns (
            int256 amount0,
            int256 amount1
        ) {
            (int256 baseDelta, int256 quoteDelta) = venue.baseIsToken0 ? (-amount0, -amount1) : (-amount1, -amount0);
            emit Swapped(v, baseDelta, quoteDelta);
        } catch (bytes memory reason) {
            emit ActionFailed(ActionKind.Swap, v, reason);
        }
    }

    function _checkedVenue(uint256 v) internal view returns (Venue memory venue) {
        if (v >= _venues.length || msg.sender != address(_venues[v].pool)) revert UnknownPool(msg.sender);
        return _venues[v];
    }
}

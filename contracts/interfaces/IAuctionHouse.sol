// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {IPriceCurve} from "./IPriceCurve.sol";
import {ICircuitBreaker} from "./ICircuitBreaker.sol";

/// @title IAuctionTaker
/// @notice Flash-take callback: called on `receiver` after the lot is delivered and before the
/// bidder pays, when `take` is given non-empty `data`.
interface IAuctionTaker {
    /// @param bidder The account that pays (and, for a position lot, received the position).
    /// @param auctionId The auction.
    /// @param amount Lot taken: base units (WAD) for a position lot, collateral (WAD) for a collateral lot.
    /// @param owedWad Quote (WAD) the bidder pays from its vault balance right after this call (0 for a position lot).
    /// @param data The bytes passed to `take`.
    function onAuctionTake(
        address bidder,
        uint256 auctionId,
        uint256 amount,
        uint256 owedWad,
        bytes calldata data
    ) external;
}

/// @title IAuctionHouse
/// @notice Liquidation of `PerpVault` accounts by Dutch auction (or instantly, as a baseline).
/// @dev Lifecycle: `kick` (permissionless) sizes the smallest slice of an unhealthy account that
/// restores the target health, charges the penalty (the keeper's reward comes out of it) and
/// starts an auction. Bidders `take` all or part of the lot at oracle × curve price. `redo` restarts
/// a stale auction; once its resets are exhausted the backstop waterfall runs: the pool absorbs the
/// lot at the floor price, the insurance fund pays any shortfall, and what remains is socialised
/// to LPs (`BadDebt` on the vault). Auction ids encode (account, kind, index), so an account has at
/// most one auction per market and per collateral asset, and kick/take gas is O(1) in the number
/// of accounts and auctions.
///
/// Prices: a long position lot (and every collateral lot) is sold at oracle × m(t) with
/// m(t) = max(floor, buf × curve(t)), falling over time; a short lot at oracle × (2 − m(t)),
/// rising over time. Either way the bidder's discount grows with time and is bounded by the floor.
///
/// Griefing caveats: a take can be front-run by another bidder; a kick can be front-run by another
/// keeper (who then earns the reward). Neither can make a lot clear below the curve.
interface IAuctionHouse is IBulwarkErrors {
    /// @notice What an auction sells.
    enum LotKind {
        Position,
        Collateral,
        Pool
    }

    /// @notice One running auction, packed in one slot.
    /// @param lot Remaining lot: the account's signed position slice (base WAD), collateral (WAD),
    /// or, for a pool lot, the slice the pool took over (signed as the account held it).
    /// @param tabWad Position lot: remaining lot notional at kick (USD WAD), used for throttles and
    /// rewards. Collateral lot: quote still to raise (USD WAD).
    /// @param startTime Start (or last reset) of the price curve.
    /// @param resets How many times `redo` restarted it.
    struct Auction {
        int120 lot;
        uint96 tabWad;
        uint32 startTime;
        uint8 resets;
    }

    /// @notice Auction and keeper parameters (RISK_ADMIN, bounded). Packed in four slots, ordered
    /// so that a take reads only the first two.
    /// @param curve Price curve.
    /// @param bufWad Starting price multiple of oracle, ≥ 1 (e.g. 1.0).
    /// @param tailSec Maximum age before a reset is allowed.
    /// @param cuspWad Lowest buf × curve before a reset is allowed (in [floor, 1]).
    /// @param floorWad Lowest price multiple ever asked, and the backstop price (e.g. 0.85).
    /// @param dustWad Smallest lot notional (USD WAD) an auction may leave behind.
    /// @param penaltyWad Penalty as a fraction of the liquidated notional; the keeper reward is paid from it.
    /// @param chipWad Keeper reward as a fraction of the tab.
    /// @param tipWad Flat keeper reward (USD WAD).
    /// @param rewardCapWad Cap on a keeper reward (USD WAD).
    /// @param targetHealthWad A kick restores equity ≥ targetHealth × IM (e.g. 1.0).
    /// @param maxResets Resets before the backstop absorbs the lot.
    /// @param instantMode Baseline mode: liquidate at oracle against the pool, no auction.
    /// @param poolTakeover Takeover mode (ignored in instant mode): at the kick the pool takes the
    /// slice over at the oracle price and the account pays only the penalty; the pool's new
    /// exposure is then auctioned as a `LotKind.Pool` lot, so the account carries no price risk
    /// while the auction runs and the venue sees no forced sale.
    /// @param instantBonusWad Instant mode: bonus to the liquidator as a fraction of notional.
    struct Params {
        IPriceCurve curve;
        uint64 bufWad;
        uint32 tailSec;
        uint64 cuspWad;
        uint64 floorWad;
        uint96 dustWad;
        uint64 penaltyWad;
        uint64 chipWad;
        uint96 tipWad;
        uint96 rewardCapWad;
        uint64 targetHealthWad;
        uint8 maxResets;
        bool instantMode;
        bool poolTakeover;
        uint64 instantBonusWad;
    }

    /// @notice Throttle parameters (RISK_ADMIN, bounded).
    /// @param windowSec Length of the rolling window over which capacity refills.
    /// @param globalCapacityWad Liquidation notional (USD WAD) all markets may start per window.
    /// @param maxOutstandingWad Cap on the notional of lots in running auctions (USD WAD).
    struct Throttle {
        uint32 windowSec;
        uint96 globalCapacityWad;
        uint96 maxOutstandingWad;
    }

    /// @notice Circuit-breaker wiring (DEFAULT_ADMIN, bounded). Levels themselves are read from the
    /// vault's mirror of the breaker's state.
    /// @param breaker Receives auction-health reports (zero: none are sent).
    /// @param cautionCapacityBps Share of the throttle capacity left at level 1 (caution).
    /// @param reportDiscountBps A take clearing further than this below oracle is reported to the
    /// breaker, which trips the market to level 2 (0: never reported).
    /// @param reportMinNotionalWad Only a take of at least this much tab (USD WAD), or a backstopped
    /// lot of at least this tab, is reported: dust takes cannot hold a market paused. Collateral
    /// lots are never reported (they would pause every market through the global key).
    struct BreakerConfig {
        ICircuitBreaker breaker;
        uint16 cautionCapacityBps;
        uint16 reportDiscountBps;
        uint96 reportMinNotionalWad;
    }

    /// @notice A rolling-window bucket: `usedWad` decays linearly at capacity / window per second.
    struct Bucket {
        uint96 usedWad;
        uint32 updatedAt;
        uint96 capacityWad;
    }

    event ParamsSet(Params params);
    event ThrottleSet(Throttle throttle);
    event MarketCapacitySet(bytes32 indexed marketId, uint96 capacityWad);
    event BreakerConfigSet(BreakerConfig config);
    /// @notice An auction started.
    event Kick(
        uint256 indexed id,
        address indexed account,
        bytes32 indexed key,
        int256 lot,
        uint256 tabWad,
        uint256 penaltyWad,
        address keeper,
        uint256 rewardWad
    );
    /// @notice A (partial) take. `priceWad` is the clearing price; `owedWad` what the bidder paid
    /// (collateral lots); `remainingLot` what is left.
    event Take(
        uint256 indexed id,
        address indexed bidder,
        uint256 amount,
        uint256 priceWad,
        uint256 owedWad,
        int256 remainingLot
    );
    event Redo(uint256 indexed id, address indexed keeper, uint256 resets, uint256 rewardWad);
    /// @notice The backstop took the remaining lot at the floor price (a pool lot: the pool keeps
    /// it, and `priceWad` is the oracle price).
    event Backstop(uint256 indexed id, address indexed account, int256 lot, uint256 priceWad);
    event AuctionEnded(uint256 indexed id, address indexed account);
    /// @notice Instant-mode liquidation: the slice closed at oracle against the pool.
    event InstantLiquidation(
        address indexed account,
        bytes32 indexed marketId,
        int256 slice,
        uint256 priceWad,
        address indexed liquidator,
        uint256 bonusWad
    );
    /// @notice Takeover mode: the part of a takeover the disposal budget could not put on sale
    /// joined the market's backlog (the pool holds it, and its hedger may hedge it).
    event Backlogged(uint256 indexed id, bytes32 indexed marketId, int256 size, int256 backlog);
    /// @notice Takeover mode: `size` of the market's backlog went on sale in the market's pool lot
    /// `id`, worth `notionalWad` at the oracle.
    event BacklogReleased(uint256 indexed id, bytes32 indexed marketId, int256 size, uint256 notionalWad);

    /// @notice The account is healthy: equity ≥ MM (under the wick rule).
    error NotLiquidatable(address account, int256 equityWad, uint256 maintenanceMarginWad);
    /// @notice The account already has a running auction (one at a time, so that the next kick is
    /// sized on what it left), or it has nothing left to sell.
    error NothingToLiquidate(address account);
    /// @notice Less than dust of liquidation capacity left in the window (or the outstanding cap
    /// reached): wait for the window to refill.
    error NoCapacity(bytes32 key, uint256 availableWad);
    error AuctionNotRunning(uint256 id);
    /// @notice The auction is stale (past tail or below cusp): call `redo`.
    error AuctionNeedsRedo(uint256 id);
    /// @notice `redo` on an auction that is neither past tail nor below cusp.
    error AuctionNotStale(uint256 id);
    error ZeroTake(uint256 id);
    /// @notice A take would leave a lot worth less than dust.
    error DustRemainder(uint256 id, uint256 remainingNotionalWad, uint256 dustWad);
    /// @notice The clearing price is worse for the bidder than its limit.
    error PriceLimitExceeded(uint256 id, uint256 priceWad, uint256 priceLimitWad);
    /// @notice `releaseBacklog` on a market whose backlog is empty.
    error NothingToRelease(bytes32 marketId);

    /// @notice Starts liquidating `account` (permissionless). In instant mode, liquidates at once.
    /// In takeover mode the pool takes the slice over at the oracle price ("transfer never
    /// waits": no throttle, and no breaker level below a halt, refuses it; an untrusted price
    /// reverts in the oracle read), and the auction sells the pool's new exposure as fast as the
    /// disposal budget allows ("sale is paced"): the rest joins the market's backlog
    /// (`poolBacklog`, `releaseBacklog`). An account that cannot pay the penalty on its slice is
    /// taken over whole, so that its shortfall is settled at once when that empties it. A second
    /// kick of the same account and market adds to its pool lot.
    /// @return id The auction id (0 in instant mode).
    function kick(address account) external returns (uint256 id);

    /// @notice Takeover mode (permissionless): puts as much of `marketId`'s backlog on sale as the
    /// disposal budget allows now, in the market's pool lot `auctionId(address(0), LotKind.Pool,
    /// index)`. Reverts `NothingToRelease` on an empty backlog, `BreakerActive` from level 2 (pause)
    /// and `NoCapacity` when the budget is spent.
    /// @param marketId The market.
    /// @return id The pool lot the backlog joined.
    function releaseBacklog(bytes32 marketId) external returns (uint256 id);

    /// @notice Signed base size (WAD) on market `marketIndex` the pool took over and has not yet put on
    /// sale (takeover mode). A hedger may hedge it: no auction is selling it.
    function poolBacklog(uint256 marketIndex) external view returns (int256);

    /// @notice Notional (USD WAD) the pool may put on sale now on `marketId`: what the throttle's
    /// window and outstanding cap leave, a `cautionCapacityBps` share of it at caution, none from
    /// level 2. In takeover mode this is the disposal budget; in auction mode, a kick's capacity.
    function disposalBudget(bytes32 marketId) external view returns (uint256);

    /// @notice Buys up to `amount` of auction `id`'s lot at the current price.
    /// @param priceLimitWad Long and collateral lots: the highest price accepted; short lots: the lowest.
    /// @param receiver Collateral lots: receives the tokens. Called back when `data` is non-empty.
    function take(uint256 id, uint256 amount, uint256 priceLimitWad, address receiver, bytes calldata data) external;

    /// @notice Restarts a stale auction, or, when its resets are exhausted, runs the backstop.
    function redo(uint256 id) external;

    /// @notice Current price (USD WAD) and whether the auction needs a redo.
    function auctionStatus(uint256 id) external view returns (uint256 priceWad, bool needsRedo, Auction memory);

    /// @notice The id of `account`'s auction of `kind` on market or collateral `index` (vault indices).
    function auctionId(address account, LotKind kind, uint256 index) external pure returns (uint256);

    /// @notice Signed base size (WAD) the pool holds on sale on market `marketIndex` in pool lots,
    /// signed as the liquidated accounts held it (positive: long lots). A hedger of the pool's
    /// exposure leaves this much unhedged so that it does not sell what the auctions are selling.
    function poolOnSale(uint256 marketIndex) external view returns (int256);

    /// @notice Capacity (USD WAD) a kick could use now on `marketId`.
    function availableCapacity(bytes32 marketId) external view returns (uint256);

    /// @notice Sets the auction parameters (risk admin). Every field is bounded by a constant in
    /// code and reverts `ParamOutOfBounds(name, value, min, max)` outside it; a zero curve reverts
    /// `ZeroAddress`; a set equal to the current one reverts `NoChange`. Emits `ParamsSet`.
    /// @param newParams The full parameter set (curve, buffer, tail, floor, cusp, incentives, dust, target health, resets).
    function setParams(Params calldata newParams) external;

    /// @notice Sets the liquidation throttle (risk admin). `windowSec`, `globalCapacityWad` and
    /// `maxOutstandingWad` are bounded (`ParamOutOfBounds`); an unchanged throttle reverts
    /// `NoChange`. Emits `ThrottleSet`.
    /// @param newThrottle The rolling window and the global and outstanding caps (USD WAD).
    function setThrottle(Throttle calldata newThrottle) external;

    /// @notice Sets one market's own kick capacity per window (risk admin); 0 lifts the market's cap,
    /// leaving the global window and the outstanding cap. An unchanged value reverts `NoChange`.
    /// Emits `MarketCapacitySet`.
    /// @param marketId The market.
    /// @param capacityWad Notional (USD WAD) the market's kicks may use per window.
    function setMarketCapacity(bytes32 marketId, uint96 capacityWad) external;

    /// @notice Wires the circuit breaker (admin). Bounded: `cautionCapacityBps` in [1, 10,000],
    /// `reportDiscountBps` in [0, 10,000], `reportMinNotionalWad` in [0, MAX_REPORT_MIN_NOTIONAL];
    /// a config equal to the current one reverts `NoChange`.
    /// Emits `BreakerConfigSet`.
    function setBreakerConfig(BreakerConfig calldata config) external;
    function breakerConfig() external view returns (BreakerConfig memory);
}

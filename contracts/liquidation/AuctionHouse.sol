// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {IAuctionHouse, IAuctionTaker} from "../interfaces/IAuctionHouse.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IPriceCurve} from "../interfaces/IPriceCurve.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {Bounds} from "../libraries/Bounds.sol";
import {BreakerState, BreakerAction} from "../libraries/BreakerState.sol";

/// @title AuctionHouse
/// @notice Dutch-auction liquidator for `PerpVault`. See `IAuctionHouse`.
/// @dev Decides whether and how much (kick sizing, throttles) and runs the auctions; the vault
/// moves the money through its LIQUIDATOR entry points, which this contract must hold.
contract AuctionHouse is IAuctionHouse, AccessControl, ReentrancyGuardTransient {
    using FixedPointMathLib for uint256;

    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");
    uint256 internal constant WAD = 1e18;

    uint64 public constant MAX_BUF = 1.2e18;
    uint32 public constant MIN_TAIL = 60;
    uint32 public constant MAX_TAIL = 1 days;
    uint64 public constant MIN_FLOOR = 0.5e18;
    uint64 public constant MAX_PENALTY = 0.2e18;
    uint64 public constant MAX_CHIP = 0.01e18;
    uint96 public constant MAX_TIP = 1_000e18;
    uint96 public constant MAX_REWARD_CAP = 100_000e18;
    uint96 public constant MAX_DUST = 1_000_000e18;
    uint64 public constant MIN_TARGET_HEALTH = 1e18;
    uint64 public constant MAX_TARGET_HEALTH = 2e18;
    uint8 public constant MAX_RESETS = 20;
    uint64 public constant MAX_INSTANT_BONUS = 0.2e18;
    uint32 public constant MIN_WINDOW = 60;
    uint32 public constant MAX_WINDOW = 7 days;
    uint96 public constant MAX_REPORT_MIN_NOTIONAL = 100_000_000e18;
    uint8 internal constant MODE_AUCTION = 0;
    uint8 internal constant MODE_INSTANT = 1;
    uint8 internal constant MODE_TAKEOVER = 2;

    IPerpVault public immutable vault;
    IOracleRouter public immutable oracle;

    /// @dev The global bucket: the window's use (`usedWad`, `updatedAt`, as `Bucket`), the notional
    /// of lots on sale (`outstandingWad`), and, in its spare bytes, `BreakerConfig.reportDiscountBps`: a take reads the
    /// threshold from the slot it writes anyway.
    struct GlobalBucket {
        uint96 usedWad;
        uint32 updatedAt;
        uint96 outstandingWad;
        uint16 reportDiscountBps;
    }

    /// @dev `Params` as stored: what a take reads in the first two slots, what a kick reads in the
    /// next two (with its own copy of dust, which fits in 80 bits under MAX_DUST), the instant
    /// bonus last.
    struct StoredParams {
        // slot 0: take
        IPriceCurve curve;
        uint64 bufWad;
        uint32 tailSec;
        // slot 1: take, redo
        uint64 cuspWad;
        uint64 floorWad;
        uint96 dustWad;
        uint8 maxResets;
        // slot 2: kick
        uint64 penaltyWad;
        uint64 chipWad;
        uint96 tipWad;
        // `Params.instantMode` and `poolTakeover` as one byte, so that a kick reads the mode once.
        uint8 liquidationMode;
        // slot 3: kick
        uint96 rewardCapWad;
        uint64 targetHealthWad;
        uint80 kickDustWad;
        // slot 4: instant mode
        uint64 instantBonusWad;
    }

    StoredParams internal _params;
    Throttle internal _throttle;
    GlobalBucket internal _global;
    mapping(uint256 marketIndex => Bucket) internal _marketBuckets;
    mapping(uint256 id => Auction) internal _auctions;
    /// @dev Signed base size on sale in pool lots, by market index (see `poolOnSale`).
    mapping(uint256 marketIndex => int256) internal _poolOnSale;
    /// @dev Signed base size the pool took over and has not put on sale yet, by market index (see
    /// `poolBacklog`).
    mapping(uint256 marketIndex => int256) internal _poolBacklog;
    /// @dev A collateral token and its smallest unit in WAD (10^(18 − decimals)), by vault index,
    /// cached at its first kick. Collateral lots and takes are whole token units, as the vault
    /// seizes whole units only.
    struct CollateralRef {
        address token;
        uint96 unitWad;
    }

    mapping(uint256 assetIndex => CollateralRef) internal _collateralRefs;

    BreakerConfig internal _breakerConfig;

    constructor(address admin, IPerpVault vault_, Params memory params_, Throttle memory throttle_) {
        if (admin == address(0) || address(vault_) == address(0)) revert ZeroAddress();
        vault = vault_;
        oracle = vault_.oracle();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
        _setParams(params_);
        _setThrottle(throttle_);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IAuctionHouse
    function setParams(Params calldata newParams) external onlyRole(RISK_ADMIN_ROLE) {
        if (keccak256(abi.encode(newParams)) == keccak256(abi.encode(_loadParams()))) revert NoChange();
        _setParams(newParams);
    }

    /// @inheritdoc IAuctionHouse
    function setThrottle(Throttle calldata newThrottle) external onlyRole(RISK_ADMIN_ROLE) {
        Throttle memory cur = _throttle;
        if (
            cur.windowSec == newThrottle.windowSec &&
            cur.globalCapacityWad == newThrottle.globalCapacityWad &&
            cur.maxOutstandingWad == newThrottle.maxOutstandingWad
        ) revert NoChange();
        _setThrottle(newThrottle);
    }

    /// @inheritdoc IAuctionHouse
    function setMarketCapacity(bytes32 marketId, uint96 capacityWad) external onlyRole(RISK_ADMIN_ROLE) {
        // 0 lifts the market's own cap: only the global window and the outstanding cap apply.
        Bucket storage b = _marketBuckets[vault.marketIndex(marketId)];
        if (b.capacityWad == capacityWad) revert NoChange();
        b.capacityWad = capacityWad;
        emit MarketCapacitySet(marketId, capacityWad);
    }

    /// @inheritdoc IAuctionHouse
    function setBreakerConfig(BreakerConfig calldata config) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Bounds.check("cautionCapacityBps", config.cautionCapacityBps, 1, 10_000);
        Bounds.check("reportDiscountBps", config.reportDiscountBps, 0, 10_000);
        Bounds.check("reportMinNotional", config.reportMinNotionalWad, 0, MAX_REPORT_MIN_NOTIONAL);
        BreakerConfig memory cur = _breakerConfig;
        if (
            cur.breaker == config.breaker &&
            cur.cautionCapacityBps == config.cautionCapacityBps &&
            cur.reportDiscountBps == config.reportDiscountBps &&
            cur.reportMinNotionalWad == config.reportMinNotionalWad
        ) revert NoChange();
        _breakerConfig = config;
        _global.reportDiscountBps = config.reportDiscountBps;
        emit BreakerConfigSet(config);
    }

    // ------------------------------------------------------------------ keepers

    /// @inheritdoc IAuctionHouse
    function kick(address account) external nonReentrant returns (uint256 id) {
        IPerpVault.KickSnapshot memory snap = vault.kickSnapshot(account);
        if (!snap.liquidatable) revert NotLiquidatable(account, snap.equityWad, snap.maintenanceMarginWad);
        // One auction per account at a time: the next kick is sized on what the running one left.
        if (snap.inLiquidation) revert NothingToLiquidate(account);
        StoredParams storage p = _params;
        if (snap.positionCount == 0) {
            // No position: `breakerLevel` is the global level.
            if (!BreakerState.permits(BreakerAction.Kick, snap.breakerLevel)) {
                revert BreakerActive(bytes32(0), snap.breakerLevel);
            }
            return _kickCollateral(account, snap.equityWad, p);
        }
        // Positions first, the largest by notional (a dust position cannot shield a large one).
        IPerpVault.PositionSnapshot memory pos = snap.target;
        uint256 level = snap.breakerLevel;
        uint8 mode = p.liquidationMode;
        if (mode == MODE_AUCTION) {
            if (!BreakerState.permits(BreakerAction.Kick, level)) revert BreakerActive(pos.marketId, level);
            // Free: a running position lot holds its account's liquidation flag, refused above.
            id = auctionId(account, LotKind.Position, pos.index);
            _kickPosition(id, account, snap, pos, p, level);
            return id;
        }
        if (mode == MODE_TAKEOVER) {
            // Transfer never waits: only a halt refuses a takeover (an untrusted price has already
            // reverted in the snapshot's oracle read).
            if (!BreakerState.permits(BreakerAction.Takeover, level)) revert BreakerActive(pos.marketId, level);
            return _takeover(account, snap, pos, p, level);
        }
        if (!BreakerState.permits(BreakerAction.Kick, level)) revert BreakerActive(pos.marketId, level);
        return _instant(account, snap, pos, p, level);
    }

    /// @inheritdoc IAuctionHouse
    function releaseBacklog(bytes32 marketId) external nonReentrant returns (uint256 id) {
        uint256 index = vault.marketIndex(marketId);
        int256 backlog = _poolBacklog[index];
        if (backlog == 0) revert NothingToRelease(marketId);
        uint256 level = vault.breakerLevelAt(index);
        if (!BreakerState.permits(BreakerAction.Kick, level)) revert BreakerActive(marketId, level);
        uint256 price = oracle.getPrice(vault.marketParams(marketId).oracleAsset);
        uint256 notional = FixedPointMathLib.abs(backlog).mulWadUp(price);
        uint256 used = _consumeCapacity(index, marketId, notional, _params.dustWad, level);
        // Rounded toward zero: what stays in the backlog keeps the remainder.
        int256 size = used >= notional ? backlog : (backlog * int256(used)) / int256(notional);
        _poolBacklog[index] = backlog - size;
        id = auctionId(address(0), LotKind.Pool, index);
        _addToPoolLot(id, index, size, used, price);
        emit BacklogReleased(id, marketId, size, used);
    }

    /// @inheritdoc IAuctionHouse
    function take(
        uint256 id,
        uint256 amount,
        uint256 priceLimitWad,
        address receiver,
        bytes calldata data
    ) external nonReentrant {
        Auction memory a = _auctions[id];
        if (a.lot == 0) revert AuctionNotRunning(id);
        if (amount == 0) revert ZeroTake(id);
        StoredParams storage p = _params;
        (uint256 factorWad, bool stale) = _factor(a, p);
        if (stale) revert AuctionNeedsRedo(id);
        (address account, LotKind kind, uint256 index) = _decode(id);
        if (kind == LotKind.Collateral) {
            _checkBreaker(kind, index, BreakerAction.Take);
            _takeCollateral(id, a, account, index, amount, factorWad, priceLimitWad, receiver, data, p);
            return;
        }
        // The vault refuses the fill where the breaker forbids a take (BreakerActive) and returns
        // the market id.
        // A pool lot is the pool's own exposure: the vault's seller is then address(0).
        if (kind == LotKind.Pool) account = address(0);
        (bytes32 marketKey, uint256 tabTaken) = _takePosition(
            id,
            a,
            account,
            index,
            amount,
            factorWad,
            priceLimitWad,
            receiver,
            data,
            p
        );
        // Auction health: bidders asking this deep a discount for a lot of size means liquidity is gone.
        uint256 discount = WAD - factorWad;
        uint256 threshold = uint256(_global.reportDiscountBps) * 1e14;
        if (threshold != 0 && discount > threshold) _report(marketKey, tabTaken, discount, threshold, false);
    }

    /// @inheritdoc IAuctionHouse
    function redo(uint256 id) external nonReentrant {
        Auction memory a = _auctions[id];
        if (a.lot == 0) revert AuctionNotRunning(id);
        StoredParams storage p = _params;
        (, bool stale) = _factor(a, p);
        if (!stale) revert AuctionNotStale(id);
        (address account, LotKind kind, uint256 index) = _decode(id);
        bytes32 marketKey = _checkBreaker(kind, index, BreakerAction.Redo);
        if (a.resets >= p.maxResets) {
            _backstop(id, a, account, kind, index, p);
            // A position or pool lot that reached the floor unbid: bidders are gone.
            if (kind != LotKind.Collateral) _report(marketKey, a.tabWad, WAD - p.floorWad, 0, true);
            return;
        }
        a.resets += 1;
        // solhint-disable-next-line not-rely-on-time
        a.startTime = uint32(block.timestamp);
        // A reward only when the lot is worth it (its tab at least dust), paid by the account; none
        // for a pool lot, whose account has already paid its penalty and left.
        uint256 reward;
        if (kind != LotKind.Pool && a.tabWad >= p.dustWad) {
            reward = _reward(a.tabWad, p);
            vault.transferQuote(account, msg.sender, reward);
            // A collateral lot must now also raise what the account just paid the keeper.
            if (kind == LotKind.Collateral) a.tabWad += uint96(reward);
        }
        _auctions[id] = a;
        emit Redo(id, msg.sender, a.resets, reward);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAuctionHouse
    function auctionStatus(uint256 id) external view returns (uint256 priceWad, bool needsRedo, Auction memory a) {
        a = _auctions[id];
        if (a.lot == 0) return (0, false, a);
        uint256 factorWad;
        (factorWad, needsRedo) = _factor(a, _params);
        (, LotKind kind, uint256 index) = _decode(id);
        address asset =
            kind != LotKind.Collateral
                ? vault.marketParams(_marketIdAt(index)).oracleAsset
                : _collateralRefs[index].token;
        uint256 oraclePrice = oracle.getPrice(asset);
        // Rounded as a take rounds it (in the protocol's favour), so that the view's price works
        // as a take's price limit: up for what the bidder pays, down for a short lot it sells.
        priceWad =
            kind != LotKind.Collateral && a.lot < 0
                ? oraclePrice.mulWad(2e18 - factorWad)
                : oraclePrice.mulWadUp(factorWad);
    }

    /// @inheritdoc IAuctionHouse
    function auctionId(address account, LotKind kind, uint256 index) public pure returns (uint256) {
        return (uint256(uint160(account)) << 16) | (uint256(kind) << 8) | index;
    }

    /// @inheritdoc IAuctionHouse
    function poolOnSale(uint256 marketIndex) external view returns (int256) {
        return _poolOnSale[marketIndex];
    }

    /// @inheritdoc IAuctionHouse
    function poolBacklog(uint256 marketIndex) external view returns (int256) {
        return _poolBacklog[marketIndex];
    }

    /// @inheritdoc IAuctionHouse
    function availableCapacity(bytes32 marketId) external view returns (uint256) {
        return _available(_marketBuckets[vault.marketIndex(marketId)], _global, _throttle);
    }

    /// @inheritdoc IAuctionHouse
    function disposalBudget(bytes32 marketId) external view returns (uint256) {
        uint256 index = vault.marketIndex(marketId);
        return _levelShare(_available(_marketBuckets[index], _global, _throttle), vault.breakerLevelAt(index));
    }

    /// @inheritdoc IAuctionHouse
    function breakerConfig() external view returns (BreakerConfig memory) {
        return _breakerConfig;
    }

    function params() external view returns (Params memory) {
        return _loadParams();
    }

    function throttle() external view returns (Throttle memory) {
        return _throttle;
    }

    /// @notice Global window usage (decayed to now) and outstanding lot notional, USD WAD.
    function globalUsage() external view returns (uint256 usedWad, uint256 outstandingWad) {
        Throttle memory t = _throttle;
        return (_decayed(_global.usedWad, _global.updatedAt, t.globalCapacityWad, t.windowSec), _global.outstandingWad);
    }

    // ------------------------------------------------------------------ kick internals

    function _kickPosition(
        uint256 id,
        address account,
        IPerpVault.KickSnapshot memory snap,
        IPerpVault.PositionSnapshot memory pos,
        StoredParams storage p,
        uint256 level
    ) internal {
        uint256 penaltyWad = p.penaltyWad;
        (int256 slice, uint256 sliceNotional) = _sizeSlice(snap, pos, penaltyWad, p, level);
        (uint256 penalty, uint256 reward) = _chargePenalty(account, sliceNotional, penaltyWad, p);
        // solhint-disable-next-line not-rely-on-time
        _auctions[id] = Auction(int120(slice), uint96(sliceNotional), uint32(block.timestamp), 0);
        emit Kick(id, account, pos.marketId, slice, sliceNotional, penalty, msg.sender, reward);
    }

    /// @dev The slice a kick liquidates, sized for `costWad` (`_sliceNotional`) and cut to the
    /// capacity the throttles leave (`_consumeCapacity`, which also counts it as outstanding).
    function _sizeSlice(
        IPerpVault.KickSnapshot memory snap,
        IPerpVault.PositionSnapshot memory pos,
        uint256 costWad,
        StoredParams storage p,
        uint256 level
    ) internal returns (int256 slice, uint256 sliceNotional) {
        uint256 dustWad = p.kickDustWad;
        sliceNotional = _sliceNotional(snap, pos, costWad, dustWad, p);
        sliceNotional = _consumeCapacity(pos.index, pos.marketId, sliceNotional, dustWad, level);
        slice = _sliceOf(pos, sliceNotional);
    }

    /// @dev Charges the kick's penalty (`penaltyWad` of `sliceNotional`) to `account` (the keeper's
    /// reward out of it, the rest to the insurance fund) and flags the account as in liquidation.
    function _chargePenalty(
        address account,
        uint256 sliceNotional,
        uint256 penaltyWad,
        StoredParams storage p
    ) internal returns (uint256 penalty, uint256 reward) {
        penalty = sliceNotional.mulWadUp(penaltyWad);
        reward = FixedPointMathLib.min(_reward(sliceNotional, p), penalty);
        vault.beginLiquidation(account, penalty - reward, msg.sender, reward);
    }

    /// @dev Smallest notional to sell so that, once sold at the oracle price and charged `costWad`
    /// (the penalty, or the instant bonus), equity ≥ targetHealth × IM:
    /// E − c·x ≥ h·(IM − x·imr)  ⇒  x ≥ (h·IM − E) / (h·imr − c), plus one basis point so that
    /// funding accrued before the take cannot leave it short. Raised to at least dust, then the
    /// whole position when that is more than it holds, when h·imr ≤ c, or when the leftover would
    /// be below dust.
    function _sliceNotional(
        IPerpVault.KickSnapshot memory snap,
        IPerpVault.PositionSnapshot memory pos,
        uint256 costWad,
        uint256 dust,
        StoredParams storage p
    ) internal view returns (uint256) {
        uint256 whole = pos.notionalWad;
        uint256 h = p.targetHealthWad;
        int256 need = int256(snap.initialMarginWad.mulWadUp(h)) - snap.equityWad;
        uint256 perUnit = pos.imrWad.mulWad(h);
        if (need <= 0) need = 1; // liquidatable only under the wick rule: still make progress
        if (perUnit <= costWad) return whole;
        uint256 x = uint256(need).divWadUp(perUnit - costWad);
        x += x / 10_000;
        if (x < dust) x = dust;
        if (x >= whole || whole - x < dust) return whole;
        return x;
    }

    /// @dev Signed size (the account's side) worth `notional` of the position, rounded up.
    function _sliceOf(IPerpVault.PositionSnapshot memory pos, uint256 notional) internal pure returns (int256) {
        if (notional >= pos.notionalWad) return pos.sizeWad;
        uint256 absSize = FixedPointMathLib.abs(pos.sizeWad);
        uint256 absSlice = FixedPointMathLib.mulDivUp(absSize, notional, pos.notionalWad);
        return pos.sizeWad > 0 ? int256(absSlice) : -int256(absSlice);
    }

    function _kickCollateral(address account, int256 equityWad, StoredParams storage p) internal returns (uint256 id) {
        int256 quote = vault.quoteBalance(account);
        address[] memory tokens = vault.collateralTokens();
        for (uint256 i = 1; i < tokens.length; ++i) {
            uint256 balance = vault.collateralBalance(account, tokens[i]);
            if (balance == 0) continue;
            id = auctionId(account, LotKind.Collateral, i);
            CollateralRef memory ref = _collateralRefs[i];
            if (ref.token == address(0)) {
                ref = CollateralRef(tokens[i], uint96(10 ** (18 - vault.collateralConfig(tokens[i]).decimals)));
                _collateralRefs[i] = ref;
            }
            // Raise the debt plus the penalty; never sell more than the account holds.
            uint256 debt = quote < 0 ? uint256(-quote) : 0;
            if (debt == 0) debt = uint256(-equityWad);
            (uint256 penalty, uint256 reward) = _penaltyAndReward(debt, p);
            uint256 tab = debt + penalty;
            uint256 price = oracle.getPrice(tokens[i]);
            uint256 lot = FixedPointMathLib.min(
                balance,
                _roundUpTo(tab.divWadUp(price.mulWad(p.floorWad)), ref.unitWad)
            );
            vault.beginLiquidation(account, penalty - reward, msg.sender, reward);
            // solhint-disable-next-line not-rely-on-time
            _auctions[id] = Auction(int120(int256(lot)), uint96(tab), uint32(block.timestamp), 0);
            emit Kick(id, account, bytes32(uint256(uint160(tokens[i]))), int256(lot), tab, penalty, msg.sender, reward);
            return id;
        }
        revert NothingToLiquidate(account);
    }

    function _instant(
        address account,
        IPerpVault.KickSnapshot memory snap,
        IPerpVault.PositionSnapshot memory pos,
        StoredParams storage p,
        uint256 level
    ) internal returns (uint256) {
        (int256 slice, uint256 sliceNotional) = _sizeSlice(snap, pos, p.instantBonusWad, p, level);
        _releaseOutstanding(sliceNotional); // no lot: nothing stays outstanding
        uint256 price = pos.priceWad;
        vault.liquidatePosition(account, pos.marketId, -slice, price, address(0));
        // The bonus comes out of the account, which may leave it negative. It is routed as an
        // auction kick's penalty is: the keeper's reward (tip + chip, capped) to the liquidator, the
        // rest to the insurance fund, so that the modes differ only in their mechanism.
        uint256 bonus = sliceNotional.mulWad(p.instantBonusWad);
        uint256 reward = FixedPointMathLib.min(_reward(sliceNotional, p), bonus);
        vault.beginLiquidation(account, bonus - reward, msg.sender, reward);
        vault.endLiquidation(account);
        emit InstantLiquidation(account, pos.marketId, slice, price, msg.sender, bonus);
        return 0;
    }

    /// @dev Takeover mode. Transfer never waits: the pool takes the slice at the oracle price with
    /// no throttle; an account that cannot pay the penalty on its slice is taken over whole (its
    /// shortfall is then settled at once when that empties it, instead of staying in pool value as
    /// an asset). The account pays the penalty (the keeper's reward out of it) and is released. Sale
    /// is paced: as much of the slice as the disposal budget allows joins the pool lot of this
    /// account and market (a running one keeps its clock and resets); the rest joins the market's
    /// backlog, which `releaseBacklog` puts on sale as the budget refills.
    function _takeover(
        address account,
        IPerpVault.KickSnapshot memory snap,
        IPerpVault.PositionSnapshot memory pos,
        StoredParams storage p,
        uint256 level
    ) internal returns (uint256 id) {
        uint256 penaltyWad = p.penaltyWad;
        uint256 sliceNotional = _sliceNotional(snap, pos, penaltyWad, p.kickDustWad, p);
        if (snap.equityWad < int256(sliceNotional.mulWadUp(penaltyWad))) sliceNotional = pos.notionalWad;
        int256 slice = _sliceOf(pos, sliceNotional);
        vault.liquidatePosition(account, pos.marketId, -slice, pos.priceWad, address(0));
        (uint256 penalty, uint256 reward) = _chargePenalty(account, sliceNotional, penaltyWad, p);
        // Settles the account's shortfall at once if that left it with nothing but debt.
        vault.endLiquidation(account);
        id = auctionId(account, LotKind.Pool, pos.index);
        uint256 saleNotional = _takeCapacity(pos.index, sliceNotional, p.kickDustWad, level);
        int256 sale = slice;
        if (saleNotional < sliceNotional) {
            // Rounded toward zero: the backlog keeps the remainder.
            sale = (slice * int256(saleNotional)) / int256(sliceNotional);
            int256 backlog = _poolBacklog[pos.index] + (slice - sale);
            _poolBacklog[pos.index] = backlog;
            emit Backlogged(id, pos.marketId, slice - sale, backlog);
        }
        emit Kick(id, account, pos.marketId, sale, sliceNotional, penalty, msg.sender, reward);
        if (sale != 0) _addToPoolLot(id, pos.index, sale, saleNotional, pos.priceWad);
    }

    /// @dev Adds `size` (worth `notionalWad` at `priceWad`) of the pool's exposure to pool lot `id`
    /// and to what the pool has on sale. A running lot keeps its clock and resets; a lot of the
    /// other side nets out: the rest's tab is its notional now, and the difference leaves the
    /// outstanding count. A net of zero ends the lot.
    function _addToPoolLot(uint256 id, uint256 index, int256 size, uint256 notionalWad, uint256 priceWad) internal {
        Auction memory a = _auctions[id];
        _poolOnSale[index] += size;
        if (a.lot == 0) {
            // solhint-disable-next-line not-rely-on-time
            a = Auction(int120(size), uint96(notionalWad), uint32(block.timestamp), 0);
        } else if ((a.lot > 0) == (size > 0)) {
            a.lot += int120(size);
            a.tabWad += uint96(notionalWad);
        } else {
            a.lot += int120(size);
            uint256 both = uint256(a.tabWad) + notionalWad;
            uint256 tab = FixedPointMathLib.min(FixedPointMathLib.abs(a.lot).mulWadUp(priceWad), both);
            _releaseOutstanding(both - tab);
            a.tabWad = uint96(tab);
        }
        if (a.lot == 0) _finish(id, address(0));
        else _auctions[id] = a;
    }

    // ------------------------------------------------------------------ take internals

    function _takePosition(
        uint256 id,
        Auction memory a,
        address account,
        uint256 index,
        uint256 amount,
        uint256 factorWad,
        uint256 priceLimitWad,
        address receiver,
        bytes calldata data,
        StoredParams storage p
    ) internal returns (bytes32 marketId, uint256 tabTaken) {
        uint256 lotAbs = FixedPointMathLib.abs(a.lot);
        if (amount > lotAbs) amount = lotAbs;
        tabTaken = amount == lotAbs ? a.tabWad : FixedPointMathLib.mulDivUp(a.tabWad, amount, lotAbs);
        uint256 tabLeft = a.tabWad - tabTaken;
        if (tabLeft != 0 && tabLeft < p.dustWad) revert DustRemainder(id, tabLeft, p.dustWad);
        bool isLong = a.lot > 0;
        int256 slice = isLong ? -int256(amount) : int256(amount);
        uint256 price;
        (marketId, price) = vault.liquidatePositionAtIndex(
            account,
            index,
            slice,
            isLong ? factorWad : 2e18 - factorWad,
            msg.sender,
            true
        );
        if (isLong ? price > priceLimitWad : price < priceLimitWad) revert PriceLimitExceeded(id, price, priceLimitWad);
        a.lot += int120(slice);
        a.tabWad = uint96(tabLeft);
        _auctions[id] = a;
        if (account == address(0)) _poolOnSale[index] += slice;
        _releaseOutstanding(tabTaken);
        emit Take(id, msg.sender, amount, price, 0, a.lot);
        if (data.length != 0) IAuctionTaker(receiver).onAuctionTake(msg.sender, id, amount, 0, data);
        if (a.lot == 0) _finish(id, account);
    }

    function _takeCollateral(
        uint256 id,
        Auction memory a,
        address account,
        uint256 index,
        uint256 amount,
        uint256 factorWad,
        uint256 priceLimitWad,
        address receiver,
        bytes calldata data,
        StoredParams storage p
    ) internal {
        CollateralRef memory ref = _collateralRefs[index];
        address token = ref.token;
        uint256 price = oracle.getPrice(token).mulWadUp(factorWad);
        if (price > priceLimitWad) revert PriceLimitExceeded(id, price, priceLimitWad);
        uint256 lot = uint256(int256(a.lot));
        if (amount > lot) amount = lot;
        amount -= amount % ref.unitWad; // whole token units
        if (amount == 0) revert ZeroTake(id);
        uint256 owe = amount.mulWadUp(price);
        // Never raise more than the tab: buy only what covers it, rounded down to whole units
        // (the bidder pays the tab for at most what it covers), and at least one unit.
        if (owe >= a.tabWad) {
            owe = a.tabWad;
            uint256 covering = owe.divWad(price);
            covering -= covering % ref.unitWad;
            amount = FixedPointMathLib.min(lot, covering == 0 ? ref.unitWad : covering);
        } else if (amount < lot && a.tabWad - owe < p.dustWad) {
            // A partial take may not leave a tab below dust; taking the whole lot always may.
            revert DustRemainder(id, a.tabWad - owe, p.dustWad);
        }
        uint256 sent = vault.seizeCollateral(account, token, amount, receiver);
        if (data.length != 0) IAuctionTaker(receiver).onAuctionTake(msg.sender, id, amount, owe, data);
        vault.transferQuote(msg.sender, account, owe);
        a.tabWad -= uint96(owe);
        a.lot -= int120(int256(amount));
        // Covered: the rest of the lot stays with the account (it never left).
        if (a.tabWad == 0) a.lot = 0;
        _auctions[id] = a;
        emit Take(id, msg.sender, sent, price, owe, a.lot);
        if (a.lot == 0) _finish(id, account);
    }

    // ------------------------------------------------------------------ backstop and endings

    /// @dev Resets exhausted: the pool absorbs a position lot at oracle × floor; a collateral lot
    /// goes to the insurance fund, which then carries the account's debt through `settleShortfall`.
    function _backstop(
        uint256 id,
        Auction memory a,
        address account,
        LotKind kind,
        uint256 index,
        StoredParams storage p
    ) internal {
        uint256 price;
        if (kind == LotKind.Pool) {
            // The pool keeps its own exposure (its hedger may now sell it); nothing moves.
            price = oracle.getPrice(vault.marketParams(_marketIdAt(index)).oracleAsset);
            _poolOnSale[index] -= a.lot;
            _releaseOutstanding(a.tabWad);
            account = address(0);
        } else if (kind == LotKind.Position) {
            // `redo` has checked the breaker (`BreakerAction.Redo`).
            (, price) = vault.liquidatePositionAtIndex(
                account,
                index,
                -int256(a.lot),
                a.lot > 0 ? p.floorWad : 2e18 - p.floorWad,
                address(0),
                false
            );
            _releaseOutstanding(a.tabWad);
        } else {
            // The insurance fund takes the collateral (its admin can sweep it to be sold) and, in
            // `_finish` (the vault's `endLiquidation`), pays the account's debt; what it cannot pay
            // is socialised.
            address token = _collateralRefs[index].token;
            price = oracle.getPrice(token).mulWad(p.floorWad);
            vault.seizeCollateral(account, token, uint256(int256(a.lot)), vault.insuranceFund());
        }
        emit Backstop(id, account, a.lot, price);
        _finish(id, account);
    }

    /// @dev Ends an auction: releases the account's hold and, when that frees an account left with
    /// nothing but a negative quote balance, settles it (insurance, then LPs) in the same vault call.
    function _finish(uint256 id, address account) internal {
        delete _auctions[id];
        emit AuctionEnded(id, account);
        // A pool lot (account zero) holds no account.
        if (account != address(0)) vault.endLiquidation(account);
    }

    // ------------------------------------------------------------------ pricing and throttles

    /// @dev m(t) = max(floor, buf × curve(t)); stale past `tail` or when buf × curve < cusp.
    function _factor(Auction memory a, StoredParams storage p) internal view returns (uint256 factorWad, bool stale) {
        // solhint-disable-next-line not-rely-on-time
        uint256 elapsed = block.timestamp - a.startTime;
        uint256 raw = uint256(p.bufWad).mulWad(p.curve.factor(elapsed));
        stale = elapsed > p.tailSec || raw < p.cuspWad;
        factorWad = raw > p.floorWad ? raw : p.floorWad;
    }

    function _penaltyAndReward(
        uint256 tabWad,
        StoredParams storage p
    ) internal view returns (uint256 penalty, uint256 reward) {
        penalty = tabWad.mulWadUp(p.penaltyWad);
        reward = FixedPointMathLib.min(_reward(tabWad, p), penalty);
    }

    function _reward(uint256 tabWad, StoredParams storage p) internal view returns (uint256) {
        return FixedPointMathLib.min(uint256(p.tipWad) + tabWad.mulWad(p.chipWad), p.rewardCapWad);
    }

    /// @dev Sizes `wantWad` down to the capacity left (market window, global window, outstanding
    /// cap; a share of it at caution, none from level 2) and records its use. Reverts with
    /// `NoCapacity` when what is left would make a lot smaller than both the request and dust: a
    /// dust lot would only block a proper kick later.
    function _consumeCapacity(
        uint256 marketIndex,
        bytes32 marketId,
        uint256 wantWad,
        uint256 dustWad,
        uint256 level
    ) internal returns (uint256 used) {
        used = _takeCapacity(marketIndex, wantWad, dustWad, level);
        if (used == 0) {
            uint256 left = _levelShare(_available(_marketBuckets[marketIndex], _global, _throttle), level);
            revert NoCapacity(marketId, left);
        }
    }

    /// @dev `_consumeCapacity` without the revert: 0 when nothing may be used.
    function _takeCapacity(
        uint256 marketIndex,
        uint256 wantWad,
        uint256 dustWad,
        uint256 level
    ) internal returns (uint256 used) {
        Throttle memory t = _throttle;
        Bucket memory m = _marketBuckets[marketIndex];
        GlobalBucket memory g = _global;
        uint256 available = _available(m, g, t);
        if (level != BreakerState.NORMAL) available = _levelShare(available, level);
        if (available == 0 || (available < wantWad && available < dustWad)) return 0;
        used = FixedPointMathLib.min(wantWad, available);
        // solhint-disable-next-line not-rely-on-time
        uint32 nowTs = uint32(block.timestamp);
        if (m.capacityWad != 0) {
            m.usedWad = uint96(_decayed(m.usedWad, m.updatedAt, m.capacityWad, t.windowSec) + used);
            m.updatedAt = nowTs;
            _marketBuckets[marketIndex] = m;
        }
        g.usedWad = uint96(_decayed(g.usedWad, g.updatedAt, t.globalCapacityWad, t.windowSec) + used);
        g.updatedAt = nowTs;
        g.outstandingWad += uint96(used);
        _global = g;
    }

    /// @dev What a breaker level leaves of `available`: all of it at normal, the caution share at
    /// caution, none from level 2.
    function _levelShare(uint256 available, uint256 level) internal view returns (uint256) {
        if (level == BreakerState.NORMAL) return available;
        if (level == BreakerState.CAUTION) return (available * _breakerConfig.cautionCapacityBps) / 10_000;
        return 0;
    }

    function _available(
        Bucket memory m,
        GlobalBucket memory g,
        Throttle memory t
    ) internal view returns (uint256 available) {
        available = uint256(t.globalCapacityWad).zeroFloorSub(
            _decayed(g.usedWad, g.updatedAt, t.globalCapacityWad, t.windowSec)
        );
        available = FixedPointMathLib.min(available, uint256(t.maxOutstandingWad).zeroFloorSub(g.outstandingWad));
        if (m.capacityWad != 0) {
            uint256 marketLeft = uint256(m.capacityWad).zeroFloorSub(
                _decayed(m.usedWad, m.updatedAt, m.capacityWad, t.windowSec)
            );
            available = FixedPointMathLib.min(available, marketLeft);
        }
    }

    /// @dev Window usage after decaying linearly at capacity / window per second since `updatedAt`.
    function _decayed(
        uint256 usedWad,
        uint256 updatedAt,
        uint256 capacityWad,
        uint256 windowSec
    ) internal view returns (uint256) {
        // solhint-disable-next-line not-rely-on-time
        uint256 refill = (capacityWad * (block.timestamp - updatedAt)) / windowSec;
        return usedWad.zeroFloorSub(refill);
    }

    function _roundUpTo(uint256 x, uint256 unit) internal pure returns (uint256) {
        uint256 r = x % unit;
        return r == 0 ? x : x + (unit - r);
    }

    function _releaseOutstanding(uint256 amountWad) internal {
        _global.outstandingWad = uint96(uint256(_global.outstandingWad).zeroFloorSub(amountWad));
    }

    /// @dev Sends an auction-health report for a lot of `tabWad` when a breaker is wired and the lot
    /// is at least the report's minimum notional.
    function _report(
        bytes32 marketKey,
        uint256 tabWad,
        uint256 discount,
        uint256 threshold,
        bool floorReached
    ) internal {
        BreakerConfig memory cfg = _breakerConfig;
        if (address(cfg.breaker) == address(0) || tabWad < cfg.reportMinNotionalWad) return;
        cfg.breaker.reportAuctionHealth(marketKey, discount, threshold, floorReached);
    }

    /// @dev Reverts unless the effective level of the lot's market (global for a collateral lot)
    /// permits `action`; returns the breaker key of the lot.
    function _checkBreaker(LotKind kind, uint256 index, BreakerAction action) internal view returns (bytes32 key) {
        uint256 level;
        if (kind != LotKind.Collateral) {
            key = _marketIdAt(index);
            level = vault.breakerLevelAt(index);
        } else {
            level = vault.breakerLevel(bytes32(0));
        }
        if (!BreakerState.permits(action, level)) revert BreakerActive(key, level);
    }

    /// @dev The vault's market id at `index` (off the hot paths: `redo` and views).
    function _marketIdAt(uint256 index) internal view returns (bytes32) {
        return vault.marketIds()[index];
    }

    function _decode(uint256 id) internal pure returns (address account, LotKind kind, uint256 index) {
        account = address(uint160(id >> 16));
        kind = LotKind(uint8(id >> 8));
        index = uint8(id);
    }

    // ------------------------------------------------------------------ parameter checks

    function _setParams(Params memory p) internal {
        if (address(p.curve) == address(0)) revert ZeroAddress();
        Bounds.check("buf", p.bufWad, WAD, MAX_BUF);
        Bounds.check("tail", p.tailSec, MIN_TAIL, MAX_TAIL);
        Bounds.check("floor", p.floorWad, MIN_FLOOR, WAD - 1);
        Bounds.check("cusp", p.cuspWad, p.floorWad, WAD);
        Bounds.check("penalty", p.penaltyWad, 0, MAX_PENALTY);
        Bounds.check("chip", p.chipWad, 0, MAX_CHIP);
        Bounds.check("tip", p.tipWad, 0, MAX_TIP);
        Bounds.check("rewardCap", p.rewardCapWad, 0, MAX_REWARD_CAP);
        Bounds.check("dust", p.dustWad, 0, MAX_DUST);
        Bounds.check("targetHealth", p.targetHealthWad, MIN_TARGET_HEALTH, MAX_TARGET_HEALTH);
        Bounds.check("maxResets", p.maxResets, 0, MAX_RESETS);
        Bounds.check("instantBonus", p.instantBonusWad, 0, MAX_INSTANT_BONUS);
        _params = StoredParams({
            curve: p.curve,
            bufWad: p.bufWad,
            tailSec: p.tailSec,
            cuspWad: p.cuspWad,
            floorWad: p.floorWad,
            dustWad: p.dustWad,
            maxResets: p.maxResets,
            penaltyWad: p.penaltyWad,
            chipWad: p.chipWad,
            tipWad: p.tipWad,
            liquidationMode: p.instantMode ? MODE_INSTANT : (p.poolTakeover ? MODE_TAKEOVER : MODE_AUCTION),
            rewardCapWad: p.rewardCapWad,
            targetHealthWad: p.targetHealthWad,
            kickDustWad: uint80(p.dustWad), // bounded by MAX_DUST < 2^80
            instantBonusWad: p.instantBonusWad
        });
        emit ParamsSet(p);
    }

    function _loadParams() internal view returns (Params memory) {
        StoredParams memory s = _params;
        return
            Params({
                curve: s.curve,
                bufWad: s.bufWad,
                tailSec: s.tailSec,
                cuspWad: s.cuspWad,
                floorWad: s.floorWad,
                dustWad: s.dustWad,
                penaltyWad: s.penaltyWad,
                chipWad: s.chipWad,
                tipWad: s.tipWad,
                rewardCapWad: s.rewardCapWad,
                targetHealthWad: s.targetHealthWad,
                maxResets: s.maxResets,
                instantMode: s.liquidationMode == MODE_INSTANT,
                poolTakeover: s.liquidationMode == MODE_TAKEOVER,
                instantBonusWad: s.instantBonusWad
            });
    }

    function _setThrottle(Throttle memory t) internal {
        Bounds.check("window", t.windowSec, MIN_WINDOW, MAX_WINDOW);
        Bounds.check("globalCapacity", t.globalCapacityWad, 1, type(uint96).max);
        Bounds.check("maxOutstanding", t.maxOutstandingWad, 1, type(uint96).max);
        _throttle = t;
        emit ThrottleSet(t);
    }
}

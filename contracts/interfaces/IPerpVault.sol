// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBulwarkErrors} from "./IBulwarkErrors.sol";
import {IOracleRouter} from "./IOracleRouter.sol";
import {IRiskEngine} from "./IRiskEngine.sol";

/// @title IPerpVault
/// @notice Cross-margin perpetual-futures vault. It holds every trader's collateral and the quote
/// tokens owed to the liquidity pool and the insurance fund, keyed by a ledger. The liquidity pool
/// is the counterparty of every trade.
/// @dev Units: prices and ratios are WAD (1e18). Every USD amount inside is WAD ("quote WAD");
/// token amounts at the boundary are in the token's own decimals. Every rounding favours the
/// protocol: traders' PnL rounds down, what traders owe (fees, funding, margin) rounds up.
/// Positions are signed base-asset sizes in WAD (positive = long).
interface IPerpVault is IBulwarkErrors {
    // ------------------------------------------------------------------ types

    /// @notice Trading parameters of a market. Bounds are in `PerpVault`'s constants.
    /// @param oracleAsset Asset whose `IOracleRouter` price marks this market.
    /// @param makerFeeWad Fee on the part of a trade that reduces |skew|, as a fraction of notional.
    /// @param takerFeeWad Fee on the part of a trade that increases |skew|.
    /// @param maxFundingVelocityWad Largest daily change of the daily funding rate (at |skew| ≥ skewScale).
    /// @param maxOiPoolRatioWad Cap on each side's open notional, as a multiple of the pool's balance.
    /// @param skewScaleWad Skew (base units) at which the fill price moves 100% and funding drifts at full velocity.
    struct MarketParams {
        address oracleAsset;
        uint64 makerFeeWad;
        uint64 takerFeeWad;
        uint64 maxFundingVelocityWad;
        uint64 maxOiPoolRatioWad;
        uint128 skewScaleWad;
    }

    /// @notice A trader's position in one market.
    /// @param sizeWad Signed size in base units (positive = long).
    /// @param entryPriceWad Size-weighted average entry price.
    /// @param lastFundingIndexWad Market funding index at the last settlement.
    struct Position {
        int128 sizeWad;
        uint128 entryPriceWad;
        int128 lastFundingIndexWad;
    }

    /// @notice A market's open interest and funding state.
    /// @param netEntryNotional Σ size × entry price over positions (USD WAD), rounded down per update.
    /// @param netFundingBasis Σ size × last settled funding index (USD WAD), rounded up per update.
    /// Together they value the pool's side of every position without a loop over traders.
    struct MarketState {
        uint128 oiLongWad;
        uint128 oiShortWad;
        int128 fundingIndexWad;
        int80 fundingRateWad;
        uint48 lastFundingTime;
        int128 netEntryNotional;
        int128 netFundingBasis;
    }

    /// @notice A collateral asset's configuration. Index 0 is always the quote token.
    struct CollateralConfig {
        address token;
        uint64 weightWad;
        uint8 decimals;
        uint8 index;
        uint128 capWad;
        uint128 totalDepositedWad;
    }

    /// @notice Margin summary of an account at oracle prices.
    struct AccountHealth {
        int256 equityWad;
        uint256 initialMarginWad;
        uint256 maintenanceMarginWad;
        uint256 collateralValueWad;
        int256 unrealizedPnlWad;
        int256 accruedFundingWad;
    }

    /// @notice One position as a liquidator sees it: oracle price, notional, initial margin ratio.
    struct PositionSnapshot {
        bytes32 marketId;
        address oracleAsset;
        uint256 index;
        int256 sizeWad;
        uint256 priceWad;
        uint256 notionalWad;
        uint256 imrWad;
    }

    /// @notice Everything a liquidator needs to decide and size a kick, in one call.
    struct LiquidationSnapshot {
        bool liquidatable;
        LiquidationReason reason;
        AccountHealth health;
        PositionSnapshot[] positions;
    }

    /// @notice What a kick needs, in one call: the liquidation check, the account's hold, and its
    /// target position (the largest by notional at the oracle, the lowest market index among
    /// equals) with the breaker level of that market.
    /// @param liquidatable As `isLiquidatable`.
    /// @param inLiquidation As `isInLiquidation`.
    /// @param positionCount Open positions; `target` is meaningful only when it is non-zero.
    /// @param breakerLevel `breakerLevelAt(target.index)`, or the global level when there is no position.
    /// @param equityWad Equity at the oracle price (as `accountHealth`).
    /// @param initialMarginWad IM at the oracle price.
    /// @param maintenanceMarginWad MM at the oracle price.
    /// @param target The largest position, as `liquidationSnapshot` reports it: a dust position in a
    /// lower-index market cannot shield a large one from the kick.
    struct KickSnapshot {
        bool liquidatable;
        bool inLiquidation;
        uint256 positionCount;
        uint256 breakerLevel;
        int256 equityWad;
        uint256 initialMarginWad;
        uint256 maintenanceMarginWad;
        PositionSnapshot target;
    }

    /// @notice Why an account is (or is not) liquidatable.
    /// @dev `BelowMaintenance`: equity < MM at both the oracle and the smoothed price (wick filter).
    /// `BelowHardFloor`: equity < hardFloor × MM at the oracle price alone.
    enum LiquidationReason {
        None,
        BelowMaintenance,
        BelowHardFloor
    }

    // ------------------------------------------------------------------ events

    event MarketListed(bytes32 indexed marketId, uint8 index, MarketParams params);
    event MarketParamsSet(bytes32 indexed marketId, MarketParams params);
    event CollateralListed(address indexed token, uint8 index, uint64 weightWad, uint128 capWad);
    event CollateralParamsSet(address indexed token, uint64 weightWad, uint128 capWad);
    event GlobalParamsSet(uint64 insuranceFeeShareWad, uint64 reserveRatioWad, uint128 liquidationBufferWad);
    event RiskEngineSet(address indexed riskEngine);
    event PoolAndInsuranceSet(address indexed pool, address indexed insuranceFund);

    event Deposited(address indexed account, address indexed token, address indexed from, uint256 amount);
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);

    /// @notice A trade. `realizedPnlWad` excludes the fee and funding, which are listed apart.
    event Traded(
        address indexed account,
        bytes32 indexed marketId,
        int256 sizeDeltaWad,
        uint256 fillPriceWad,
        int256 newSizeWad,
        int256 realizedPnlWad,
        uint256 feeWad,
        int256 fundingPaidWad
    );

    event PoolDeposited(uint256 amountWad);
    event PoolWithdrawn(address indexed to, uint256 amountWad);
    event InsuranceFunded(address indexed from, uint256 amountWad);
    event InsuranceWithdrawn(address indexed to, uint256 amountWad);

    event LiquidationFlagSet(address indexed account, bool inLiquidation);
    /// @notice A slice of a position was closed by the liquidator at `priceWad`, into `to`'s
    /// account (or against the pool when `to` is zero).
    event PositionLiquidated(
        address indexed account,
        bytes32 indexed marketId,
        int256 sizeDeltaWad,
        uint256 priceWad,
        address indexed to,
        int256 realizedPnlWad
    );
    event CollateralSeized(address indexed account, address indexed token, uint256 amount, address indexed to);
    event QuoteTransferred(address indexed from, address indexed to, uint256 amountWad);
    event InsurancePaid(address indexed account, uint256 amountWad);
    event ShortfallSettled(
        address indexed account,
        uint256 shortfallWad,
        uint256 fromInsuranceWad,
        uint256 socializedWad
    );
    /// @notice A loss that no account nor the insurance fund covered: LPs bear it.
    event BadDebt(address indexed account, uint256 amountWad);
    /// @notice The circuit breaker mirrored a level state (`BreakerState` layout; `bytes32(0)` = global).
    event BreakerStateSet(bytes32 indexed marketId, uint256 word);

    // ------------------------------------------------------------------ errors

    error ZeroAmount();
    error AlreadyInitialized();
    error NotPool(address caller);
    error NotInsuranceFund(address caller);
    error UnknownMarket(bytes32 marketId);
    error MarketAlreadyListed(bytes32 marketId);
    error TooManyMarkets(uint256 max);
    error UnknownCollateral(address token);
    error CollateralAlreadyListed(address token);
    error TooManyCollaterals(uint256 max);
    error UnsupportedDecimals(address token, uint8 decimals);
    /// @notice The token delivered `received` instead of `expected` (fee-on-transfer or rebasing).
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    error DepositCapExceeded(address token, uint256 totalWad, uint256 capWad);
    error InsufficientBalance(address account, address token, uint256 balanceWad, uint256 requestedWad);
    /// @notice After the action, the account's equity is below its requirement (IM for new risk).
    error Undercollateralized(address account, int256 equityWad, uint256 requiredWad);
    error SlippageExceeded(uint256 fillPriceWad, uint256 acceptablePriceWad);
    error InvalidFillPrice(bytes32 marketId, int256 fillPriceWad);
    error OpenInterestCapExceeded(bytes32 marketId, bool isLong, uint256 oiNotionalWad, uint256 capWad);
    error AccountInLiquidation(address account);
    error InsufficientPoolLiquidity(uint256 requestedWad, uint256 availableWad);
    error InsufficientInsurance(uint256 requestedWad, uint256 availableWad);
    /// @notice The liquidator asked to move more than the account's position or in the wrong direction.
    error InvalidLiquidationSlice(address account, bytes32 marketId, int256 sizeWad, int256 sliceWad);
    /// @notice A shortfall can be settled only on an account with no positions, no volatile
    /// collateral and a negative quote balance.
    error ShortfallNotSettleable(address account);
    error SelfTransfer(address account);

    // ------------------------------------------------------------------ admin

    /// @notice Sets the liquidity pool and insurance fund, once. Role: DEFAULT_ADMIN.
    function initialize(address pool, address insuranceFund) external;

    /// @notice Lists a market. Role: RISK_ADMIN. Its margin ratios live in the risk engine.
    function listMarket(bytes32 marketId, MarketParams calldata params) external;

    /// @notice Replaces a market's parameters. Role: RISK_ADMIN. Rejects a no-op.
    function setMarketParams(bytes32 marketId, MarketParams calldata params) external;

    /// @notice Lists a volatile collateral asset. Role: RISK_ADMIN.
    /// @param weightWad Haircut weight in (0, 0.95]; collateral value = balance × price × weight.
    /// @param capWad Cap on the total deposited, in token units scaled to WAD.
    function listCollateral(address token, uint64 weightWad, uint128 capWad) external;

    /// @notice Changes a volatile collateral's weight and cap. Role: RISK_ADMIN.
    function setCollateralParams(address token, uint64 weightWad, uint128 capWad) external;

    /// @notice Global parameters. Role: RISK_ADMIN.
    /// @param insuranceFeeShareWad Share of trading fees credited to the insurance fund.
    /// @param reserveRatioWad Fraction of max(long, short) open notional that LPs cannot withdraw.
    /// @param liquidationBufferWad Flat USD added to IM and MM of any account with a position.
    function setGlobalParams(
        uint64 insuranceFeeShareWad,
        uint64 reserveRatioWad,
        uint128 liquidationBufferWad
    ) external;

    /// @notice Replaces the margin policy. Role: DEFAULT_ADMIN. Reverts (with the engine's error)
    /// unless the new engine answers `marginRatios` for every listed market.
    function setRiskEngine(IRiskEngine riskEngine) external;

    // ------------------------------------------------------------------ traders

    /// @notice Deposits `amount` (token units) of `token` into the caller's account.
    /// @dev Reverts with `FeeOnTransferToken` if the vault receives less than `amount`.
    function deposit(address token, uint256 amount) external;

    /// @notice Deposits into `account` on its behalf; the caller pays. Volatile collateral cannot be
    /// deposited for another account while it is in liquidation (`AccountInLiquidation`).
    function depositFor(address account, address token, uint256 amount) external;

    /// @notice Withdraws `amount` (token units) of `token` to the caller. The account must keep
    /// equity ≥ IM afterwards, and cannot take its quote balance below zero.
    function withdraw(address token, uint256 amount) external;

    /// @notice Changes the caller's position in `marketId` by `sizeDeltaWad` at the skew-adjusted
    /// fill price. Buys (delta > 0) revert if the fill is above `acceptablePriceWad`, sells if below.
    /// @dev Risk-increasing trades (|size| grows or flips side) need equity ≥ IM afterwards.
    /// Reduce-only trades are always allowed while the account is not in liquidation. One that
    /// leaves the account with no position, no volatile collateral and a negative quote balance
    /// settles that debt at once (insurance first, then the pool: `ShortfallSettled`, `BadDebt`).
    /// Settles the position's accrued funding first. The fee is charged to the quote balance.
    function trade(bytes32 marketId, int256 sizeDeltaWad, uint256 acceptablePriceWad) external;

    // ------------------------------------------------------------------ pool and insurance

    /// @notice Credits the pool's ledger with `amount` quote tokens (token units) that the pool
    /// already delivered to the vault. Pool only.
    function poolDeposit(uint256 amount) external;

    /// @notice Pays `amount` quote tokens (token units) of the pool's free liquidity to `to`. Pool only.
    function poolWithdraw(uint256 amount, address to) external;

    /// @notice Anyone may fund the insurance fund with `amount` quote tokens (token units).
    function fundInsurance(uint256 amount) external;

    /// @notice Pays `amount` quote tokens (token units) of insurance money to `to`. Insurance fund only.
    function insuranceWithdraw(uint256 amount, address to) external;

    // ------------------------------------------------------------------ liquidator (LIQUIDATOR role)

    /// @notice Freezes (or releases) an account while it is being liquidated: no trades, no
    /// withdrawals. Calls nest: each `true` (one per running auction) needs its own `false`.
    function setInLiquidation(address account, bool inLiquidation) external;

    /// @notice `setInLiquidation(account, true)`, then charges the account `insuranceWad` to the
    /// insurance fund and `rewardWad` to `keeper`'s quote balance (the kick's penalty), in one call.
    function beginLiquidation(address account, uint256 insuranceWad, address keeper, uint256 rewardWad) external;

    /// @notice Closes `sliceWad` of `account`'s position (a reduction: opposite sign to the size,
    /// at most the size) at `priceWad`. When `to` is non-zero, `to` takes the slice over at the same
    /// price and must hold IM afterwards; otherwise the pool absorbs it.
    /// @return realizedPnlWad PnL realised by `account` on the slice (funding settled apart).
    function liquidatePosition(
        address account,
        bytes32 marketId,
        int256 sliceWad,
        uint256 priceWad,
        address to
    ) external returns (int256 realizedPnlWad);

    /// @notice `liquidatePosition` at oracle × `priceFactorWad` (WAD), by market index: auctions and
    /// the backstop price relative to the current oracle, and the auction house holds indices. With
    /// `asTake`, first reverts with `BreakerActive` unless the market's effective breaker level
    /// permits a take (`BreakerAction.Take`). Returns the market's id and the price used.
    function liquidatePositionAtIndex(
        address account,
        uint256 marketIndex,
        int256 sliceWad,
        uint256 priceFactorWad,
        address to,
        bool asTake
    ) external returns (bytes32 marketId, uint256 priceWad);

    /// @notice `setInLiquidation(account, false)`, then, when that released the account and it is
    /// left with nothing but a negative quote balance, `settleShortfall(account)`.
    function endLiquidation(address account) external returns (uint256 fromInsuranceWad, uint256 socializedWad);

    /// @notice Sends `amountWad` of `account`'s volatile collateral `token` to `to` as tokens,
    /// rounded down to token units. Returns the token amount sent.
    function seizeCollateral(
        address account,
        address token,
        uint256 amountWad,
        address to
    ) external returns (uint256 amount);

    /// @notice Moves quote balance between two accounts (e.g. a bidder paying for a lot). Only an
    /// account in liquidation can be taken below zero, and only to pay an account that is not
    /// (its keeper's reward); anyone else must hold the amount. Reverts `AccountInLiquidation(from)`
    /// when both are in liquidation: a frozen bidder cannot buy another account's collateral. A
    /// payer not in liquidation that holds positions must keep its initial margin afterwards, as
    /// after a withdrawal (`Undercollateralized`).
    function transferQuote(address from, address to, uint256 amountWad) external;

    /// @notice Moves quote balance from `account` to the insurance fund (a liquidation penalty).
    function payInsurance(address account, uint256 amountWad) external;

    /// @notice Zeroes a negative quote balance of an emptied account: the insurance fund pays
    /// first, then the rest is socialised to the pool with a `BadDebt` event.
    function settleShortfall(address account) external returns (uint256 fromInsuranceWad, uint256 socializedWad);

    // ------------------------------------------------------------------ views

    function oracle() external view returns (IOracleRouter);
    function riskEngine() external view returns (IRiskEngine);
    function quoteToken() external view returns (address);
    function pool() external view returns (address);
    function insuranceFund() external view returns (address);

    /// @notice Margin summary at oracle prices.
    function accountHealth(address account) external view returns (AccountHealth memory);

    /// @notice Whether `account` can be liquidated now, and under which rule.
    function isLiquidatable(address account) external view returns (bool, LiquidationReason);

    function isInLiquidation(address account) external view returns (bool);

    /// @notice Mirrors a circuit-breaker state word (BREAKER_ROLE only); `bytes32(0)` is global.
    function setBreakerState(bytes32 marketId, uint256 word) external;

    /// @notice Effective breaker level of `marketId`: max(market, global) after time-based recovery;
    /// `bytes32(0)` gives the global level alone.
    function breakerLevel(bytes32 marketId) external view returns (uint256);

    /// @notice `breakerLevel` by market index (for the auction house, which holds indices).
    function breakerLevelAt(uint256 marketIndex) external view returns (uint256);

    /// @notice `isLiquidatable`, the account's health and its positions, for sizing a kick.
    function liquidationSnapshot(address account) external view returns (LiquidationSnapshot memory);

    /// @notice `isLiquidatable`, `isInLiquidation`, the account's health and its first position with
    /// that market's breaker level, for a kick (one call, no dynamic data).
    function kickSnapshot(address account) external view returns (KickSnapshot memory);

    /// @notice The vault's index of a listed market (its bit in account masks).
    function marketIndex(bytes32 marketId) external view returns (uint256);
    function getPosition(address account, bytes32 marketId) external view returns (Position memory);
    /// @notice Markets in which `account` has a position.
    function accountMarkets(address account) external view returns (bytes32[] memory);
    function quoteBalance(address account) external view returns (int256);
    /// @notice Balance of a volatile collateral, WAD-scaled token units.
    function collateralBalance(address account, address token) external view returns (uint256);

    function marketParams(bytes32 marketId) external view returns (MarketParams memory);
    function marketState(bytes32 marketId) external view returns (MarketState memory);
    function marketIds() external view returns (bytes32[] memory);
    function collateralConfig(address token) external view returns (CollateralConfig memory);
    function collateralTokens() external view returns (address[] memory);

    /// @notice Fill price for a trade of `sizeDeltaWad` now.
    function fillPrice(bytes32 marketId, int256 sizeDeltaWad) external view returns (uint256);
    /// @notice Funding rate (daily, WAD) and index, accrued to now.
    function currentFunding(bytes32 marketId) external view returns (int256 rateWad, int256 indexWad);

    /// @notice Realised quote the pool owns in the vault (can be negative only after losses).
    function poolBalance() external view returns (int256);
    /// @notice Pool balance plus its unrealised PnL and funding against traders, floored at zero.
    function poolValue() external view returns (uint256);
    /// @notice What an LP exit depends on besides liquidity: the highest effective breaker level
    /// over the markets (global included), and when the pool last took a position over from an
    /// account (unix seconds; 0 if never). `LiquidityPool` queues exits while either is recent.
    function lpExitState() external view returns (uint256 maxLevel, uint256 lastPoolFillAt);
    /// @notice What LPs can withdraw now: min(balance, value) minus the open-interest reserve.
    function poolFreeLiquidity() external view returns (uint256);
    function insuranceBalance() external view returns (uint256);

    function insuranceFeeShareWad() external view returns (uint64);
    function reserveRatioWad() external view returns (uint64);
    function liquidationBufferWad() external view returns (uint128);
}

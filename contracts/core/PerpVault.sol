// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {FixedPointMathLib} from "solady/src/utils/FixedPointMathLib.sol";
import {LibBit} from "solady/src/utils/LibBit.sol";
import {IPerpVault} from "../interfaces/IPerpVault.sol";
import {IOracleRouter} from "../interfaces/IOracleRouter.sol";
import {IRiskEngine} from "../interfaces/IRiskEngine.sol";
import {PerpMath} from "../libraries/PerpMath.sol";
import {SignedWad} from "../libraries/SignedWad.sol";
import {BreakerState, BreakerAction} from "../libraries/BreakerState.sol";
import {VaultLogic} from "../libraries/VaultLogic.sol";
import {VaultTypes} from "../libraries/vault/VaultTypes.sol";
import {Fills} from "../libraries/vault/Fills.sol";
import {Liquidation} from "../libraries/vault/Liquidation.sol";
import {VaultAdmin} from "../libraries/VaultAdmin.sol";
import {Bounds} from "../libraries/Bounds.sol";

/// @title PerpVault
/// @notice Cross-margin perpetual-futures vault: trader collateral, positions, funding, fees, and
/// the ledger of what the liquidity pool and the insurance fund own. See `IPerpVault`.
contract PerpVault is IPerpVault, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;
    using SignedWad for int256;
    using FixedPointMathLib for uint256;

    // ------------------------------------------------------------------ constants

    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");
    bytes32 public constant LIQUIDATOR_ROLE = keccak256("LIQUIDATOR_ROLE");
    /// @notice Held by the `CircuitBreaker`, which mirrors its level states here (`setBreakerState`).
    bytes32 public constant BREAKER_ROLE = keccak256("BREAKER_ROLE");

    uint256 internal constant WAD = 1e18;

    uint64 public constant MAX_INSURANCE_FEE_SHARE = 0.5e18;
    uint64 public constant MAX_RESERVE_RATIO = 1e18;
    uint128 public constant MAX_LIQUIDATION_BUFFER = 1_000e18; // USD

    // ------------------------------------------------------------------ immutables

    IOracleRouter public immutable oracle;
    address public immutable quoteToken;
    uint256 internal immutable QUOTE_SCALE;

    // ------------------------------------------------------------------ storage

    IRiskEngine public riskEngine;
    /// @dev Global breaker state (`BreakerState` layout), in the slot a trade already reads.
    uint96 internal _globalBreaker;
    address public pool;
    /// @dev When the pool last took a position over from an account (takeover, instant close or
    /// backstop), in the pool's slot: LP exits queue for a while after it (`LiquidityPool`).
    uint32 internal _lastPoolFillAt;
    address public insuranceFund;

    int128 internal _poolBalanceWad;
    uint128 internal _insuranceBalanceWad;

    uint64 public insuranceFeeShareWad;
    uint64 public reserveRatioWad;
    uint128 public liquidationBufferWad;

    mapping(address account => VaultTypes.AccountData) internal _accounts;
    mapping(address account => mapping(uint256 marketIndex => Position)) internal _positions;
    mapping(address account => mapping(uint256 assetIndex => uint256 balanceWad)) internal _collateral;

    bytes32[] internal _marketIds;
    mapping(bytes32 marketId => uint256 indexPlusOne) internal _marketIndexPlusOne;
    mapping(uint256 marketIndex => VaultTypes.Market) internal _markets;

    CollateralConfig[] internal _collaterals;
    mapping(address token => uint256 indexPlusOne) internal _collateralIndexPlusOne;

    /// @dev Per-market breaker state and margin multipliers (`BreakerState` layout).
    mapping(uint256 marketIndex => uint256 word) internal _marketBreaker;

    // ------------------------------------------------------------------ constructor

    constructor(address admin, IOracleRouter oracle_, IRiskEngine riskEngine_, address quoteToken_) {
        if (admin == address(0) || address(oracle_) == address(0) || address(riskEngine_) == address(0)) {
            revert ZeroAddress();
        }
        if (quoteToken_ == address(0)) revert ZeroAddress();
        uint8 decimals = IERC20Metadata(quoteToken_).decimals();
        if (decimals > 18) revert UnsupportedDecimals(quoteToken_, decimals);
        oracle = oracle_;
        riskEngine = riskEngine_;
        quoteToken = quoteToken_;
        QUOTE_SCALE = 10 ** (18 - decimals);
        _collaterals.push(
            CollateralConfig({
                token: quoteToken_,
                weightWad: uint64(WAD),
                decimals: decimals,
                index: 0,
                capWad: type(uint128).max,
                totalDepositedWad: 0
            })
        );
        _collateralIndexPlusOne[quoteToken_] = 1;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ modifiers

    modifier onlyPool() {
        if (msg.sender != pool) revert NotPool(msg.sender);
        _;
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IPerpVault
    function initialize(address pool_, address insuranceFund_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (pool != address(0)) revert AlreadyInitialized();
        if (pool_ == address(0) || insuranceFund_ == address(0)) revert ZeroAddress();
        pool = pool_;
        insuranceFund = insuranceFund_;
        emit PoolAndInsuranceSet(pool_, insuranceFund_);
    }

    /// @inheritdoc IPerpVault
    function listMarket(bytes32 marketId, MarketParams calldata params) external onlyRole(RISK_ADMIN_ROLE) {
        VaultAdmin.listMarket(_marketIds, _marketIndexPlusOne, _markets, oracle, riskEngine, marketId, params);
    }

    /// @inheritdoc IPerpVault
    function setMarketParams(bytes32 marketId, MarketParams calldata params) external onlyRole(RISK_ADMIN_ROLE) {
        VaultAdmin.setMarketParams(_markets[_marketIndex(marketId)], oracle, marketId, params);
    }

    /// @inheritdoc IPerpVault
    function listCollateral(address token, uint64 weightWad, uint128 capWad) external onlyRole(RISK_ADMIN_ROLE) {
        VaultAdmin.listCollateral(_collaterals, _collateralIndexPlusOne, oracle, token, weightWad, capWad);
    }

    /// @inheritdoc IPerpVault
    function setCollateralParams(address token, uint64 weightWad, uint128 capWad) external onlyRole(RISK_ADMIN_ROLE) {
        uint256 index = _collateralIndex(token);
        if (index == 0) revert UnknownCollateral(token);
        VaultAdmin.setCollateralParams(_collaterals[index], token, weightWad, capWad);
    }

    /// @inheritdoc IPerpVault
    function setGlobalParams(
        uint64 insuranceFeeShareWad_,
        uint64 reserveRatioWad_,
        uint128 liquidationBufferWad_
    ) external onlyRole(RISK_ADMIN_ROLE) {
        Bounds.check("insuranceFeeShare", insuranceFeeShareWad_, 0, MAX_INSURANCE_FEE_SHARE);
        Bounds.check("reserveRatio", reserveRatioWad_, 0, MAX_RESERVE_RATIO);
        Bounds.check("liquidationBuffer", liquidationBufferWad_, 0, MAX_LIQUIDATION_BUFFER);
        if (
            insuranceFeeShareWad == insuranceFeeShareWad_ &&
            reserveRatioWad == reserveRatioWad_ &&
            liquidationBufferWad == liquidationBufferWad_
        ) revert NoChange();
        insuranceFeeShareWad = insuranceFeeShareWad_;
        reserveRatioWad = reserveRatioWad_;
        liquidationBufferWad = liquidationBufferWad_;
        emit GlobalParamsSet(insuranceFeeShareWad_, reserveRatioWad_, liquidationBufferWad_);
    }

    /// @inheritdoc IPerpVault
    function setRiskEngine(IRiskEngine riskEngine_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(riskEngine_) == address(0)) revert ZeroAddress();
        if (riskEngine_ == riskEngine) revert NoChange();
        // The new engine must answer for every listed market, or their margin checks would revert.
        uint256 n = _marketIds.length;
        for (uint256 i; i < n; ++i) {
            riskEngine_.marginRatios(_marketIds[i], 0);
        }
        riskEngine = riskEngine_;
        emit RiskEngineSet(address(riskEngine_));
    }

    /// @inheritdoc IPerpVault
    function setBreakerState(bytes32 marketId, uint256 word) external onlyRole(BREAKER_ROLE) {
        if (marketId == bytes32(0)) _globalBreaker = uint96(word);
        else _marketBreaker[_marketIndex(marketId)] = word;
        emit BreakerStateSet(marketId, word);
    }

    // ------------------------------------------------------------------ traders: collateral

    /// @inheritdoc IPerpVault
    function deposit(address token, uint256 amount) external nonReentrant {
        _deposit(msg.sender, token, amount);
    }

    /// @inheritdoc IPerpVault
    function depositFor(address account, address token, uint256 amount) external nonReentrant {
        if (account == address(0)) revert ZeroAddress();
        // Volatile collateral sets the account's collateral mask, which would keep an account in
        // liquidation from being settled when its auction ends: nobody may add it for another then.
        if (token != quoteToken && account != msg.sender && _accounts[account].liquidations != 0) {
            revert AccountInLiquidation(account);
        }
        _deposit(account, token, amount);
    }

    /// @inheritdoc IPerpVault
    function withdraw(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 index = _collateralIndex(token);
        VaultTypes.AccountData memory acct = _accounts[msg.sender];
        if (acct.liquidations != 0) revert AccountInLiquidation(msg.sender);
        uint256 amountWad = amount * _scaleOf(index);
        if (index == 0) {
            int256 balance = acct.quoteBalanceWad;
            if (balance < int256(amountWad)) {
                revert InsufficientBalance(msg.sender, token, balance > 0 ? uint256(balance) : 0, amountWad);
            }
            acct.quoteBalanceWad = (balance - int256(amountWad)).toInt128();
        } else {
            uint256 balance = _collateral[msg.sender][index];
            if (balance < amountWad) revert InsufficientBalance(msg.sender, token, balance, amountWad);
            _collateral[msg.sender][index] = balance - amountWad;
            if (balance == amountWad) acct.collateralMask &= ~uint32(1 << index);
            _collaterals[index].totalDepositedWad -= uint128(amountWad);
        }
        _accounts[msg.sender] = acct;
        if (acct.positionMask != 0 || acct.quoteBalanceWad < 0) {
            _requireInitialMarginHinted(msg.sender, acct, type(uint256).max, bytes32(0), 0, _haltIm(acct.positionMask));
        }
        IERC20(token).safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, token, msg.sender, amount);
    }

    // ------------------------------------------------------------------ traders: trading

    /// @inheritdoc IPerpVault
    function trade(bytes32 marketId, int256 sizeDeltaWad, uint256 acceptablePriceWad) external nonReentrant {
        if (sizeDeltaWad == 0) revert ZeroAmount();
        uint256 index = _marketIndex(marketId);
        if (_accounts[msg.sender].liquidations != 0) revert AccountInLiquidation(msg.sender);
        VaultTypes.TradeResult memory r = VaultLogic.executeTrade(
            _markets[index],
            _positions[msg.sender],
            _accounts[msg.sender],
            oracle,
            marketId,
            index,
            sizeDeltaWad,
            acceptablePriceWad,
            _poolBalanceWad
        );

        uint256 insuranceFee = r.feeWad.mulWad(insuranceFeeShareWad);
        _chargeQuote(msg.sender, int256(r.feeWad));
        _poolBalanceWad = (int256(_poolBalanceWad) -
            r.realizedPnlWad +
            r.fundingPaidWad +
            int256(r.feeWad - insuranceFee)).toInt128();
        if (insuranceFee != 0) _insuranceBalanceWad += uint128(insuranceFee);

        if (!r.increasesRisk) {
            // A reduce-only trade skips the margin check, so an underwater account can close its
            // last position into a debt that nothing could kick: settle it now (insurance, then LPs)
            // so that the loss the pool's balance just booked is never withdrawable.
            VaultTypes.AccountData memory acct = _accounts[msg.sender];
            if (acct.positionMask == 0 && acct.collateralMask == 0 && acct.quoteBalanceWad < 0) {
                _settleShortfall(msg.sender, acct);
            }
        } else {
            // Reduce-only trades never consult the breaker (they are allowed at every level).
            uint256 word = _marketBreaker[index];
            uint256 level = _effectiveLevel(word);
            if (!BreakerState.permits(BreakerAction.RiskIncreasingTrade, level)) revert BreakerActive(marketId, level);
            _requireInitialMarginHinted(
                msg.sender,
                _accounts[msg.sender],
                index,
                marketId,
                r.oraclePriceWad,
                level == BreakerState.CAUTION ? BreakerState.cautionIm(word) : WAD
            );
        }
        emit Traded(
            msg.sender,
            marketId,
            sizeDeltaWad,
            r.fillPriceWad,
            r.newSizeWad,
            r.realizedPnlWad,
            r.feeWad,
            r.fundingPaidWad
        );
    }

    // ------------------------------------------------------------------ pool and insurance

    /// @inheritdoc IPerpVault
    function poolDeposit(uint256 amount) external onlyPool {
        if (amount == 0) revert ZeroAmount();
        uint256 amountWad = amount * QUOTE_SCALE;
        _poolBalanceWad = (int256(_poolBalanceWad) + int256(amountWad)).toInt128();
        emit PoolDeposited(amountWad);
    }

    /// @inheritdoc IPerpVault
    function poolWithdraw(uint256 amount, address to) external onlyPool nonReentrant {
        if (amount == 0) revert ZeroAmount();
        (uint256 level, bytes32 pausedMarket) = _maxLevel();
        if (!BreakerState.permits(BreakerAction.LpWithdraw, level)) revert BreakerActive(pausedMarket, level);
        uint256 amountWad = amount * QUOTE_SCALE;
        uint256 free = poolFreeLiquidity();
        if (amountWad > free) revert InsufficientPoolLiquidity(amountWad, free);
        _poolBalanceWad = (int256(_poolBalanceWad) - int256(amountWad)).toInt128();
        IERC20(quoteToken).safeTransfer(to, amount);
        emit PoolWithdrawn(to, amountWad);
    }

    /// @inheritdoc IPerpVault
    function fundInsurance(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _pullExact(quoteToken, amount);
        uint256 amountWad = amount * QUOTE_SCALE;
        _insuranceBalanceWad += amountWad.toUint128();
        emit InsuranceFunded(msg.sender, amountWad);
    }

    /// @inheritdoc IPerpVault
    function insuranceWithdraw(uint256 amount, address to) external nonReentrant {
        if (msg.sender != insuranceFund) revert NotInsuranceFund(msg.sender);
        if (amount == 0) revert ZeroAmount();
        uint256 amountWad = amount * QUOTE_SCALE;
        if (amountWad > _insuranceBalanceWad) revert InsufficientInsurance(amountWad, _insuranceBalanceWad);
        _insuranceBalanceWad -= uint128(amountWad);
        IERC20(quoteToken).safeTransfer(to, amount);
        emit InsuranceWithdrawn(to, amountWad);
    }

    // ------------------------------------------------------------------ liquidator

    /// @inheritdoc IPerpVault
    function setInLiquidation(address account, bool inLiquidation) external onlyRole(LIQUIDATOR_ROLE) {
        _setInLiquidation(account, inLiquidation);
    }

    /// @inheritdoc IPerpVault
    function beginLiquidation(
        address account,
        uint256 insuranceWad,
        address keeper,
        uint256 rewardWad
    ) external onlyRole(LIQUIDATOR_ROLE) {
        if (rewardWad != 0 && keeper == address(0)) revert ZeroAddress();
        // The hold and both charges in one write of the account's slot.
        VaultTypes.AccountData memory acct = _accounts[account];
        acct.liquidations += 1;
        acct.quoteBalanceWad = (int256(acct.quoteBalanceWad) - int256(insuranceWad) - int256(rewardWad)).toInt128();
        _accounts[account] = acct;
        emit LiquidationFlagSet(account, true);
        if (insuranceWad != 0) {
            _insuranceBalanceWad += insuranceWad.toUint128();
            emit InsurancePaid(account, insuranceWad);
        }
        if (rewardWad != 0) {
            _chargeQuote(keeper, -int256(rewardWad));
            emit QuoteTransferred(account, keeper, rewardWad);
        }
    }

    /// @inheritdoc IPerpVault
    function liquidatePosition(
        address account,
        bytes32 marketId,
        int256 sliceWad,
        uint256 priceWad,
        address to
    ) external onlyRole(LIQUIDATOR_ROLE) nonReentrant returns (int256 realizedPnlWad) {
        if (priceWad == 0) revert ZeroAmount();
        (realizedPnlWad, ) = _liquidatePosition(account, _marketIndex(marketId), marketId, sliceWad, priceWad, 0, to);
    }

    /// @inheritdoc IPerpVault
    function liquidatePositionAtIndex(
        address account,
        uint256 marketIndex_,
        int256 sliceWad,
        uint256 priceFactorWad,
        address to,
        bool asTake
    ) external onlyRole(LIQUIDATOR_ROLE) nonReentrant returns (bytes32 marketId, uint256 priceWad) {
        if (priceFactorWad == 0) revert ZeroAmount();
        marketId = _markets[marketIndex_].id;
        if (asTake) {
            uint256 level = _effectiveLevel(_marketBreaker[marketIndex_]);
            if (!BreakerState.permits(BreakerAction.Take, level)) revert BreakerActive(marketId, level);
        }
        (, priceWad) = _liquidatePosition(account, marketIndex_, marketId, sliceWad, 0, priceFactorWad, to);
    }

    /// @inheritdoc IPerpVault
    function seizeCollateral(
        address account,
        address token,
        uint256 amountWad,
        address to
    ) external onlyRole(LIQUIDATOR_ROLE) nonReentrant returns (uint256 amount) {
        uint256 index = _collateralIndex(token);
        if (index == 0) revert UnknownCollateral(token);
        if (to == address(0)) revert ZeroAddress();
        uint256 scale = _scaleOf(index);
        amount = amountWad / scale;
        if (amount == 0) revert ZeroAmount();
        uint256 exactWad = amount * scale;
        uint256 balance = _collateral[account][index];
        if (balance < exactWad) revert InsufficientBalance(account, token, balance, exactWad);
        _collateral[account][index] = balance - exactWad;
        if (balance == exactWad) _accounts[account].collateralMask &= ~uint32(1 << index);
        _collaterals[index].totalDepositedWad -= uint128(exactWad);
        IERC20(token).safeTransfer(to, amount);
        emit CollateralSeized(account, token, amount, to);
    }

    /// @inheritdoc IPerpVault
    function transferQuote(address from, address to, uint256 amountWad) external onlyRole(LIQUIDATOR_ROLE) {
        if (amountWad == 0) revert ZeroAmount();
        if (from == to) revert SelfTransfer(from);
        if (to == address(0)) revert ZeroAddress();
        VaultTypes.AccountData memory payer = _accounts[from];
        // Only an account being liquidated may be charged into a negative balance, and only for its
        // own charges (a keeper's reward). A payment *to* an account in liquidation is a bidder
        // buying that account's collateral: the bidder must be free and pay from what it holds.
        if (payer.liquidations != 0 && _accounts[to].liquidations != 0) revert AccountInLiquidation(from);
        if (payer.liquidations == 0 && payer.quoteBalanceWad < int256(amountWad)) {
            int256 balance = payer.quoteBalanceWad;
            revert InsufficientBalance(from, quoteToken, balance > 0 ? uint256(balance) : 0, amountWad);
        }
        _chargeQuote(from, int256(amountWad));
        _chargeQuote(to, -int256(amountWad));
        // A free payer's payment leaves its margin as a withdrawal does: it must keep IM.
        if (payer.liquidations == 0 && payer.positionMask != 0) {
            _requireInitialMarginHinted(
                from,
                _accounts[from],
                type(uint256).max,
                bytes32(0),
                0,
                _haltIm(payer.positionMask)
            );
        }
        emit QuoteTransferred(from, to, amountWad);
    }

    /// @inheritdoc IPerpVault
    function payInsurance(address account, uint256 amountWad) external onlyRole(LIQUIDATOR_ROLE) {
        if (amountWad == 0) revert ZeroAmount();
        _chargeQuote(account, int256(amountWad));
        _insuranceBalanceWad += amountWad.toUint128();
        emit InsurancePaid(account, amountWad);
    }

    /// @inheritdoc IPerpVault
    function settleShortfall(
        address account
    ) external onlyRole(LIQUIDATOR_ROLE) returns (uint256 fromInsuranceWad, uint256 socializedWad) {
        VaultTypes.AccountData memory acct = _accounts[account];
        if (acct.positionMask != 0 || acct.collateralMask != 0 || acct.quoteBalanceWad >= 0) {
            revert ShortfallNotSettleable(account);
        }
        return _settleShortfall(account, acct);
    }

    /// @inheritdoc IPerpVault
    function endLiquidation(
        address account
    ) external onlyRole(LIQUIDATOR_ROLE) returns (uint256 fromInsuranceWad, uint256 socializedWad) {
        _setInLiquidation(account, false);
        VaultTypes.AccountData memory acct = _accounts[account];
        if (acct.liquidations == 0 && acct.positionMask == 0 && acct.collateralMask == 0 && acct.quoteBalanceWad < 0) {
            return _settleShortfall(account, acct);
        }
    }

    /// @dev Zeroes the negative quote balance of an emptied account (`acct`, as stored): the
    /// insurance fund pays first, the rest is socialised to the pool.
    function _settleShortfall(
        address account,
        VaultTypes.AccountData memory acct
    ) internal returns (uint256 fromInsuranceWad, uint256 socializedWad) {
        uint256 shortfall = uint256(-int256(acct.quoteBalanceWad));
        uint256 insurance = _insuranceBalanceWad;
        fromInsuranceWad = shortfall < insurance ? shortfall : insurance;
        socializedWad = shortfall - fromInsuranceWad;
        _accounts[account].quoteBalanceWad = 0;
        _insuranceBalanceWad = uint128(insurance - fromInsuranceWad);
        if (socializedWad != 0) {
            _poolBalanceWad = (int256(_poolBalanceWad) - int256(socializedWad)).toInt128();
            emit BadDebt(account, socializedWad);
        }
        emit ShortfallSettled(account, shortfall, fromInsuranceWad, socializedWad);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPerpVault
    function kickSnapshot(address account) external view returns (KickSnapshot memory s) {
        VaultTypes.AccountData memory acct = _accounts[account];
        AccountHealth memory h;
        (s.liquidatable, h, s.target) = VaultLogic.kickCheck(
            _markets,
            _positions[account],
            _collaterals,
            _collateral[account],
            _inputs(acct, type(uint256).max, bytes32(0), 0)
        );
        s.inLiquidation = acct.liquidations != 0;
        s.positionCount = LibBit.popCount(acct.positionMask);
        s.equityWad = h.equityWad;
        s.initialMarginWad = h.initialMarginWad;
        s.maintenanceMarginWad = h.maintenanceMarginWad;
        s.breakerLevel =
            acct.positionMask == 0
                ? BreakerState.levelAt(_globalBreaker, block.timestamp) // solhint-disable-line not-rely-on-time
                : _effectiveLevel(_marketBreaker[s.target.index]);
    }

    /// @inheritdoc IPerpVault
    function accountHealth(address account) external view returns (AccountHealth memory) {
        return _health(account, _accounts[account]);
    }

    /// @inheritdoc IPerpVault
    function isLiquidatable(address account) external view returns (bool liquidatable, LiquidationReason reason) {
        (liquidatable, reason, ) = _liquidationCheck(account, _accounts[account]);
    }

    /// @inheritdoc IPerpVault
    function liquidationSnapshot(address account) external view returns (LiquidationSnapshot memory snap) {
        VaultTypes.AccountData memory acct = _accounts[account];
        (snap.liquidatable, snap.reason, snap.health) = _liquidationCheck(account, acct);
        snap.positions = VaultLogic.positionSnapshots(
            _markets,
            _marketIds,
            _positions[account],
            oracle,
            riskEngine,
            acct.positionMask
        );
    }

    /// @inheritdoc IPerpVault
    function marketIndex(bytes32 marketId) external view returns (uint256) {
        return _marketIndex(marketId);
    }

    /// @inheritdoc IPerpVault
    function breakerLevel(bytes32 marketId) external view returns (uint256) {
        // solhint-disable-next-line not-rely-on-time
        if (marketId == bytes32(0)) return BreakerState.levelAt(_globalBreaker, block.timestamp);
        return _effectiveLevel(_marketBreaker[_marketIndex(marketId)]);
    }

    /// @inheritdoc IPerpVault
    function breakerLevelAt(uint256 marketIndex_) external view returns (uint256) {
        return _effectiveLevel(_marketBreaker[marketIndex_]);
    }

    /// @inheritdoc IPerpVault
    function isInLiquidation(address account) external view returns (bool) {
        return _accounts[account].liquidations != 0;
    }

    /// @inheritdoc IPerpVault
    function getPosition(address account, bytes32 marketId) external view returns (Position memory) {
        return _positions[account][_marketIndex(marketId)];
    }

    /// @inheritdoc IPerpVault
    function accountMarkets(address account) external view returns (bytes32[] memory ids) {
        uint256 mask = _accounts[account].positionMask;
        ids = new bytes32[](LibBit.popCount(mask));
        for (uint256 k; mask != 0; ++k) {
            ids[k] = _marketIds[LibBit.ffs(mask)];
            mask &= mask - 1;
        }
    }

    /// @inheritdoc IPerpVault
    function quoteBalance(address account) external view returns (int256) {
        return _accounts[account].quoteBalanceWad;
    }

    /// @inheritdoc IPerpVault
    function collateralBalance(address account, address token) external view returns (uint256) {
        uint256 index = _collateralIndex(token);
        if (index == 0) revert UnknownCollateral(token);
        return _collateral[account][index];
    }

    /// @inheritdoc IPerpVault
    function marketParams(bytes32 marketId) external view returns (MarketParams memory) {
        return _markets[_marketIndex(marketId)].params;
    }

    /// @inheritdoc IPerpVault
    function marketState(bytes32 marketId) external view returns (MarketState memory) {
        return _markets[_marketIndex(marketId)].state;
    }

    /// @inheritdoc IPerpVault
    function marketIds() external view returns (bytes32[] memory) {
        return _marketIds;
    }

    /// @inheritdoc IPerpVault
    function collateralConfig(address token) external view returns (CollateralConfig memory) {
        return _collaterals[_collateralIndex(token)];
    }

    /// @inheritdoc IPerpVault
    function collateralTokens() external view returns (address[] memory tokens) {
        tokens = new address[](_collaterals.length);
        for (uint256 i; i < tokens.length; ++i) {
            tokens[i] = _collaterals[i].token;
        }
    }

    /// @inheritdoc IPerpVault
    function fillPrice(bytes32 marketId, int256 sizeDeltaWad) external view returns (uint256) {
        VaultTypes.Market storage m = _markets[_marketIndex(marketId)];
        int256 skew = int256(uint256(m.state.oiLongWad)) - int256(uint256(m.state.oiShortWad));
        int256 fill = PerpMath.fillPrice(
            oracle.getPrice(m.params.oracleAsset),
            skew,
            sizeDeltaWad,
            m.params.skewScaleWad
        );
        if (fill <= 0) revert InvalidFillPrice(marketId, fill);
        return uint256(fill);
    }

    /// @inheritdoc IPerpVault
    function currentFunding(bytes32 marketId) external view returns (int256 rateWad, int256 indexWad) {
        VaultTypes.Market storage m = _markets[_marketIndex(marketId)];
        MarketState memory st = m.state;
        Fills.accrueFunding(m.params, st, oracle.getPrice(m.params.oracleAsset));
        return (st.fundingRateWad, st.fundingIndexWad);
    }

    /// @inheritdoc IPerpVault
    function poolBalance() external view returns (int256) {
        return _poolBalanceWad;
    }

    /// @inheritdoc IPerpVault
    function insuranceBalance() external view returns (uint256) {
        return _insuranceBalanceWad;
    }

    /// @inheritdoc IPerpVault
    function poolValue() public view returns (uint256) {
        (int256 value, ) = _poolValueAndReserve();
        return value > 0 ? uint256(value) : 0;
    }

    /// @inheritdoc IPerpVault
    function lpExitState() external view returns (uint256 maxLevel, uint256 lastPoolFillAt) {
        (maxLevel, ) = _maxLevel();
        lastPoolFillAt = _lastPoolFillAt;
    }

    /// @inheritdoc IPerpVault
    function poolFreeLiquidity() public view returns (uint256) {
        (uint256 level, ) = _maxLevel();
        if (!BreakerState.permits(BreakerAction.LpWithdraw, level)) return 0;
        (int256 value, uint256 reserved) = _poolValueAndReserve();
        int256 balance = _poolBalanceWad;
        int256 liquid = value < balance ? value : balance;
        return liquid > int256(reserved) ? uint256(liquid) - reserved : 0;
    }

    // ------------------------------------------------------------------ internal: accounting

    function _deposit(address account, address token, uint256 amount) internal {
        if (amount == 0) revert ZeroAmount();
        uint256 index = _collateralIndex(token);
        uint256 amountWad = amount * _scaleOf(index);
        if (index == 0) {
            _pullExact(token, amount);
            _chargeQuote(account, -int256(amountWad));
        } else {
            CollateralConfig storage cfg = _collaterals[index];
            uint256 total = cfg.totalDepositedWad + amountWad;
            if (total > cfg.capWad) revert DepositCapExceeded(token, total, cfg.capWad);
            _pullExact(token, amount);
            cfg.totalDepositedWad = uint128(total);
            _collateral[account][index] += amountWad;
            _accounts[account].collateralMask |= uint32(1 << index);
        }
        emit Deposited(account, token, msg.sender, amount);
    }

    /// @dev Pulls exactly `amount` of `token` from the caller, rejecting tokens that deliver less.
    function _pullExact(address token, uint256 amount) internal {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert FeeOnTransferToken(token, amount, received);
    }

    /// @dev Nests: each `true` must be matched by a `false` before the account is released.
    function _setInLiquidation(address account, bool inLiquidation) internal {
        VaultTypes.AccountData storage acct = _accounts[account];
        uint8 n = acct.liquidations;
        if (inLiquidation) acct.liquidations = n + 1;
        else if (n != 0) acct.liquidations = n - 1;
        emit LiquidationFlagSet(account, acct.liquidations != 0);
    }

    /// @dev Debits `amountWad` (negative: credits) from an account's quote balance.
    function _chargeQuote(address account, int256 amountWad) internal {
        VaultTypes.AccountData storage acct = _accounts[account];
        acct.quoteBalanceWad = (int256(acct.quoteBalanceWad) - amountWad).toInt128();
    }

    /// @dev Moves a slice of `account`'s position (or, `account` zero, of the pool's own exposure)
    /// to `to` (or the pool) at `priceWad`, or at oracle × `priceFactorWad` when `priceWad` is 0
    /// (`Liquidation.liquidateSlice`); books the pool's ledger and checks `to`'s initial margin.
    function _liquidatePosition(
        address account,
        uint256 index,
        bytes32 marketId,
        int256 sliceWad,
        uint256 priceWad,
        uint256 priceFactorWad,
        address to
    ) internal returns (int256 realizedPnlWad, uint256 fillPriceWad) {
        uint256 oraclePrice;
        int256 poolDelta;
        (realizedPnlWad, fillPriceWad, oraclePrice, poolDelta) = VaultLogic.liquidateSlice(
            _markets[index],
            _accounts,
            _positions,
            oracle,
            Liquidation.Slice(account, to, index, marketId, sliceWad, priceWad, priceFactorWad)
        );
        _poolBalanceWad = (int256(_poolBalanceWad) + poolDelta).toInt128();
        // solhint-disable-next-line not-rely-on-time
        if (to == address(0) && account != address(0)) _lastPoolFillAt = uint32(block.timestamp);
        if (to != address(0)) _requireInitialMarginHinted(to, _accounts[to], index, marketId, oraclePrice, WAD);
        emit PositionLiquidated(account, marketId, sliceWad, fillPriceWad, to, realizedPnlWad);
    }

    function _liquidationCheck(
        address account,
        VaultTypes.AccountData memory acct
    ) internal view returns (bool, LiquidationReason, AccountHealth memory) {
        return
            VaultLogic.liquidationCheck(
                _markets,
                _positions[account],
                _collaterals,
                _collateral[account],
                _inputs(acct, type(uint256).max, bytes32(0), 0)
            );
    }

    function _requireInitialMarginHinted(
        address account,
        VaultTypes.AccountData memory acct,
        uint256 hintIndex,
        bytes32 hintMarketId,
        uint256 hintPriceWad,
        uint256 multipleWad
    ) internal view {
        AccountHealth memory h = _healthHinted(account, acct, hintIndex, hintMarketId, hintPriceWad);
        uint256 required = h.initialMarginWad.mulWadUp(multipleWad);
        if (h.equityWad < int256(required)) revert Undercollateralized(account, h.equityWad, required);
    }

    /// @dev max(global, market) level after recovery; `word` is the market's breaker word.
    function _effectiveLevel(uint256 word) internal view returns (uint256) {
        // solhint-disable-next-line not-rely-on-time
        uint256 nowSec = block.timestamp;
        uint256 g = BreakerState.levelAt(_globalBreaker, nowSec);
        uint256 m = BreakerState.levelAt(word, nowSec);
        return g > m ? g : m;
    }

    /// @dev IM multiple a withdrawal must keep: the halt multiple when any market the account
    /// trades is halted (its own level or the global one), else 1.
    function _haltIm(uint64 positionMask) internal view returns (uint256 multiple) {
        multiple = WAD;
        for (uint256 i; positionMask != 0; ++i) {
            if (positionMask & 1 != 0) {
                uint256 word = _marketBreaker[i];
                if (_effectiveLevel(word) == BreakerState.HALT) {
                    uint256 m = BreakerState.haltIm(word);
                    if (m > multiple) multiple = m;
                }
            }
            positionMask >>= 1;
        }
    }

    /// @dev Highest effective level over global and every market (it gates LP withdrawals).
    function _maxLevel() internal view returns (uint256 maxLevel, bytes32 marketId) {
        uint256 n = _marketIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 level = _effectiveLevel(_marketBreaker[i]);
            if (level > maxLevel) (maxLevel, marketId) = (level, _marketIds[i]);
        }
        if (n == 0) maxLevel = BreakerState.levelAt(_globalBreaker, block.timestamp); // solhint-disable-line not-rely-on-time
    }

    /// @dev Health at oracle prices (the smoothed pass of the wick filter runs in
    /// `VaultLogic.liquidationCheck`). A hint names a market whose id and price the caller holds.
    function _health(address account, VaultTypes.AccountData memory acct) internal view returns (AccountHealth memory) {
        return _healthHinted(account, acct, type(uint256).max, bytes32(0), 0);
    }

    function _healthHinted(
        address account,
        VaultTypes.AccountData memory acct,
        uint256 hintIndex,
        bytes32 hintMarketId,
        uint256 hintPriceWad
    ) internal view returns (AccountHealth memory) {
        return
            VaultLogic.health(
                _markets,
                _positions[account],
                _collaterals,
                _collateral[account],
                _inputs(acct, hintIndex, hintMarketId, hintPriceWad)
            );
    }

    function _inputs(
        VaultTypes.AccountData memory acct,
        uint256 hintIndex,
        bytes32 hintMarketId,
        uint256 hintPriceWad
    ) internal view returns (VaultTypes.HealthInputs memory) {
        return
            VaultTypes.HealthInputs({
                oracle: oracle,
                engine: riskEngine,
                liquidationBufferWad: liquidationBufferWad,
                quoteBalanceWad: acct.quoteBalanceWad,
                positionMask: acct.positionMask,
                collateralMask: acct.collateralMask,
                smoothed: false,
                hintIndex: hintIndex,
                hintMarketId: hintMarketId,
                hintPriceWad: hintPriceWad
            });
    }

    function _poolValueAndReserve() internal view returns (int256, uint256) {
        return VaultLogic.poolValueAndReserve(_markets, _marketIds.length, oracle, _poolBalanceWad, reserveRatioWad);
    }

    function _marketIndex(bytes32 marketId) internal view returns (uint256) {
        uint256 indexPlusOne = _marketIndexPlusOne[marketId];
        if (indexPlusOne == 0) revert UnknownMarket(marketId);
        return indexPlusOne - 1;
    }

    function _collateralIndex(address token) internal view returns (uint256) {
        uint256 indexPlusOne = _collateralIndexPlusOne[token];
        if (indexPlusOne == 0) revert UnknownCollateral(token);
        return indexPlusOne - 1;
    }

    function _scaleOf(uint256 index) internal view returns (uint256) {
        return index == 0 ? QUOTE_SCALE : 10 ** (18 - _collaterals[index].decimals);
    }
}

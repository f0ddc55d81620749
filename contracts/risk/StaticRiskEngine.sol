// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IRiskEngine} from "../interfaces/IRiskEngine.sol";
import {IBulwarkErrors} from "../interfaces/IBulwarkErrors.sol";

/// @title StaticRiskEngine
/// @notice Fixed initial and maintenance margin ratios per market; no wick filter.
contract StaticRiskEngine is IRiskEngine, IBulwarkErrors, AccessControl {
    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");

    /// @notice Lowest maintenance ratio accepted: 0.5% (200× is the most any market may allow).
    uint64 public constant MIN_MMR = 0.005e18;
    /// @notice Highest maintenance ratio accepted: 50%.
    uint64 public constant MAX_MMR = 0.5e18;
    /// @notice Highest initial ratio accepted: 100% (1× leverage).
    uint64 public constant MAX_IMR = 1e18;

    struct Ratios {
        uint64 imrWad;
        uint64 mmrWad;
    }

    mapping(bytes32 marketId => Ratios) public ratiosOf;

    event RatiosSet(bytes32 indexed marketId, uint64 imrWad, uint64 mmrWad);

    error RatiosNotSet(bytes32 marketId);
    /// @notice mmr must lie in [MIN_MMR, MAX_MMR] and imr in (mmr, MAX_IMR].
    error InvalidRatios(bytes32 marketId, uint256 imrWad, uint256 mmrWad);

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
    }

    /// @notice Sets a market's ratios within bounds. Role: RISK_ADMIN.
    function setRatios(bytes32 marketId, uint64 imrWad, uint64 mmrWad) external onlyRole(RISK_ADMIN_ROLE) {
        if (mmrWad < MIN_MMR || mmrWad > MAX_MMR || imrWad <= mmrWad || imrWad > MAX_IMR) {
            revert InvalidRatios(marketId, imrWad, mmrWad);
        }
        Ratios memory current = ratiosOf[marketId];
        if (current.imrWad == imrWad && current.mmrWad == mmrWad) revert NoChange();
        ratiosOf[marketId] = Ratios(imrWad, mmrWad);
        emit RatiosSet(marketId, imrWad, mmrWad);
    }

    /// @inheritdoc IRiskEngine
    function marginRatios(bytes32 marketId, uint256) external view returns (uint256 imrWad, uint256 mmrWad) {
        Ratios memory r = ratiosOf[marketId];
        if (r.imrWad == 0) revert RatiosNotSet(marketId);
        return (r.imrWad, r.mmrWad);
    }

    /// @inheritdoc IRiskEngine
    function smoothedPrice(bytes32) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc IRiskEngine
    function hardFloorWad() external pure returns (uint256) {
        return 1e18;
    }
}

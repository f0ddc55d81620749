// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPriceCurve} from "../../interfaces/IPriceCurve.sol";

/// @title CurveBase
/// @notice Access control and the bounded-setter discipline shared by the price curves.
abstract contract CurveBase is IPriceCurve, AccessControl {
    bytes32 public constant RISK_ADMIN_ROLE = keccak256("RISK_ADMIN_ROLE");

    constructor(address admin) {
        if (admin == address(0)) revert CurveZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RISK_ADMIN_ROLE, admin);
    }

    /// @dev Reverts unless `value` is in [min, max] and differs from `current`; emits the change.
    function _checkedSet(
        bytes32 param,
        uint256 current,
        uint256 value,
        uint256 min,
        uint256 max
    ) internal returns (uint256) {
        if (value < min || value > max) revert CurveParamOutOfBounds(param, value, min, max);
        if (value == current) revert CurveNoChange(param);
        emit CurveParamSet(param, value);
        return value;
    }
}

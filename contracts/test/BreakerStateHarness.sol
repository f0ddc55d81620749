// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BreakerState} from "../libraries/BreakerState.sol";

/// @title BreakerStateHarness
/// @notice Test helper: exposes the `BreakerState` word codec and its recovery schedule, including
/// words the breaker never writes (a zero cooldown, unset multipliers), so the library's defensive
/// branches are checked against a reference model.
contract BreakerStateHarness {
    /// @notice Every getter at once for a word packed from the given fields, at `nowSec`.
    function decode(
        uint256 level,
        uint256 stepAt,
        uint256 stepSec,
        uint256 endAt,
        uint256 nowSec
    ) external pure returns (uint256 word, uint256[5] memory fields) {
        word = BreakerState.pack(level, stepAt, stepSec, endAt);
        fields = [
            BreakerState.storedLevel(word),
            BreakerState.stepAt(word),
            BreakerState.stepSec(word),
            BreakerState.endAt(word),
            BreakerState.levelAt(word, nowSec)
        ];
    }

    /// @notice `levelAt` of a raw word.
    function levelAt(uint256 word, uint256 nowSec) external pure returns (uint256) {
        return BreakerState.levelAt(word, nowSec);
    }

    /// @notice The multipliers of `word` after `withMultipliers`, and the state bits it kept.
    function multipliers(
        uint256 word,
        uint256 cautionImWad,
        uint256 haltImWad
    ) external pure returns (uint256 state, uint256 caution, uint256 halt) {
        uint256 w = BreakerState.withMultipliers(word, cautionImWad, haltImWad);
        return (uint96(w), BreakerState.cautionIm(w), BreakerState.haltIm(w));
    }
}

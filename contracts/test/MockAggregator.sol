// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

/// @notice Chainlink-style aggregator whose answer the test (or the simulator's relayer) writes.
/// One storage slot per round keeps reads cheap, like a real feed's proxy + aggregator pair.
contract MockAggregator is AggregatorV3Interface {
    uint8 public immutable decimals;
    string public description;

    struct Round {
        uint80 roundId;
        uint64 updatedAt;
        int112 answer;
    }

    Round internal _latest;

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        decimals = decimals_;
        description = description_;
        _latest = Round(1, uint64(block.timestamp), int112(initialAnswer));
    }

    function version() external pure returns (uint256) {
        return 1;
    }

    /// @notice Writes a new round stamped now.
    function setAnswer(int256 answer) external {
        _latest = Round(_latest.roundId + 1, uint64(block.timestamp), int112(answer));
    }

    /// @notice Writes a new round with an explicit timestamp (for staleness tests).
    function setRoundData(int256 answer, uint256 updatedAt) external {
        _latest = Round(_latest.roundId + 1, uint64(updatedAt), int112(answer));
    }

    function getRoundData(uint80) external view returns (uint80, int256, uint256, uint256, uint80) {
        return _round();
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return _round();
    }

    function _round() internal view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _latest;
        return (r.roundId, r.answer, r.updatedAt, r.updatedAt, r.roundId);
    }
}

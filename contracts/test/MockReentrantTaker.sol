// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAuctionHouse, IAuctionTaker} from "../interfaces/IAuctionHouse.sol";

/// @notice A flash-take receiver that calls back into the auction house from `onAuctionTake`
/// (Maker's `BadGuy`), to prove that `take`, `kick` and `redo` cannot be re-entered. The inner
/// call's revert bubbles up unchanged. Never deploy outside tests.
contract MockReentrantTaker is IAuctionTaker {
    /// @notice Which entry point the callback re-enters.
    enum Attack {
        Take,
        Kick,
        Redo
    }

    IAuctionHouse public immutable auctionHouse;
    Attack public attack;
    /// @notice The account the `Kick` attack kicks.
    address public kickTarget;

    constructor(IAuctionHouse auctionHouse_) {
        auctionHouse = auctionHouse_;
    }

    function arm(Attack attack_, address kickTarget_) external {
        attack = attack_;
        kickTarget = kickTarget_;
    }

    /// @inheritdoc IAuctionTaker
    function onAuctionTake(address, uint256 auctionId, uint256 amount, uint256, bytes calldata) external {
        if (attack == Attack.Take) {
            auctionHouse.take(auctionId, amount, type(uint256).max, address(this), "");
        } else if (attack == Attack.Kick) {
            auctionHouse.kick(kickTarget);
        } else {
            auctionHouse.redo(auctionId);
        }
    }
}

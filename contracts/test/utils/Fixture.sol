// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestBase} from "./TestBase.sol";
import {LabelingEscrow} from "../../src/LabelingEscrow.sol";
import {LabelerBadge} from "../../src/LabelerBadge.sol";
import {TestToken} from "../../src/TestToken.sol";

/// A deployed escrow + badge + token, one funded campaign, and helpers to settle and sign proofs.
abstract contract Fixture is TestBase {
    uint256 internal constant ORACLE_PK = 0xA11CE;
    uint256 internal constant E18 = 1e18;
    uint256 internal constant STAKE = 10 * E18;
    uint256 internal constant BUDGET = 1000 * E18;
    uint64 internal constant VESTING = 7 days;
    uint64 internal constant DURATION = 30 days; // campaign deadline, from setUp
    uint64 internal constant WINDOW = 3 days; // settlement window after close

    TestToken internal token;
    LabelingEscrow internal escrow;
    LabelerBadge internal badge;
    address internal oracle;
    address internal requester = address(0xB0B);
    address internal l1 = address(0x1001);
    address internal l2 = address(0x1002);
    address internal l3 = address(0x1003);
    uint256 internal cid; // the campaign id

    function setUp() public virtual {
        oracle = vm.addr(ORACLE_PK);
        token = new TestToken();
        escrow = new LabelingEscrow(address(this));
        badge = new LabelerBadge(escrow, address(this));
        badge.grantRole(badge.ISSUER_ROLE(), oracle);
        escrow.setTrustedOracle(oracle, true);
        token.mint(requester, 10_000 * E18);
        vm.prank(requester);
        token.approve(address(escrow), type(uint256).max);
        vm.prank(requester);
        cid = escrow.createCampaign(IERC20(address(token)), oracle, params(), BUDGET);
        _fundAndJoin(l1);
        _fundAndJoin(l2);
        _fundAndJoin(l3);
    }

    /// reward 1 token/label, stake 10, threshold 80%, half paid at once, +10% bonus on deposits that
    /// stay locked 7 days at quality, fraud above 30% gold failures, deadline in 30 days, 3-day window.
    function params() internal view returns (LabelingEscrow.CampaignParams memory p) {
        p.rewardPerLabel = uint128(E18);
        p.requiredStake = uint128(STAKE);
        p.qualityThresholdBps = 8000;
        p.immediateBps = 5000;
        p.bonusBps = 1000;
        p.fraudGoldFailBps = 3000;
        p.vestingPeriod = VESTING;
        p.deadline = uint64(block.timestamp) + DURATION;
        p.settlementWindow = WINDOW;
    }

    function _fundAndJoin(address who) internal {
        token.mint(who, 100 * E18);
        vm.prank(who);
        token.approve(address(escrow), type(uint256).max);
        vm.prank(who);
        escrow.join(cid, STAKE);
    }

    function r(address who, uint32 accepted, uint16 q) internal pure returns (LabelingEscrow.LabelerResult memory) {
        return LabelingEscrow.LabelerResult(who, accepted, q);
    }

    function one(LabelingEscrow.LabelerResult memory a) internal pure returns (LabelingEscrow.LabelerResult[] memory rs) {
        rs = new LabelingEscrow.LabelerResult[](1);
        rs[0] = a;
    }

    function settleAs(address caller, bytes32 root, LabelingEscrow.LabelerResult[] memory rs) internal returns (uint32) {
        vm.prank(caller);
        return escrow.settle(cid, root, 1_000_000, "bafy-dataset", rs);
    }

    function settle(bytes32 root, LabelingEscrow.LabelerResult[] memory rs) internal returns (uint32) {
        return settleAs(oracle, root, rs);
    }

    function signFraud(uint256 pk, address who, uint32 fails, uint32 total, string memory evidence)
        internal
        view
        returns (bytes memory)
    {
        bytes32 digest = escrow.fraudProofDigest(cid, who, fails, total, evidence);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(rr, s, v);
    }

    function pos(address who) internal view returns (LabelingEscrow.Position memory) {
        return escrow.getPosition(cid, who);
    }

    function camp() internal view returns (LabelingEscrow.Campaign memory) {
        return escrow.getCampaign(cid);
    }
}

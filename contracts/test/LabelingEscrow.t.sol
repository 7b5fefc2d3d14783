// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Fixture} from "./utils/Fixture.sol";
import {LabelingEscrow} from "../src/LabelingEscrow.sol";

contract LabelingEscrowTest is Fixture {
    bytes32 constant ROOT1 = keccak256("batch-1");
    bytes32 constant ROOT2 = keccak256("batch-2");

    // ---- pay by quality ----

    function test_settlePaysBaseTimesQuality() public {
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](2);
        rs[0] = r(l1, 10, 10_000); // 10 tokens gross
        rs[1] = r(l2, 10, 5_000); // 5 tokens gross
        uint32 idx = settle(ROOT1, rs);
        vm.assertEq(idx, 1, "first batch index");
        vm.assertEq(pos(l1).claimable, 5 * E18, "l1 half at once");
        vm.assertEq(pos(l1).vesting, 5 * E18, "l1 half vests");
        vm.assertEq(pos(l1).unlockAt, block.timestamp + VESTING, "l1 unlock");
        vm.assertEq(pos(l2).claimable, 25 * E18 / 10, "l2 immediate scaled by quality");
        vm.assertEq(pos(l2).vesting, 25 * E18 / 10, "l2 vesting scaled by quality");
        vm.assertEq(camp().budget, BUDGET - 15 * E18, "budget spent");
        vm.assertEq(camp().committed, 15 * E18, "committed");
        (uint64 acc, uint16 q, uint32 n) = escrow.labelerStats(l2);
        vm.assertEq(acc, 10, "stats accepted");
        vm.assertEq(q, 5000, "stats quality");
        vm.assertEq(n, 1, "stats settlements");

        uint256 before = token.balanceOf(l1);
        vm.prank(l1);
        escrow.withdraw(cid);
        vm.assertEq(token.balanceOf(l1) - before, 5 * E18, "withdrawn immediate part");
    }

    function test_vestingStakeAppreciatesOnlyAboveThreshold() public {
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](2);
        rs[0] = r(l1, 10, 9_000); // gross 9, vest 4.5
        rs[1] = r(l2, 10, 9_000);
        settle(ROOT1, rs);
        vm.warp(block.timestamp + 1 days);
        rs[0] = r(l1, 0, 9_000); // above threshold: +10% bonus on 4.5
        rs[1] = r(l2, 0, 7_000); // below threshold: no bonus
        settle(ROOT2, rs);
        vm.assertEq(pos(l1).vesting, 495 * E18 / 100, "l1 appreciated by 10%");
        vm.assertEq(pos(l2).vesting, 45 * E18 / 10, "l2 unchanged");
        vm.assertEq(pos(l1).claimable + pos(l1).vesting, 945 * E18 / 100, "earnings include the bonus");
        vm.assertEq(camp().budget, BUDGET - 18 * E18 - 45 * E18 / 100, "bonus paid from budget");
    }

    function test_unlockIsAmountWeighted() public {
        settle(ROOT1, one(r(l1, 10, 10_000))); // 5 vesting, unlock t0+7d
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 2 days);
        // no bonus (bonus 10% of 5 = 0.5 at q >= threshold: use a low score to keep numbers plain)
        settle(ROOT2, one(r(l1, 10, 5_000))); // 2.5 new vesting, unlock t0+9d
        uint256 expected = (5 * E18 * (t0 + 7 days) + 25 * E18 / 10 * (t0 + 9 days)) / (75 * E18 / 10);
        vm.assertEq(pos(l1).unlockAt, expected, "weighted unlock");
    }

    function test_maturedVestingIsReleasedAndStopsAppreciating() public {
        settle(ROOT1, one(r(l1, 10, 10_000)));
        vm.warp(block.timestamp + VESTING);
        settle(ROOT2, one(r(l1, 0, 10_000)));
        vm.assertEq(pos(l1).vesting, 0, "released");
        vm.assertEq(pos(l1).claimable, 10 * E18, "immediate + matured vesting, no bonus");
    }

    // ---- locked stake ----

    function test_lockedStakeCannotBeWithdrawn() public {
        settle(ROOT1, one(r(l1, 10, 10_000)));
        vm.prank(l1);
        escrow.withdraw(cid); // the immediate half
        uint64 unlockAt = pos(l1).unlockAt;
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.StillLocked.selector, unlockAt));
        escrow.withdraw(cid);
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.CampaignStillOpen.selector, cid));
        escrow.withdrawStake(cid);

        vm.warp(unlockAt - 1);
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.StillLocked.selector, unlockAt));
        escrow.withdraw(cid);

        vm.warp(unlockAt);
        uint256 before = token.balanceOf(l1);
        vm.prank(l1);
        escrow.withdraw(cid);
        vm.assertEq(token.balanceOf(l1) - before, 5 * E18, "vesting after unlock");
    }

    function testFuzz_lockedVestingNeverWithdrawableEarly(uint32 accepted, uint16 q, uint256 dt) public {
        accepted = uint32(bound(accepted, 1, 500));
        q = uint16(bound(q, 1, 10_000));
        settle(ROOT1, one(r(l1, accepted, q)));
        LabelingEscrow.Position memory p = pos(l1);
        dt = bound(dt, 0, p.unlockAt - block.timestamp - 1);
        vm.warp(block.timestamp + dt);
        uint256 before = token.balanceOf(l1);
        vm.prank(l1);
        if (p.claimable > 0) escrow.withdraw(cid);
        vm.assertEq(token.balanceOf(l1) - before, p.claimable, "only the immediate part");
        vm.assertEq(pos(l1).vesting, p.vesting, "vesting untouched");
    }

    // ---- no pay without a settled batch ----

    function testFuzz_noPayWithoutSettledBatch(uint256 who, uint256 dt) public {
        address[3] memory ls = [l1, l2, l3];
        address labeler = ls[who % 3];
        vm.warp(block.timestamp + bound(dt, 0, 365 days));
        vm.prank(labeler);
        vm.expectRevert(LabelingEscrow.NothingToWithdraw.selector);
        escrow.withdraw(cid);
        vm.assertEq(token.balanceOf(labeler), 90 * E18, "nothing paid");
    }

    // ---- access control ----

    function testFuzz_onlyOracleSettles(address caller) public {
        vm.assume(caller != oracle);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.WrongOracle.selector, caller, oracle));
        settleAs(caller, ROOT1, one(r(l1, 1, 10_000)));
    }

    function test_onlyRequesterFundsAndCloses() public {
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.NotRequester.selector, l1, requester));
        escrow.fund(cid, 1);
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.NotRequester.selector, l1, requester));
        escrow.close(cid);
    }

    function test_onlyOwnerPauses() public {
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, l1));
        escrow.pause();
        escrow.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        settle(ROOT1, one(r(l1, 1, 10_000)));
        vm.prank(l1);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        escrow.withdraw(cid);
        escrow.unpause();
        settle(ROOT1, one(r(l1, 1, 10_000)));
    }

    // ---- bad input: each named error ----

    function test_replayedBatchReverts() public {
        settle(ROOT1, one(r(l1, 1, 10_000)));
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.BatchAlreadySettled.selector, cid, ROOT1));
        settle(ROOT1, one(r(l2, 1, 10_000)));
    }

    function testFuzz_scoreOutOfRangeReverts(uint16 q) public {
        q = uint16(bound(q, 10_001, type(uint16).max));
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.ScoreOutOfRange.selector, l1, uint256(q)));
        settle(ROOT1, one(r(l1, 1, q)));
    }

    function test_overBudgetReverts() public {
        // 2000 accepted at full quality = 2000 tokens > 1000 budget
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.OverBudget.selector, 2000 * E18, BUDGET));
        settle(ROOT1, one(r(l1, 2000, 10_000)));
    }

    function testFuzz_stakeBelowMinimumReverts(uint256 amount) public {
        amount = bound(amount, 0, STAKE - 1);
        address newbie = address(0x2001);
        vm.prank(newbie);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.StakeBelowMinimum.selector, amount, STAKE));
        escrow.join(cid, amount);
    }

    function test_batchShapeErrors() public {
        vm.expectRevert(LabelingEscrow.EmptyBatch.selector);
        settle(ROOT1, new LabelingEscrow.LabelerResult[](0));

        uint256 max = escrow.MAX_BATCH_LABELERS();
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.BatchTooLarge.selector, max + 1, max));
        settle(ROOT1, new LabelingEscrow.LabelerResult[](max + 1));

        vm.expectRevert(LabelingEscrow.ZeroMerkleRoot.selector);
        settle(bytes32(0), one(r(l1, 1, 10_000)));

        LabelingEscrow.LabelerResult[] memory dup = new LabelingEscrow.LabelerResult[](2);
        dup[0] = r(l1, 1, 10_000);
        dup[1] = r(l1, 1, 10_000);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.DuplicateLabeler.selector, l1));
        settle(ROOT1, dup);

        address stranger = address(0x3003);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.NotJoined.selector, cid, stranger));
        settle(ROOT1, one(r(stranger, 1, 10_000)));

        vm.prank(oracle);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.AcceptedExceedsLabels.selector, 5, 4));
        escrow.settle(cid, ROOT1, 4, "bafy", one(r(l1, 5, 10_000)));
    }

    function test_campaignErrors() public {
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.UnknownCampaign.selector, 99));
        escrow.getCampaign(99);

        LabelingEscrow.CampaignParams memory p = params();
        p.bonusBps = 10_001;
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.InvalidBps.selector, 10_001));
        escrow.createCampaign(IERC20(address(token)), oracle, p, 0);

        vm.prank(requester);
        vm.expectRevert(LabelingEscrow.ZeroAddress.selector);
        escrow.createCampaign(IERC20(address(token)), address(0), params(), 0);

        vm.prank(requester);
        vm.expectRevert(LabelingEscrow.ZeroAmount.selector);
        escrow.fund(cid, 0);

        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.AlreadyJoined.selector, cid, l1));
        escrow.join(cid, STAKE);

        vm.prank(requester);
        escrow.close(cid);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.CampaignNotOpen.selector, cid));
        settle(ROOT1, one(r(l1, 1, 10_000)));
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.CampaignNotOpen.selector, cid));
        escrow.fund(cid, 1);
    }

    // ---- slashing ----

    function test_fraudProofSlashesStakeToCampaign() public {
        settle(ROOT1, one(r(l3, 10, 10_000))); // l3: 5 claimable, 5 vesting
        bytes memory sig = signFraud(ORACLE_PK, l3, 4, 10, "bafy-evidence");
        uint256 budgetBefore = camp().budget;
        escrow.slash(cid, l3, 4, 10, "bafy-evidence", sig); // anyone may relay it
        LabelingEscrow.Position memory p = pos(l3);
        vm.assertTrue(p.slashed, "slashed");
        vm.assertEq(p.stake, 0, "stake taken");
        vm.assertEq(p.vesting, 0, "vesting taken");
        vm.assertEq(p.claimable, 5 * E18, "already-claimable pay kept");
        vm.assertEq(camp().budget, budgetBefore + STAKE + 5 * E18, "to the campaign");
        vm.assertEq(camp().slashed, STAKE + 5 * E18, "slashed total");

        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.LabelerIsSlashed.selector, cid, l3));
        escrow.slash(cid, l3, 4, 10, "bafy-evidence", sig);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.LabelerIsSlashed.selector, cid, l3));
        settle(ROOT2, one(r(l3, 1, 10_000)));
    }

    function test_fraudProofMustBeOracleSignedAndBeyondThreshold() public {
        uint256 otherPk = 0xBAD;
        bytes memory forged = signFraud(otherPk, l3, 9, 10, "bafy-evidence");
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.WrongOracle.selector, vm.addr(otherPk), oracle));
        escrow.slash(cid, l3, 9, 10, "bafy-evidence", forged);

        // a valid signature over other numbers does not carry over
        bytes memory sig = signFraud(ORACLE_PK, l3, 9, 10, "bafy-evidence");
        vm.expectRevert();
        escrow.slash(cid, l3, 9, 10, "bafy-other-evidence", sig);

        // exactly at the 30% limit is not fraud
        bytes memory atLimit = signFraud(ORACLE_PK, l3, 3, 10, "bafy-evidence");
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.FraudNotProven.selector, 3, 10, 3000));
        escrow.slash(cid, l3, 3, 10, "bafy-evidence", atLimit);
    }

    function test_slashAfterCloseRefundsRequester() public {
        settle(ROOT1, one(r(l3, 10, 10_000)));
        vm.prank(requester);
        escrow.close(cid);
        uint256 before = token.balanceOf(requester);
        escrow.slash(cid, l3, 5, 10, "bafy-e", signFraud(ORACLE_PK, l3, 5, 10, "bafy-e"));
        vm.assertEq(token.balanceOf(requester) - before, STAKE + 5 * E18, "slashed stake refunded");
        vm.prank(l3);
        vm.expectRevert(LabelingEscrow.NothingToWithdraw.selector);
        escrow.withdrawStake(cid);
    }

    // ---- close and conservation ----

    function test_closeRefundsUnspentAndConservesTokens() public {
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](3);
        rs[0] = r(l1, 10, 10_000);
        rs[1] = r(l2, 20, 8_000);
        rs[2] = r(l3, 5, 2_000);
        settle(ROOT1, rs);
        uint256 before = token.balanceOf(requester);
        vm.prank(requester);
        escrow.close(cid);
        uint256 credited = 10 * E18 + 16 * E18 + 1 * E18;
        vm.assertEq(token.balanceOf(requester) - before, BUDGET - credited, "unspent budget back");

        vm.warp(block.timestamp + VESTING);
        address[3] memory ls = [l1, l2, l3];
        for (uint256 i; i < 3; ++i) {
            vm.prank(ls[i]);
            escrow.withdraw(cid);
            vm.prank(ls[i]);
            escrow.withdrawStake(cid);
        }
        LabelingEscrow.Campaign memory c = camp();
        vm.assertEq(token.balanceOf(address(escrow)), 0, "escrow empty");
        vm.assertEq(c.paidOut, credited, "paid");
        vm.assertEq(
            token.balanceOf(address(escrow)) + c.paidOut + c.refunded + c.stakeReturned,
            c.funded + c.stakedIn,
            "conservation"
        );
        vm.assertEq(token.balanceOf(l2), 100 * E18 + 16 * E18, "l2 got stake back plus pay");
    }

    function test_untrustedOracleSettlementsPayButEarnNoReputation() public {
        address selfOracle = address(0x5E1F);
        vm.prank(requester);
        uint256 other = escrow.createCampaign(IERC20(address(token)), selfOracle, params(), 100 * E18);
        vm.prank(l1);
        escrow.join(other, STAKE);
        vm.prank(selfOracle);
        escrow.settle(other, ROOT1, 50, "bafy", one(r(l1, 50, 10_000)));
        vm.assertEq(escrow.getPosition(other, l1).claimable, 25 * E18, "paid");
        (uint64 acc,,) = escrow.labelerStats(l1);
        vm.assertEq(acc, 0, "no stats from an untrusted oracle");

        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, l1));
        escrow.setTrustedOracle(l1, true);
    }

    // ---- merkle ----

    function test_labelMembershipInSettledBatch() public {
        bytes32 a = keccak256("label-a");
        bytes32 b = keccak256("label-b");
        bytes32 c = keccak256("label-c");
        bytes32 ab = a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
        // odd node promoted unchanged: root = H(ab, c)
        bytes32 root = ab < c ? keccak256(abi.encode(ab, c)) : keccak256(abi.encode(c, ab));
        uint32 idx = settle(root, one(r(l1, 3, 10_000)));
        bytes32[] memory proofA = new bytes32[](2);
        proofA[0] = b;
        proofA[1] = c;
        vm.assertTrue(escrow.isLabelInBatch(cid, idx, a, proofA), "a in batch");
        bytes32[] memory proofC = new bytes32[](1);
        proofC[0] = ab;
        vm.assertTrue(escrow.isLabelInBatch(cid, idx, c, proofC), "c in batch");
        vm.assertFalse(escrow.isLabelInBatch(cid, idx, keccak256("label-x"), proofC), "x not in batch");
        vm.assertFalse(escrow.isLabelInBatch(cid, idx + 1, c, proofC), "no such batch");
    }

    // ---- gas: one settlement of 100 labelers ----

    function test_gasSettle100Labelers() public {
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](100);
        vm.prank(requester);
        escrow.fund(cid, 9_000 * E18);
        for (uint256 i; i < 100; ++i) {
            address who = address(uint160(0x10000 + i));
            _fundAndJoin(who);
            rs[i] = r(who, uint32(5 + i % 10), uint16(7_000 + (i * 37) % 3_001));
        }
        vm.prank(oracle);
        uint256 g0 = gasleft();
        escrow.settle(cid, ROOT1, 10_000, "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", rs);
        uint256 first = g0 - gasleft();
        vm.warp(block.timestamp + 1 days);
        vm.prank(oracle);
        g0 = gasleft();
        escrow.settle(cid, ROOT2, 10_000, "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", rs);
        uint256 second = g0 - gasleft();
        emit log_named_uint("gas: settle 100 labelers, first batch", first);
        emit log_named_uint("gas: settle 100 labelers, later batch (bonus)", second);
        vm.assertLt(first, 3_500_000, "first settlement fits well in a block");
        vm.assertLt(second, 3_500_000, "later settlement fits well in a block");
    }
}

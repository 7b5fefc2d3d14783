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
        // l1 scores above the 80% threshold: 10% of its vesting deposit is set aside as bonus reserve
        vm.assertEq(pos(l1).bonusReserve, E18 / 2, "l1 bonus reserve");
        vm.assertEq(camp().budget, BUDGET - 15 * E18 - E18 / 2, "budget spent");
        vm.assertEq(camp().committed, 15 * E18 + E18 / 2, "committed");
        (uint64 acc, uint16 q, uint32 n) = escrow.labelerStats(l2);
        vm.assertEq(acc, 10, "stats accepted");
        vm.assertEq(q, 5000, "stats quality");
        vm.assertEq(n, 1, "stats settlements");

        uint256 before = token.balanceOf(l1);
        vm.prank(l1);
        escrow.withdraw(cid);
        vm.assertEq(token.balanceOf(l1) - before, 5 * E18, "withdrawn immediate part");
    }

    function test_bonusIsReservedAtDepositAndPaidAtUnlockIfQualityHolds() public {
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](2);
        rs[0] = r(l1, 10, 9_000); // gross 9, vest 4.5, reserve 10% = 0.45
        rs[1] = r(l2, 10, 7_000); // below threshold: no reserve
        settle(ROOT1, rs);
        vm.assertEq(pos(l1).bonusReserve, 45 * E18 / 100, "l1 bonus reserved");
        vm.assertEq(pos(l2).bonusReserve, 0, "l2 no reserve below threshold");
        vm.assertEq(camp().budget, BUDGET - 16 * E18 - 45 * E18 / 100, "reserve set aside from budget");
        vm.warp(block.timestamp + VESTING);
        vm.prank(l1);
        vm.assertEq(escrow.withdraw(cid), 9 * E18 + 45 * E18 / 100, "immediate + vesting + bonus");
    }

    function test_bonusForfeitedWhenQualityDrops() public {
        settle(ROOT1, one(r(l1, 10, 9_000))); // reserve 0.45
        uint256 budget = camp().budget;
        settle(ROOT2, one(r(l1, 20, 7_000))); // 10 new at 70%: gross 7, reserve forfeited
        vm.assertEq(pos(l1).bonusReserve, 0, "forfeited");
        vm.assertEq(camp().budget, budget + 45 * E18 / 100 - 7 * E18, "reserve back to budget");
        vm.assertEq(camp().committed, 9 * E18 + 7 * E18, "committed without the reserve");
    }

    function test_unlockIsAmountWeighted() public {
        settle(ROOT1, one(r(l1, 10, 10_000))); // 5 vesting, unlock t0+7d
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 2 days);
        // no bonus (bonus 10% of 5 = 0.5 at q >= threshold: use a low score to keep numbers plain)
        settle(ROOT2, one(r(l1, 20, 5_000))); // 10 new labels: 2.5 new vesting, unlock t0+9d
        uint256 expected = (5 * E18 * (t0 + 7 days) + 25 * E18 / 10 * (t0 + 9 days)) / (75 * E18 / 10);
        vm.assertEq(pos(l1).unlockAt, expected, "weighted unlock");
    }

    function test_maturedVestingIsReleasedBeforeANewDeposit() public {
        settle(ROOT1, one(r(l1, 10, 10_000))); // 5 now, 5 vesting + 0.5 reserve
        vm.warp(block.timestamp + VESTING);
        settle(ROOT2, one(r(l1, 12, 10_000))); // 2 new: 1 now, 1 vesting + 0.1 reserve
        vm.assertEq(pos(l1).claimable, 5 * E18 + 55 * E18 / 10 + 1 * E18, "matured deposit and bonus released");
        vm.assertEq(pos(l1).vesting, 1 * E18, "only the new deposit locked");
        vm.assertEq(pos(l1).unlockAt, block.timestamp + VESTING, "new lock");
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
        vm.assertEq(token.balanceOf(l1) - before, 55 * E18 / 10, "vesting and its bonus after unlock");
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
        uint64 deadline = camp().params.deadline;
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.CloseNotAllowed.selector, l1, deadline));
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
        escrow.join(cid, STAKE);
        vm.prank(requester);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        escrow.fund(cid, 1);
        escrow.unpause();
        settle(ROOT1, one(r(l1, 1, 10_000)));
    }

    // ---- bad input: each named error ----

    function test_pagesOfOneExportShareTheBatchIndexAndPayOnce() public {
        uint32 a = settle(ROOT1, one(r(l1, 1, 10_000)));
        uint32 b = settle(ROOT1, one(r(l2, 1, 10_000))); // second page of the same export
        uint32 c = settle(ROOT1, one(r(l1, 1, 10_000))); // retried first page
        vm.assertEq(a, 1, "index");
        vm.assertEq(b, 1, "same index for a page");
        vm.assertEq(c, 1, "same index for a retry");
        vm.assertEq(camp().batches, 1, "one batch");
        vm.assertEq(pos(l1).claimable, E18 / 2, "l1 paid once");
        vm.assertEq(pos(l2).claimable, E18 / 2, "l2 paid");
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
        settle(ROOT2, dup);
        vm.assertEq(pos(l1).claimable, E18 / 2, "a labeler listed twice is paid once");

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

        p = params();
        p.deadline = uint64(block.timestamp);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.BadDeadline.selector, block.timestamp));
        escrow.createCampaign(IERC20(address(token)), oracle, p, 0);
        p = params();
        p.settlementWindow = 1 hours;
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.BadSettlementWindow.selector, 1 hours));
        escrow.createCampaign(IERC20(address(token)), oracle, p, 0);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.UntrustedOracle.selector, address(0x0BAD)));
        escrow.createCampaign(IERC20(address(token)), address(0x0BAD), params(), 0);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.RequesterIsOracle.selector, requester));
        escrow.createCampaign(IERC20(address(token)), requester, params(), 0);

        vm.prank(requester);
        escrow.close(cid);
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.SettlementWindowOpen.selector, cid, block.timestamp + WINDOW));
        escrow.withdrawStake(cid);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.SettlementWindowOpen.selector, cid, block.timestamp + WINDOW));
        escrow.refund(cid);
        uint256 endsAt = block.timestamp + WINDOW;
        vm.warp(endsAt);
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.SettlementOver.selector, cid, endsAt));
        settle(ROOT1, one(r(l1, 1, 10_000)));
        bytes memory sig = signFraud(ORACLE_PK, l1, 5, 10, "bafy-e");
        vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.SettlementOver.selector, cid, endsAt));
        escrow.slash(cid, l1, 5, 10, "bafy-e", sig);
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
        vm.assertEq(p.bonusReserve, 0, "bonus reserve taken");
        vm.assertEq(p.claimable, 5 * E18, "already-claimable pay kept");
        vm.assertEq(camp().budget, budgetBefore + STAKE + 55 * E18 / 10, "to the campaign");
        vm.assertEq(camp().slashed, STAKE + 55 * E18 / 10, "slashed total");

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

    function test_slashInSettlementWindowIsRefundedAfterIt() public {
        settle(ROOT1, one(r(l3, 10, 10_000))); // 10 credited + 0.5 reserve
        vm.prank(requester);
        escrow.close(cid);
        escrow.slash(cid, l3, 5, 10, "bafy-e", signFraud(ORACLE_PK, l3, 5, 10, "bafy-e"));
        vm.warp(block.timestamp + WINDOW);
        uint256 before = token.balanceOf(requester);
        vm.prank(l2); // anyone may trigger the refund; it goes to the requester
        escrow.refund(cid);
        vm.assertEq(token.balanceOf(requester) - before, BUDGET + STAKE - 5 * E18, "budget less l3's claimable pay, plus its slashed stake");
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
        vm.warp(block.timestamp + WINDOW);
        escrow.refund(cid);
        // pay 10 + 16 + 1, bonus reserves 0.5 (l1) + 0.8 (l2); l3 is below the threshold
        uint256 credited = 27 * E18 + 13 * E18 / 10;
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
        vm.assertEq(token.balanceOf(l2), 100 * E18 + 168 * E18 / 10, "l2 got stake back plus pay and bonus");
    }

    function test_untrustedOracleSettlementsPayButEarnNoReputation() public {
        address laterOracle = address(0x5E1F);
        escrow.setTrustedOracle(laterOracle, true);
        vm.prank(requester);
        uint256 other = escrow.createCampaign(IERC20(address(token)), laterOracle, params(), 100 * E18);
        vm.prank(l1);
        escrow.join(other, STAKE);
        escrow.setTrustedOracle(laterOracle, false); // the owner stops trusting it: work is still paid
        vm.prank(laterOracle);
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
        bytes32 la = keccak256("label-a");
        bytes32 lb = keccak256("label-b");
        bytes32 lc = keccak256("label-c");
        // leaves are the label hashes hashed twice (what src/batch/merkle.ts builds)
        bytes32 a = keccak256(abi.encode(keccak256(abi.encode(la))));
        bytes32 b = keccak256(abi.encode(keccak256(abi.encode(lb))));
        bytes32 c = keccak256(abi.encode(keccak256(abi.encode(lc))));
        vm.assertEq(escrow.labelLeaf(la), a, "leaf of a");
        bytes32 ab = a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
        // odd node promoted unchanged: root = H(ab, c)
        bytes32 root = ab < c ? keccak256(abi.encode(ab, c)) : keccak256(abi.encode(c, ab));
        uint32 idx = settle(root, one(r(l1, 3, 10_000)));
        bytes32[] memory proofA = new bytes32[](2);
        proofA[0] = b;
        proofA[1] = c;
        vm.assertTrue(escrow.isLabelInBatch(cid, idx, la, proofA), "a in batch");
        vm.assertFalse(escrow.isLabelInBatch(cid, idx, a, proofA), "the leaf itself is not a label");
        bytes32[] memory proofC = new bytes32[](1);
        proofC[0] = ab;
        vm.assertTrue(escrow.isLabelInBatch(cid, idx, lc, proofC), "c in batch");
        vm.assertFalse(escrow.isLabelInBatch(cid, idx, ab, proofC), "inner node is not a label");
        vm.assertFalse(escrow.isLabelInBatch(cid, idx, keccak256("label-x"), proofC), "x not in batch");
        vm.assertFalse(escrow.isLabelInBatch(cid, idx + 1, lc, proofC), "no such batch");
    }

    // ---- gas: one settlement page of 200 labelers (MAX_BATCH_LABELERS) ----

    function test_gasSettle200Labelers() public {
        uint256 n = escrow.MAX_BATCH_LABELERS();
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](n);
        vm.prank(requester);
        escrow.fund(cid, 9_000 * E18);
        for (uint256 i; i < n; ++i) {
            address who = address(uint160(0x10000 + i));
            _fundAndJoin(who);
            rs[i] = r(who, uint32(5 + i % 10), uint16(7_000 + (i * 37) % 3_001));
        }
        string memory cidStr = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        vm.prank(oracle);
        uint256 g0 = gasleft();
        escrow.settle(cid, ROOT1, 100_000, cidStr, rs);
        uint256 first = g0 - gasleft();
        vm.warp(block.timestamp + 1 days);
        for (uint256 i; i < n; ++i) rs[i].accepted += 3; // the next export: 3 more labels each
        vm.prank(oracle);
        g0 = gasleft();
        escrow.settle(cid, ROOT2, 100_000, cidStr, rs);
        uint256 second = g0 - gasleft();
        vm.prank(oracle);
        g0 = gasleft();
        escrow.settle(cid, ROOT2, 100_000, cidStr, rs); // retry: pays nothing
        uint256 retry = g0 - gasleft();
        emit log_named_uint("gas: settle 200 labelers, first batch", first);
        emit log_named_uint("gas: settle 200 labelers, next export", second);
        emit log_named_uint("gas: settle 200 labelers, retried page", retry);
        vm.assertLt(first, 10_000_000, "first settlement fits in a third of a 30M block");
        vm.assertLt(second, 10_000_000, "later settlement fits in a third of a 30M block");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestBase} from "./utils/TestBase.sol";
import {LabelingEscrow} from "../src/LabelingEscrow.sol";
import {LabelerBadge} from "../src/LabelerBadge.sol";
import {TestToken} from "../src/TestToken.sol";

/// Drives TWO campaigns of one escrow (same token, different terms) through random fund / join /
/// settle / withdraw / slash / forged slash / close / refund / pause / oracle-trust / badge actions.
/// Every handler checks its preconditions and then calls WITHOUT try/catch: with
/// `fail_on_revert = true` (foundry.toml) any unexpected revert fails the run, so e.g. a withdrawal
/// blocked by pause is caught. Calls that must fail are wrapped in vm.expectRevert. Ghosts count the
/// tokens that really moved (balance deltas), per campaign and per labeler.
contract EscrowHandler is TestBase {
    uint256 constant ORACLE_PK = 0xA11CE;
    uint256 constant FORGER_PK = 0xF0F0;
    uint256 constant STAKE = 10 ether;
    uint256 constant N = 2; // campaigns
    uint256 constant A = 4; // labelers

    LabelingEscrow public escrow;
    TestToken public token;
    LabelerBadge public badge;
    address public oracle;
    address public requester = address(0xB0B);
    address public stranger = address(0x5757);
    uint256[N] public cids;
    address[A] public actors = [address(0x1001), address(0x1002), address(0x1003), address(0x1004)];

    // ghosts, per campaign: tokens that really moved
    uint256[N] public deposited; // requester funding + stakes in
    uint256[N] public paid; // pay withdrawn by labelers
    uint256[N] public refunded; // budget back to the requester
    uint256[N] public stakeReturned;
    uint256[N] public validSlashed; // stake + vesting + reserve taken by valid trusted-oracle proofs
    // per campaign and labeler
    mapping(uint256 => mapping(address => uint256)) public credited; // net credit: settles - forfeits - slashes
    mapping(uint256 => mapping(address => uint256)) public withdrawnBy;

    bool public drained;
    bool public badgeMoved;
    uint256 public calls;
    uint256 public pausedWithdrawals; // withdrawals that went through while paused
    uint256 public forgedRejected;
    uint256 nonce;

    constructor() {
        oracle = vm.addr(ORACLE_PK);
        token = new TestToken();
        escrow = new LabelingEscrow(address(this)); // this handler is the owner (pause, oracle trust)
        badge = new LabelerBadge(escrow, address(this));
        badge.grantRole(badge.ISSUER_ROLE(), oracle);
        escrow.setTrustedOracle(oracle, true);
        token.mint(requester, 1_000 ether);
        vm.startPrank(requester);
        token.approve(address(escrow), type(uint256).max);
        for (uint256 i; i < N; ++i) {
            LabelingEscrow.CampaignParams memory p;
            p.rewardPerLabel = uint128(i == 0 ? 1 ether : 0.3 ether);
            p.requiredStake = uint128(STAKE);
            p.qualityThresholdBps = 8000;
            p.immediateBps = i == 0 ? 3000 : 7000;
            p.bonusBps = i == 0 ? 500 : 2000;
            p.fraudGoldFailBps = 3000;
            p.vestingPeriod = i == 0 ? 3 days : 1 days;
            p.deadline = uint64(block.timestamp + (i == 0 ? 20 days : 8 days));
            p.settlementWindow = i == 0 ? 2 days : 1 days;
            cids[i] = escrow.createCampaign(IERC20(address(token)), oracle, p, 200 ether);
            deposited[i] = 200 ether;
        }
        vm.stopPrank();
        for (uint256 j; j < A; ++j) {
            vm.prank(actors[j]);
            token.approve(address(escrow), type(uint256).max);
        }
    }

    modifier live() {
        if (drained) return;
        calls++;
        _;
    }

    function _c(uint256 i) internal view returns (LabelingEscrow.Campaign memory) {
        return escrow.getCampaign(cids[i]);
    }

    function _inSettlement(LabelingEscrow.Campaign memory c) internal view returns (bool) {
        return c.open || block.timestamp < uint256(c.closedAt) + c.params.settlementWindow;
    }

    function _settlementOver(LabelingEscrow.Campaign memory c) internal view returns (bool) {
        return !c.open && block.timestamp >= uint256(c.closedAt) + c.params.settlementWindow;
    }

    function _owed(LabelingEscrow.Position memory p) internal pure returns (uint256) {
        return uint256(p.claimable) + p.vesting + p.bonusReserve;
    }

    // ---- requester ----

    function fund(uint256 ci, uint256 amount) external live {
        ci %= N;
        if (!_c(ci).open || escrow.paused()) return;
        amount = bound(amount, 1, 100 ether);
        token.mint(requester, amount);
        vm.prank(requester);
        escrow.fund(cids[ci], amount);
        deposited[ci] += amount;
    }

    function close(uint256 ci, uint256 seed) external live {
        ci %= N;
        LabelingEscrow.Campaign memory c = _c(ci);
        if (!c.open || seed % 6 != 0) return; // rare, so campaigns live a while
        bool late = block.timestamp >= c.params.deadline;
        vm.prank(late && seed % 12 == 0 ? stranger : requester); // anyone may close after the deadline
        escrow.close(cids[ci]);
    }

    function refund(uint256 ci) external live {
        ci %= N;
        LabelingEscrow.Campaign memory c = _c(ci);
        if (!_settlementOver(c) || c.budget == 0) return;
        uint256 before = token.balanceOf(requester);
        vm.prank(stranger);
        escrow.refund(cids[ci]);
        refunded[ci] += token.balanceOf(requester) - before;
    }

    // ---- labelers ----

    function join(uint256 ci, uint256 who, uint256 amount) external live {
        ci %= N;
        LabelingEscrow.Campaign memory c = _c(ci);
        address a = actors[who % A];
        if (!c.open || escrow.paused() || block.timestamp >= c.params.deadline || !escrow.trustedOracle(oracle)) return;
        if (escrow.getPosition(cids[ci], a).joined) return;
        amount = bound(amount, STAKE, 3 * STAKE);
        token.mint(a, amount);
        vm.prank(a);
        escrow.join(cids[ci], amount);
        deposited[ci] += amount;
    }

    function withdraw(uint256 ci, uint256 who) external live {
        ci %= N;
        address a = actors[who % A];
        LabelingEscrow.Position memory p = escrow.getPosition(cids[ci], a);
        bool matured = p.vesting > 0 && p.unlockAt <= block.timestamp;
        if (p.claimable == 0 && !matured) return;
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        escrow.withdraw(cids[ci]); // must work while paused
        uint256 got = token.balanceOf(a) - before;
        paid[ci] += got;
        withdrawnBy[ci][a] += got;
        if (escrow.paused()) pausedWithdrawals++;
    }

    function withdrawStake(uint256 ci, uint256 who) external live {
        ci %= N;
        address a = actors[who % A];
        if (!_settlementOver(_c(ci)) || escrow.getPosition(cids[ci], a).stake == 0) return;
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        escrow.withdrawStake(cids[ci]); // must work while paused
        stakeReturned[ci] += token.balanceOf(a) - before;
        if (escrow.paused()) pausedWithdrawals++;
    }

    // ---- oracle ----

    /// Settle an "export": each joined, unslashed labeler's cumulative count moves by -5..+20 from
    /// what is settled (a negative move is an older export: it must pay nothing).
    function settle(uint256 ci, uint256 seed) external live {
        ci %= N;
        LabelingEscrow.Campaign memory c = _c(ci);
        if (!_inSettlement(c) || escrow.paused()) return;
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](A);
        uint256 n;
        uint256 basePay;
        for (uint256 i; i < A; ++i) {
            LabelingEscrow.Position memory p = escrow.getPosition(cids[ci], actors[i]);
            if (!p.joined || p.slashed) continue;
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            uint256 acc = p.settledAccepted + (s % 26);
            acc = acc >= 5 ? acc - 5 : 0;
            uint16 q = uint16((s >> 64) % 10_001);
            (uint256 im, uint256 ve,) = escrow.previewCredit(cids[ci], actors[i], uint32(acc), q);
            basePay += im + ve;
            rs[n++] = LabelingEscrow.LabelerResult(actors[i], uint32(acc), q);
        }
        if (n == 0 || basePay > c.budget) return; // over budget is the requester's problem: tested in unit tests
        assembly {
            mstore(rs, n)
        }
        uint256[A] memory before;
        for (uint256 i; i < n; ++i) {
            LabelingEscrow.Position memory p = escrow.getPosition(cids[ci], rs[i].labeler);
            before[i] = _owed(p) + p.withdrawn;
        }
        vm.prank(oracle);
        escrow.settle(cids[ci], keccak256(abi.encode("export", ci, ++nonce % 7)), 1_000_000, "bafy", rs);
        for (uint256 i; i < n; ++i) {
            LabelingEscrow.Position memory p = escrow.getPosition(cids[ci], rs[i].labeler);
            uint256 afterOwed = _owed(p) + p.withdrawn;
            // a forfeited reserve lowers what is owed; anything else only raises it
            if (afterOwed >= before[i]) credited[ci][rs[i].labeler] += afterOwed - before[i];
            else credited[ci][rs[i].labeler] -= before[i] - afterOwed;
        }
    }

    function slash(uint256 ci, uint256 who, uint256 fails) external live {
        ci %= N;
        address a = actors[who % A];
        LabelingEscrow.Campaign memory c = _c(ci);
        LabelingEscrow.Position memory p = escrow.getPosition(cids[ci], a);
        if (!p.joined || p.slashed || !_inSettlement(c) || escrow.paused()) return;
        uint32 f = uint32(bound(fails, 4, 10)); // > 30% of 10 gold tasks
        bytes memory sig = _sign(ORACLE_PK, ci, a, f);
        if (!escrow.trustedOracle(oracle)) {
            vm.expectRevert(abi.encodeWithSelector(LabelingEscrow.UntrustedOracle.selector, oracle));
            escrow.slash(cids[ci], a, f, 10, "bafy-evidence", sig);
            return;
        }
        escrow.slash(cids[ci], a, f, 10, "bafy-evidence", sig);
        uint256 taken = uint256(p.stake) + p.vesting + p.bonusReserve;
        validSlashed[ci] += taken;
        credited[ci][a] -= uint256(p.vesting) + p.bonusReserve;
    }

    /// A proof signed by anyone but the campaign's oracle never takes a stake.
    function forgedSlash(uint256 ci, uint256 who, uint256 fails) external live {
        ci %= N;
        address a = actors[who % A];
        LabelingEscrow.Position memory p = escrow.getPosition(cids[ci], a);
        if (!p.joined || p.slashed || !_inSettlement(_c(ci)) || escrow.paused()) return;
        uint32 f = uint32(bound(fails, 4, 10));
        bytes memory sig = _sign(FORGER_PK, ci, a, f);
        vm.expectRevert();
        escrow.slash(cids[ci], a, f, 10, "bafy-evidence", sig);
        forgedRejected++;
    }

    function _sign(uint256 pk, uint256 ci, address a, uint32 f) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, escrow.fraudProofDigest(cids[ci], a, f, 10, "bafy-evidence"));
        return abi.encodePacked(r, s, v);
    }

    // ---- owner, time, badges ----

    function togglePause(uint256 seed) external live {
        if (seed % 4 != 0) return;
        if (escrow.paused()) escrow.unpause();
        else escrow.pause();
    }

    function toggleOracleTrust(uint256 seed) external live {
        if (seed % 5 != 0) return;
        escrow.setTrustedOracle(oracle, !escrow.trustedOracle(oracle));
    }

    function warp(uint256 dt) external live {
        vm.warp(block.timestamp + bound(dt, 0, 3 days));
    }

    function badgeFor(uint256 who) external live {
        address a = actors[who % A];
        (uint64 acc,,) = escrow.labelerStats(a);
        if (acc == 0) return;
        vm.startPrank(oracle);
        if (badge.balanceOf(a) == 0) badge.mint(a, "ipfs://bafy-badge");
        else badge.upgrade(a, "ipfs://bafy-badge-2");
        vm.stopPrank();
    }

    function moveBadge(uint256 who, uint256 to) external live {
        address a = actors[who % A];
        if (badge.balanceOf(a) == 0) return;
        address b = actors[to % A];
        uint256 id = badge.tokenIdOf(a);
        vm.prank(a);
        vm.expectRevert();
        badge.transferFrom(a, b == a ? address(0xdead) : b, id);
    }

    /// Rarely: close every campaign, let every window and lock pass, refund and withdraw everything.
    /// The escrow must end empty; after this the handlers stop.
    function drainAll(uint256 seed) external live {
        if (seed % 16 != 0) return;
        for (uint256 i; i < N; ++i) {
            if (_c(i).open) {
                vm.prank(requester);
                escrow.close(cids[i]);
            }
        }
        vm.warp(block.timestamp + 60 days);
        for (uint256 i; i < N; ++i) {
            if (_c(i).budget > 0) this.refund(i);
            for (uint256 j; j < A; ++j) {
                this.withdraw(i, j);
                this.withdrawStake(i, j);
            }
        }
        drained = true;
        vm.assertEq(token.balanceOf(address(escrow)), 0, "escrow drains to zero");
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }

    function cid(uint256 i) external view returns (uint256) {
        return cids[i];
    }
}

contract LabelingEscrowInvariantTest is TestBase {
    EscrowHandler handler;
    LabelingEscrow escrow;
    TestToken token;

    function setUp() public {
        handler = new EscrowHandler();
        escrow = handler.escrow();
        token = handler.token();
    }

    /// Read by forge: fuzz only the handler's functions.
    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// Per campaign, what the escrow holds for it equals what really came in minus what really went
    /// out; so no campaign ever pays from another's funds. The campaigns together hold the balance.
    function invariant_tokensConservedPerCampaign() public view {
        uint256 total;
        for (uint256 i; i < 2; ++i) {
            LabelingEscrow.Campaign memory c = escrow.getCampaign(handler.cid(i));
            uint256 held = uint256(c.budget) + c.committed + c.stakes;
            vm.assertEq(
                held + handler.paid(i) + handler.refunded(i) + handler.stakeReturned(i), handler.deposited(i), "campaign conserved"
            );
            vm.assertEq(c.paidOut, handler.paid(i), "paidOut counter");
            vm.assertEq(c.refunded, handler.refunded(i), "refunded counter");
            total += held;
        }
        vm.assertEq(total, token.balanceOf(address(escrow)), "escrow holds exactly the campaigns' funds");
    }

    /// The escrow owes exactly what it holds: committed == sum of positions' claimable + vesting +
    /// bonus reserve, stakes == sum of join stakes.
    function invariant_escrowHoldsExactlyWhatItOwes() public view {
        for (uint256 i; i < 2; ++i) {
            LabelingEscrow.Campaign memory c = escrow.getCampaign(handler.cid(i));
            uint256 owed;
            uint256 stakes;
            for (uint256 j; j < 4; ++j) {
                LabelingEscrow.Position memory p = escrow.getPosition(handler.cid(i), handler.actor(j));
                owed += uint256(p.claimable) + p.vesting + p.bonusReserve;
                stakes += p.stake;
            }
            vm.assertEq(owed, c.committed, "committed == sum owed to labelers");
            vm.assertEq(stakes, c.stakes, "stakes == sum of positions");
        }
    }

    function invariant_withdrawnNeverExceedsCredited() public view {
        for (uint256 i; i < 2; ++i) {
            for (uint256 j; j < 4; ++j) {
                address a = handler.actor(j);
                vm.assertLe(handler.withdrawnBy(i, a), handler.credited(i, a), "withdrawn <= credited");
                vm.assertEq(escrow.getPosition(handler.cid(i), a).withdrawn, handler.withdrawnBy(i, a), "withdrawn counter");
            }
        }
    }

    /// Stakes leave a labeler only through valid proofs signed by a trusted oracle.
    function invariant_stakesTakenOnlyByValidTrustedProofs() public view {
        for (uint256 i; i < 2; ++i) {
            vm.assertEq(escrow.getCampaign(handler.cid(i)).slashed, handler.validSlashed(i), "slashed == valid proofs");
        }
    }

    function invariant_drainedEscrowIsEmpty() public view {
        if (handler.drained()) vm.assertEq(token.balanceOf(address(escrow)), 0, "empty after drain");
    }

    function invariant_badgesNeverMove() public view {
        LabelerBadge badge = handler.badge();
        for (uint256 j; j < 4; ++j) {
            address a = handler.actor(j);
            if (badge.balanceOf(a) > 0) vm.assertEq(badge.ownerOf(badge.tokenIdOf(a)), a, "badge with its labeler");
        }
    }

    /// Printed once per run by `forge test -vv` through the afterInvariant hook.
    function afterInvariant() public {
        emit log_named_uint("invariant: handler calls", handler.calls());
        emit log_named_uint("invariant: withdrawals while paused", handler.pausedWithdrawals());
        emit log_named_uint("invariant: forged slashes rejected", handler.forgedRejected());
    }
}

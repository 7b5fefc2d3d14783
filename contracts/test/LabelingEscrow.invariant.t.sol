// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TestBase} from "./utils/TestBase.sol";
import {LabelingEscrow} from "../src/LabelingEscrow.sol";
import {LabelerBadge} from "../src/LabelerBadge.sol";
import {TestToken} from "../src/TestToken.sol";

/// Drives one campaign through random fund / join / settle / withdraw / slash / close / badge
/// actions, and counts every token that really moved (balance deltas, not the escrow's counters).
contract EscrowHandler is TestBase {
    uint256 constant ORACLE_PK = 0xA11CE;
    uint256 constant STAKE = 10 ether;

    LabelingEscrow public escrow;
    TestToken public token;
    LabelerBadge public badge;
    address public oracle;
    address public requester = address(0xB0B);
    uint256 public cid;
    address[4] public actors = [address(0x1001), address(0x1002), address(0x1003), address(0x1004)];

    // ghosts: tokens that really moved
    uint256 public deposited;
    uint256 public paid;
    uint256 public refunded;
    uint256 public stakeReturned;
    uint256 public settled;
    bool public closed;
    bool public badgeMoved;
    uint256 nonce;

    constructor(LabelingEscrow e, TestToken t, LabelerBadge b, uint256 id, uint256 initialDeposit) {
        deposited = initialDeposit;
        escrow = e;
        token = t;
        badge = b;
        cid = id;
        oracle = vm.addr(ORACLE_PK);
        for (uint256 i; i < 4; ++i) {
            vm.prank(actors[i]);
            token.approve(address(escrow), type(uint256).max);
        }
        vm.prank(requester);
        token.approve(address(escrow), type(uint256).max);
    }

    function fund(uint256 amount) external {
        if (closed) return;
        amount = bound(amount, 1, 200 ether);
        token.mint(requester, amount);
        vm.prank(requester);
        escrow.fund(cid, amount);
        deposited += amount;
    }

    function join(uint256 who, uint256 amount) external {
        if (closed) return;
        address a = actors[who % 4];
        if (escrow.getPosition(cid, a).joined) return;
        amount = bound(amount, STAKE, 3 * STAKE);
        token.mint(a, amount);
        vm.prank(a);
        escrow.join(cid, amount);
        deposited += amount;
    }

    function settle(uint256 seed) external {
        if (closed) return;
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](4);
        uint256 n;
        for (uint256 i; i < 4; ++i) {
            LabelingEscrow.Position memory p = escrow.getPosition(cid, actors[i]);
            if (!p.joined || p.slashed) continue;
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            rs[n++] = LabelingEscrow.LabelerResult(actors[i], uint32(s % 40), uint16((s >> 64) % 10_001));
        }
        if (n == 0) return;
        assembly {
            mstore(rs, n)
        }
        vm.prank(oracle);
        try escrow.settle(cid, keccak256(abi.encode("batch", ++nonce)), 1_000, "bafy", rs) {
            settled++;
        } catch {}
    }

    function withdraw(uint256 who) external {
        address a = actors[who % 4];
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        try escrow.withdraw(cid) {
            paid += token.balanceOf(a) - before;
        } catch {}
    }

    function withdrawStake(uint256 who) external {
        address a = actors[who % 4];
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        try escrow.withdrawStake(cid) {
            stakeReturned += token.balanceOf(a) - before;
        } catch {}
    }

    function warp(uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 5 days));
    }

    function slash(uint256 who, uint256 fails) external {
        address a = actors[who % 4];
        LabelingEscrow.Position memory p = escrow.getPosition(cid, a);
        if (!p.joined || p.slashed) return;
        uint32 f = uint32(bound(fails, 4, 10)); // > 30% of 10 gold tasks
        bytes32 digest = escrow.fraudProofDigest(cid, a, f, 10, "bafy-evidence");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ORACLE_PK, digest);
        uint256 before = token.balanceOf(requester);
        escrow.slash(cid, a, f, 10, "bafy-evidence", abi.encodePacked(r, s, v));
        refunded += token.balanceOf(requester) - before;
    }

    function close(uint256 seed) external {
        if (closed || seed % 8 != 0) return; // rare, so campaigns live a while
        uint256 before = token.balanceOf(requester);
        vm.prank(requester);
        escrow.close(cid);
        refunded += token.balanceOf(requester) - before;
        closed = true;
    }

    function badgeFor(uint256 who) external {
        address a = actors[who % 4];
        uint256 id = badge.tokenIdOf(a);
        vm.startPrank(oracle);
        if (badge.balanceOf(a) == 0) {
            try badge.mint(a, "ipfs://bafy-badge") {} catch {}
        } else {
            badge.upgrade(a, "ipfs://bafy-badge-2");
        }
        vm.stopPrank();
        id;
    }

    function moveBadge(uint256 who, uint256 to) external {
        address a = actors[who % 4];
        address b = actors[to % 4];
        uint256 id = badge.tokenIdOf(a);
        vm.prank(a);
        try badge.transferFrom(a, b == a ? address(0xdead) : b, id) {
            badgeMoved = true;
        } catch {}
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }
}

contract LabelingEscrowInvariantTest is TestBase {
    EscrowHandler handler;
    LabelingEscrow escrow;
    TestToken token;
    LabelerBadge badge;
    uint256 cid;

    function setUp() public {
        token = new TestToken();
        escrow = new LabelingEscrow(address(this));
        badge = new LabelerBadge(escrow, address(this));
        LabelingEscrow.CampaignParams memory p;
        p.rewardPerLabel = 1 ether;
        p.requiredStake = 10 ether;
        p.qualityThresholdBps = 8000;
        p.immediateBps = 3000;
        p.bonusBps = 500;
        p.fraudGoldFailBps = 3000;
        p.vestingPeriod = 3 days;
        address requester = address(0xB0B);
        token.mint(requester, 500 ether);
        vm.startPrank(requester);
        token.approve(address(escrow), 500 ether);
        cid = escrow.createCampaign(IERC20(address(token)), vm.addr(0xA11CE), p, 500 ether);
        vm.stopPrank();
        handler = new EscrowHandler(escrow, token, badge, cid, 500 ether);
        badge.grantRole(badge.ISSUER_ROLE(), vm.addr(0xA11CE));
        escrow.setTrustedOracle(vm.addr(0xA11CE), true);
    }

    /// Read by forge: fuzz only the handler's functions.
    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function invariant_tokensConserved() public view {
        vm.assertEq(
            token.balanceOf(address(escrow)) + handler.paid() + handler.refunded() + handler.stakeReturned(),
            handler.deposited(),
            "escrow balance + paid + refunded + stakes returned == deposited"
        );
    }

    function invariant_bookkeepingMatchesBalances() public view {
        LabelingEscrow.Campaign memory c = escrow.getCampaign(cid);
        vm.assertEq(uint256(c.budget) + c.committed + c.stakes, token.balanceOf(address(escrow)), "held");
        vm.assertEq(c.paidOut, handler.paid(), "paidOut counter");
        vm.assertEq(c.refunded, handler.refunded(), "refunded counter");
        uint256 owed;
        uint256 stakes;
        for (uint256 i; i < 4; ++i) {
            LabelingEscrow.Position memory p = escrow.getPosition(cid, handler.actor(i));
            owed += uint256(p.claimable) + p.vesting;
            stakes += p.stake;
        }
        vm.assertEq(owed, c.committed, "committed == sum of claimable + vesting");
        vm.assertEq(stakes, c.stakes, "stakes == sum of positions");
    }

    function invariant_noPayWithoutSettledBatch() public view {
        if (handler.settled() == 0) vm.assertEq(handler.paid(), 0, "paid before any settlement");
    }

    function invariant_badgesNeverMove() public view {
        vm.assertFalse(handler.badgeMoved(), "a badge moved");
        for (uint256 i; i < 4; ++i) {
            address a = handler.actor(i);
            if (badge.balanceOf(a) > 0) vm.assertEq(badge.ownerOf(badge.tokenIdOf(a)), a, "badge with its labeler");
        }
    }
}

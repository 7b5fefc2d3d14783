// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {TestBase} from "./utils/TestBase.sol";
import {LabelingEscrow} from "../src/LabelingEscrow.sol";

/// An ERC-20 that, on every transfer, calls back into the escrow (withdraw / withdrawStake / close)
/// and records how that reentrant call ended.
contract MaliciousToken is ERC20 {
    LabelingEscrow public escrow;
    uint256 public campaignId;
    uint8 public mode; // 0 off, 1 withdraw, 2 withdrawStake, 3 close
    uint256 public attempts;
    uint256 public successes;
    bytes public lastError;

    constructor() ERC20("Evil", "EVIL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(LabelingEscrow e, uint256 id, uint8 m) external {
        escrow = e;
        campaignId = id;
        mode = m;
    }

    function _attack() internal {
        if (mode == 0 || address(escrow) == address(0)) return;
        attempts++;
        bytes memory data = mode == 1
            ? abi.encodeCall(LabelingEscrow.withdraw, (campaignId))
            : mode == 2 ? abi.encodeCall(LabelingEscrow.withdrawStake, (campaignId)) : abi.encodeCall(LabelingEscrow.close, (campaignId));
        (bool ok, bytes memory ret) = address(escrow).call(data);
        if (ok) successes++;
        else lastError = ret;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        _attack();
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _attack();
        return super.transferFrom(from, to, value);
    }
}

contract ReentrancyTest is TestBase {
    uint256 constant ORACLE_PK = 0xA11CE;
    MaliciousToken evil;
    LabelingEscrow escrow;
    address oracle;
    uint256 id;

    function setUp() public {
        oracle = vm.addr(ORACLE_PK);
        evil = new MaliciousToken();
        escrow = new LabelingEscrow(address(this));
        escrow.setTrustedOracle(oracle, true);
        // The token contract itself is requester and labeler, so its reentrant calls are authorised:
        // only the guard can stop them.
        evil.mint(address(evil), 1_000 ether);
        vm.startPrank(address(evil));
        evil.approve(address(escrow), type(uint256).max);
        LabelingEscrow.CampaignParams memory p;
        p.rewardPerLabel = 1 ether;
        p.requiredStake = 1 ether;
        p.immediateBps = 10_000;
        p.vestingPeriod = 1 days;
        p.deadline = uint64(block.timestamp + 30 days);
        p.settlementWindow = 1 days;
        id = escrow.createCampaign(IERC20(address(evil)), oracle, p, 100 ether);
        escrow.join(id, 1 ether);
        vm.stopPrank();
        LabelingEscrow.LabelerResult[] memory rs = new LabelingEscrow.LabelerResult[](1);
        rs[0] = LabelingEscrow.LabelerResult(address(evil), 10, 10_000);
        vm.prank(oracle);
        escrow.settle(id, keccak256("b"), 10, "bafy", rs);
    }

    function _expectGuarded() internal view {
        vm.assertEq(evil.attempts(), 1, "one reentry attempt");
        vm.assertEq(evil.successes(), 0, "reentry failed");
        vm.assertEq(
            keccak256(evil.lastError()),
            keccak256(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector)),
            "stopped by the guard"
        );
    }

    function test_reenterWithdrawFromWithdraw() public {
        evil.arm(escrow, id, 1);
        vm.prank(address(evil));
        escrow.withdraw(id);
        _expectGuarded();
        vm.assertEq(escrow.getPosition(id, address(evil)).withdrawn, 10 ether, "paid once");
        vm.assertEq(evil.balanceOf(address(escrow)), 90 ether + 1 ether, "budget + stake left");
    }

    function test_reenterCloseFromFund() public {
        evil.arm(escrow, id, 3);
        vm.prank(address(evil));
        escrow.fund(id, 5 ether);
        _expectGuarded();
        vm.assertTrue(escrow.getCampaign(id).open, "still open");
    }

    function test_reenterWithdrawStakeFromRefund() public {
        vm.prank(address(evil));
        escrow.close(id);
        vm.warp(block.timestamp + 1 days);
        evil.arm(escrow, id, 2);
        escrow.refund(id); // anyone may trigger the refund; the token re-enters on transfer
        _expectGuarded();
        vm.assertEq(escrow.getPosition(id, address(evil)).stake, 1 ether, "stake not taken twice");
        evil.arm(escrow, id, 0);
        vm.prank(address(evil));
        escrow.withdrawStake(id);
        vm.assertEq(evil.balanceOf(address(escrow)), 10 ether, "only the unwithdrawn pay remains");
    }
}

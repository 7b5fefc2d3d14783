// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "./utils/TestBase.sol";
import {LabelingEscrow} from "../src/LabelingEscrow.sol";
import {LabelerBadge} from "../src/LabelerBadge.sol";

contract LabelerBadgeTest is Fixture {
    string constant URI1 = "ipfs://bafy-badge-1";
    string constant URI2 = "ipfs://bafy-badge-2";

    function _work(bytes32 root, address who, uint32 accepted, uint16 q) internal {
        settle(root, one(r(who, accepted, q)));
    }

    function _mint(address who) internal returns (uint256 id) {
        vm.prank(oracle);
        id = badge.mint(who, URI1);
    }

    function test_interfaces() public view {
        vm.assertTrue(badge.supportsInterface(0xb45a3c0e), "ERC-5192");
        vm.assertTrue(badge.supportsInterface(0x80ac58cd), "ERC-721");
        vm.assertTrue(badge.supportsInterface(0x5b5e139f), "ERC-721 metadata");
        vm.assertTrue(badge.supportsInterface(0x49064906), "ERC-4906");
        vm.assertFalse(badge.supportsInterface(0xffffffff), "not 0xffffffff");
    }

    function test_mintNeedsSettledWorkAndIssuer() public {
        vm.prank(oracle);
        vm.expectRevert(abi.encodeWithSelector(LabelerBadge.NoSettledWork.selector, l1));
        badge.mint(l1, URI1);

        _work(keccak256("b1"), l1, 5, 9_000);
        bytes32 issuer = badge.ISSUER_ROLE();
        vm.prank(l1);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, l1, issuer));
        badge.mint(l1, URI1);

        vm.prank(oracle);
        vm.expectRevert(abi.encodeWithSelector(LabelerBadge.NotIpfsURI.selector, "https://x"));
        badge.mint(l1, "https://x");

        vm.recordLogs();
        uint256 id = _mint(l1);
        vm.assertEq(id, uint256(uint160(l1)), "token id is the address");
        vm.assertEq(badge.ownerOf(id), l1, "owner");
        vm.assertTrue(badge.locked(id), "locked");
        vm.assertEq(badge.levelOf(id), 1, "level 1 for 5 labels");
        vm.assertEq(badge.tokenURI(id), URI1, "uri");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool sawLocked;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == keccak256("Locked(uint256)")) sawLocked = abi.decode(logs[i].data, (uint256)) == id;
        }
        vm.assertTrue(sawLocked, "Locked event");

        vm.prank(oracle);
        vm.expectRevert(abi.encodeWithSelector(LabelerBadge.AlreadyHasBadge.selector, l1));
        badge.mint(l1, URI2);
    }

    function test_upgradeRaisesLevelAtThresholdsAndEmitsMetadataUpdate() public {
        _work(keccak256("b1"), l1, 5, 9_000);
        uint256 id = _mint(l1);
        _work(keccak256("b2"), l1, 10, 9_000); // 15 accepted, mean 9000 -> level 2
        vm.recordLogs();
        vm.prank(oracle);
        uint8 level = badge.upgrade(l1, URI2);
        vm.assertEq(level, 2, "level 2");
        vm.assertEq(badge.tokenURI(id), URI2, "new uri");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool sawUpdate;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == keccak256("MetadataUpdate(uint256)")) sawUpdate = true;
        }
        vm.assertTrue(sawUpdate, "ERC-4906 MetadataUpdate");

        // quality drops below the level-2 bar: the level stays (levels never go down)
        _work(keccak256("b3"), l1, 100, 1_000);
        vm.prank(oracle);
        vm.assertEq(badge.upgrade(l1, URI1), 2, "level kept");

        vm.prank(oracle);
        vm.expectRevert(abi.encodeWithSelector(LabelerBadge.NoBadge.selector, l2));
        badge.upgrade(l2, URI1);
    }

    function test_levelThresholds() public view {
        vm.assertEq(badge.levelAt(0, 10_000), 0, "none");
        vm.assertEq(badge.levelAt(1, 0), 1, "contributor");
        vm.assertEq(badge.levelAt(10, 6_999), 1, "bronze needs 70%");
        vm.assertEq(badge.levelAt(10, 7_000), 2, "bronze");
        vm.assertEq(badge.levelAt(100, 8_500), 3, "silver");
        vm.assertEq(badge.levelAt(999, 10_000), 3, "gold needs 1000");
        vm.assertEq(badge.levelAt(1000, 9_500), 4, "gold");
        vm.assertEq(badge.levelAt(1000, 9_499), 3, "gold needs 95%");
    }

    function testFuzz_badgesNeverMove(address to, uint256 how) public {
        _work(keccak256("b1"), l1, 5, 9_000);
        uint256 id = _mint(l1);
        vm.assume(to != address(0) && to != l1);
        vm.startPrank(l1);
        how = how % 4;
        vm.expectRevert(abi.encodeWithSelector(LabelerBadge.Soulbound.selector, how == 3 ? 0 : id));
        if (how == 0) badge.transferFrom(l1, to, id);
        else if (how == 1) badge.safeTransferFrom(l1, to, id);
        else if (how == 2) badge.approve(to, id);
        else badge.setApprovalForAll(to, true);
        vm.stopPrank();
        vm.assertEq(badge.ownerOf(id), l1, "still with the labeler");
    }

    function test_burnByOwnerOrIssuerThenRemint() public {
        _work(keccak256("b1"), l1, 5, 9_000);
        uint256 id = _mint(l1);
        vm.prank(l2);
        vm.expectRevert(abi.encodeWithSelector(LabelerBadge.NotOwnerOrIssuer.selector, l2));
        badge.burn(id);
        vm.prank(l1);
        badge.burn(id);
        vm.assertEq(badge.balanceOf(l1), 0, "burned");
        vm.assertEq(badge.levelOf(id), 0, "level cleared");
        _mint(l1);
        vm.prank(oracle);
        badge.burn(id);
        vm.assertEq(badge.balanceOf(l1), 0, "issuer may burn");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC5192} from "./IERC5192.sol";
import {ILabelerStats} from "./ILabelerStats.sol";

/// @title LabelerBadge: one soulbound ERC-721 per labeler certifying level and datasets worked on.
/// @notice The token id is the labeler's address (`uint256(uint160(labeler))`), so a labeler holds at
/// most one badge. Badges never move (ERC-5192 `locked` is always true; transfers and approvals
/// revert); they can be minted and burned. Only ISSUER_ROLE holders (the escrow's oracle, the
/// labeling service) mint and upgrade them, and the level is not theirs to choose: it is computed
/// from the labeler's settled work in the escrow (`ILabelerStats`, which counts only settlements by
/// oracles the escrow owner trusts) at these thresholds:
///   level 1 Contributor: >= 1 accepted label
///   level 2 Bronze:      >= 10 accepted labels and accepted-weighted mean quality >= 7000 bps
///   level 3 Silver:      >= 100 accepted labels and mean quality >= 8500 bps
///   level 4 Gold:        >= 1000 accepted labels and mean quality >= 9500 bps
/// A level never goes down. `tokenURI` is the `ipfs://` URI of a JSON document (level, dataset CIDs)
/// the issuer pins; every change emits ERC-4906 `MetadataUpdate`.
contract LabelerBadge is ERC721URIStorage, AccessControl, IERC5192 {
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    uint8 public constant MAX_LEVEL = 4;

    ILabelerStats public immutable stats;
    mapping(uint256 => uint8) public levelOf;

    error Soulbound(uint256 tokenId);
    error NoSettledWork(address labeler);
    error AlreadyHasBadge(address labeler);
    error NoBadge(address labeler);
    error NotIpfsURI(string uri);
    error NotOwnerOrIssuer(address caller);

    event LevelRaised(address indexed labeler, uint256 indexed tokenId, uint8 fromLevel, uint8 toLevel);

    constructor(ILabelerStats stats_, address admin) ERC721("instruct3 Labeler Badge", "I3BADGE") {
        stats = stats_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function tokenIdOf(address labeler) public pure returns (uint256) {
        return uint256(uint160(labeler));
    }

    /// @notice The level a labeler's settled work earns now (0 = none yet).
    function levelFor(address labeler) public view returns (uint8) {
        (uint64 accepted, uint16 quality,) = stats.labelerStats(labeler);
        return levelAt(accepted, quality);
    }

    function levelAt(uint256 accepted, uint256 qualityBps) public pure returns (uint8) {
        if (accepted >= 1000 && qualityBps >= 9500) return 4;
        if (accepted >= 100 && qualityBps >= 8500) return 3;
        if (accepted >= 10 && qualityBps >= 7000) return 2;
        if (accepted >= 1) return 1;
        return 0;
    }

    /// @notice Mint the labeler's badge at the level their settled work earns.
    function mint(address labeler, string calldata uri) external onlyRole(ISSUER_ROLE) returns (uint256 tokenId) {
        tokenId = tokenIdOf(labeler);
        if (_ownerOf(tokenId) != address(0)) revert AlreadyHasBadge(labeler);
        uint8 level = levelFor(labeler);
        if (level == 0) revert NoSettledWork(labeler);
        _checkURI(uri);
        levelOf[tokenId] = level;
        // _mint, not _safeMint: no callback into the receiver, and badges go to labelers' keys.
        _mint(labeler, tokenId);
        _setTokenURI(tokenId, uri);
        emit Locked(tokenId);
        emit LevelRaised(labeler, tokenId, 0, level);
    }

    /// @notice Raise the badge to the level the labeler's work now earns (never lowers it) and point
    /// it at new metadata (e.g. with a newly settled dataset CID). Emits MetadataUpdate.
    function upgrade(address labeler, string calldata uri) external onlyRole(ISSUER_ROLE) returns (uint8 level) {
        uint256 tokenId = tokenIdOf(labeler);
        if (_ownerOf(tokenId) == address(0)) revert NoBadge(labeler);
        _checkURI(uri);
        uint8 current = levelOf[tokenId];
        level = levelFor(labeler);
        if (level > current) {
            levelOf[tokenId] = level;
            emit LevelRaised(labeler, tokenId, current, level);
        } else {
            level = current;
        }
        _setTokenURI(tokenId, uri);
    }

    /// @notice Burn a badge: its owner may, and so may an issuer (e.g. after proven fraud).
    function burn(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner && !hasRole(ISSUER_ROLE, msg.sender)) revert NotOwnerOrIssuer(msg.sender);
        delete levelOf[tokenId];
        _burn(tokenId);
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    function approve(address, uint256 tokenId) public pure override(ERC721, IERC721) {
        revert Soulbound(tokenId);
    }

    function setApprovalForAll(address, bool) public pure override(ERC721, IERC721) {
        revert Soulbound(0);
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, AccessControl)
        returns (bool)
    {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    /// Every transfer between two accounts reverts; mint (from 0) and burn (to 0) pass.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert Soulbound(tokenId);
        return super._update(to, tokenId, auth);
    }

    function _checkURI(string calldata uri) internal pure {
        bytes calldata b = bytes(uri);
        if (b.length <= 7 || bytes7(b[:7]) != bytes7("ipfs://")) revert NotIpfsURI(uri);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @notice ERC-5192 minimal soulbound NFTs (OpenZeppelin ships no interface for it).
/// The interface id (the selector of `locked`) is 0xb45a3c0e.
interface IERC5192 {
    /// @notice Emitted when the locking status is changed to locked.
    event Locked(uint256 tokenId);
    /// @notice Emitted when the locking status is changed to unlocked.
    event Unlocked(uint256 tokenId);

    /// @notice Whether the token is bound to its owner (always true for a badge).
    function locked(uint256 tokenId) external view returns (bool);
}
